package store

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// batcher sends the scripts of many people's updates to Redis together: a
// call waits only for the pipeline in flight, and everything that arrived
// meanwhile goes out in the next one (group commit). Under load hundreds of
// updates share a round trip, which saves Redis most of its per-request
// work (a wake-up, a read and a write per client) and the bot as many
// system calls; alone, a call goes out at once. On Redis Cluster go-redis
// splits a pipeline by node.
type batcher struct {
	rdb  redis.UniversalClient
	reqs chan *call
	once sync.Once
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
)

func newBatcher(rdb redis.UniversalClient) *batcher {
	return &batcher{rdb: rdb, reqs: make(chan *call, 4*maxBatch)}
}

// run runs a script through the batcher and returns its reply.
func (b *batcher) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	b.once.Do(func() {
		for range loops {
			go b.loop()
		}
	})
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
		cmds = cmds[:0]
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
	}
}
