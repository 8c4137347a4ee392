package store

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// batcher sends the scripts of many people's updates to Redis together: a
// call waits only for the pipeline in flight, and everything that arrived
// meanwhile goes out in the next one (group commit). Under load hundreds of
// updates share a round trip, which saves Redis most of its per-request
// work (a wake-up, a read and a write per client) and the bot as many
// system calls; alone, a call goes out at once. On Redis Cluster go-redis
// splits a pipeline by node.
//
// Acknowledgements are lazy: nobody waits for them to answer a person, so
// they wait up to linger for a pipeline that goes out anyway and ride
// along. At a moderate load, when people's updates rarely meet, an update
// so costs two round trips instead of three.
type batcher struct {
	rdb  redis.UniversalClient
	reqs chan *call
	once sync.Once

	mu    sync.Mutex
	lazy  []*call     // waiting for a pipeline, or for timer
	timer *time.Timer // sends lazy calls by themselves after linger
}

type call struct {
	ctx    context.Context
	script *redis.Script
	keys   []string
	args   []any
	res    any
	err    error
	done   chan struct{}
}

// maxBatch bounds one pipeline; loops is how many pipelines may be in
// flight at once, so one slow reply does not hold everyone up.
const (
	maxBatch = 256
	loops    = 4
	linger   = 2 * time.Millisecond
)

func newBatcher(rdb redis.UniversalClient) *batcher {
	return &batcher{rdb: rdb, reqs: make(chan *call, 4*maxBatch)}
}

func (b *batcher) start() {
	b.once.Do(func() {
		for range loops {
			go b.loop()
		}
	})
}

// run runs a script through the batcher and returns its reply.
func (b *batcher) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	b.start()
	c := &call{ctx: ctx, script: script, keys: keys, args: args, done: make(chan struct{})}
	cmd := redis.NewCmd(ctx)
	select {
	case b.reqs <- c:
	case <-ctx.Done():
		cmd.SetErr(ctx.Err())
		return cmd
	}
	<-c.done
	cmd.SetVal(c.res)
	cmd.SetErr(c.err)
	return cmd
}

// runLazy runs calls that may wait up to linger for a pipeline going out
// anyway, and returns when all have their replies.
func (b *batcher) runLazy(calls []*call) {
	b.start()
	b.mu.Lock()
	b.lazy = append(b.lazy, calls...)
	if b.timer == nil {
		b.timer = time.AfterFunc(linger, func() {
			if l := b.takeLazy(); len(l) > 0 {
				b.send(l, nil)
			}
		})
	}
	b.mu.Unlock()
	for _, c := range calls {
		<-c.done
	}
}

// takeLazy takes the lazy calls waiting, to send them now.
func (b *batcher) takeLazy() []*call {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.lazy
	b.lazy = nil
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	return l
}

func (b *batcher) loop() {
	batch := make([]*call, 0, maxBatch)
	cmds := make([]*redis.Cmd, 0, maxBatch)
	for first := range b.reqs {
		batch = append(batch[:0], first)
	more:
		for len(batch) < maxBatch {
			select {
			case c := <-b.reqs:
				batch = append(batch, c)
			default:
				break more
			}
		}
		batch = append(batch, b.takeLazy()...)
		cmds = b.send(batch, cmds[:0])
	}
}

// send runs a batch of calls in one pipeline (cmds is a buffer for the
// replies, returned for reuse) and hands each its reply.
func (b *batcher) send(batch []*call, cmds []*redis.Cmd) []*redis.Cmd {
	if len(batch) == 1 {
		c := batch[0]
		cmds = append(cmds, c.script.Run(c.ctx, b.rdb, c.keys, c.args...))
	} else {
		// Each call keeps its own context for its reply; the pipeline
		// as a whole runs without one, so that one caller giving up
		// does not fail the others.
		b.rdb.Pipelined(context.Background(), func(p redis.Pipeliner) error {
			for _, c := range batch {
				cmds = append(cmds, c.script.EvalSha(context.Background(), p, c.keys, c.args...))
			}
			return nil
		})
	}
	for i, c := range batch {
		cmd := cmds[i]
		if isNoScript(cmd.Err()) {
			// The script cache was flushed (a restarted Redis).
			cmd = c.script.Run(c.ctx, b.rdb, c.keys, c.args...)
		}
		c.res, c.err = cmd.Val(), cmd.Err()
		close(c.done)
	}
	return cmds
}
