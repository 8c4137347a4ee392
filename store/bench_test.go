package store

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"pensionbot/internal/proctest"
	"pensionbot/internal/redistest"
	"pensionbot/secret"
)

// BenchmarkUpdateCycle runs the common path of one update (enqueue, commit
// with one effect, acknowledgement) for many people at once against its own
// redis-server, and reports the server's CPU time per update.
func BenchmarkUpdateCycle(b *testing.B) {
	rs, err := redistest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer rs.Close()
	c := rs.Client(b, 0)
	sl, _ := secret.Parse(secret.NewKey())
	s := New(c, sl, Options{})
	ctx := context.Background()
	state := bytes.Repeat([]byte("s"), 600)
	effects := bytes.Repeat([]byte("e"), 400)
	const workers = 64
	cpu0 := procCPU(b, rs.PID())
	b.ResetTimer()
	var wg sync.WaitGroup
	acks := make(chan Ack, workers)
	done := make(chan struct{})
	go func() { // one acknowledger batching, as the bot does
		defer close(done)
		var batch []Ack
		for a := range acks {
			batch = append(batch[:0], a)
		more:
			for {
				select {
				case a, ok := <-acks:
					if !ok {
						break more
					}
					batch = append(batch, a)
				default:
					break more
				}
			}
			s.AckMany(ctx, batch)
		}
	}()
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < b.N; i += workers {
				user := int64(i % 5000)
				e, err := s.Enqueue(ctx, user, int64(i+1), []byte("update"), false)
				if err != nil || e.Lease == nil {
					continue
				}
				cm, err := s.Commit(ctx, e.Lease, Save, state, effects)
				if err == nil && cm.Claim != nil {
					acks <- Ack{Claim: cm.Claim}
				}
			}
		}()
	}
	wg.Wait()
	close(acks)
	<-done
	b.StopTimer()
	b.ReportMetric(float64((procCPU(b, rs.PID())-cpu0).Microseconds())/float64(b.N), "redis-µs/update")
	_ = time.Now
}

func procCPU(b *testing.B, pid int) time.Duration {
	d, err := proctest.CPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	return d
}
