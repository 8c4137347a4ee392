package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Claim is the right to deliver a person's outbox. Entries are the
// committed effects in commit order (each as given to Commit); the holder
// delivers them and then acknowledges them with AckMany, which hands over
// whatever was committed meanwhile. A claim lapses after one lease, so
// effects left by a process that stopped are delivered by another (see
// Pending and ClaimOutbox).
type Claim struct {
	User    int64
	Entries [][]byte
	seqs    []int64 // the entries' numbers in the outbox
	token   string
}

// Ack says that a claim's current entries were delivered (or given up on
// and kept as dead letters).
type Ack struct {
	Claim *Claim
}

// AckResult is what became of an Ack: Lost when the claim had lapsed and
// another process took over (it delivers what remains); otherwise the
// claim's Entries now hold what was committed meanwhile, to deliver under
// the same claim, and none means the claim was let go.
type AckResult struct {
	Lost bool
	Err  error
}

// KEYS home; ARGV token lease_ms n...
var ackScript = redis.NewScript(luaCommon + `
local h = redis.call('HMGET', KEYS[1], 'od', 'op', 'q', 'gone')
if not holder(h[1], ARGV[1]) then return {'lost'} end
local del = {}
for i = 3, #ARGV do del[#del + 1] = 'o:' .. ARGV[i] end
local removed = 0
if #del > 0 then removed = redis.call('HDEL', KEYS[1], unpack(del)) end
local op = math.max(tonumber(h[2] or '0') - removed, 0)
if op > 0 then
  local rest = outbox()
  if #rest > 0 then
    redis.call('HSET', KEYS[1], 'op', #rest / 2, 'od', ARGV[1] .. ':' .. (now_ms() + tonumber(ARGV[2])))
    local out = {'more'}
    for _, v in ipairs(rest) do out[#out + 1] = v end
    return out
  end
end
if h[4] == '1' and tonumber(h[3] or '0') == 0 then
  -- The person was forgotten and the last reply is out: nothing stays.
  redis.call('DEL', KEYS[1])
else
  redis.call('HSET', KEYS[1], 'op', 0, 'od', '')
end
return {'done'}
`)

// KEYS home; ARGV token lease_ms
var claimScript = redis.NewScript(luaCommon + `
local h = redis.call('HMGET', KEYS[1], 'od', 'op')
if tonumber(h[2] or '0') == 0 then return {'idle'} end
local now = now_ms()
if held(h[1], now) then return {'busy', left(h[1], now)} end
local rest = outbox()
if #rest == 0 then
  redis.call('HSET', KEYS[1], 'op', 0, 'od', '')
  return {'idle'}
end
redis.call('HSET', KEYS[1], 'od', ARGV[1] .. ':' .. (now + tonumber(ARGV[2])))
local out = {'claimed'}
for _, v in ipairs(rest) do out[#out + 1] = v end
return out
`)

// fillClaim sets a claim's entries from a script's reply: n1, sealed e1, …
func (s *Store) fillClaim(c *Claim, raw []any) error {
	aad := []byte(keysOf(c.User).state + "/out")
	c.Entries, c.seqs = nil, nil
	for i := 0; i+1 < len(raw); i += 2 {
		n, ok := raw[i].(int64)
		sealed, ok2 := raw[i+1].(string)
		if !ok || !ok2 {
			return fmt.Errorf("outbox of %d: entry of types %T, %T", c.User, raw[i], raw[i+1])
		}
		plain, err := s.sealer.Open([]byte(sealed), aad)
		if err != nil {
			// Sealed with a key that was rotated away: it cannot be
			// delivered; an empty entry is acknowledged and skipped.
			plain = nil
		}
		c.Entries = append(c.Entries, plain)
		c.seqs = append(c.seqs, n)
	}
	return nil
}

// AckMany acknowledges delivered entries of many people together. Nobody
// waits for an acknowledgement to answer a person, so they ride along with
// the next pipeline of updates, or go by themselves after a moment (see
// batcher): they cost next to nothing per update.
func (s *Store) AckMany(ctx context.Context, acks []Ack) []AckResult {
	out := make([]AckResult, len(acks))
	if len(acks) == 0 {
		return out
	}
	calls := make([]*call, len(acks))
	for i, a := range acks {
		c := a.Claim
		args := make([]any, 0, 2+len(c.seqs))
		args = append(args, c.token, s.opt.Lease.Milliseconds())
		for _, n := range c.seqs {
			args = append(args, n)
		}
		calls[i] = &call{ctx: ctx, script: ackScript, keys: []string{keysOf(c.User).state}, args: args, done: make(chan struct{})}
	}
	s.batch.runLazy(calls)
	for i, a := range acks {
		c, call := a.Claim, calls[i]
		cmd := redis.NewCmd(ctx)
		cmd.SetVal(call.res)
		cmd.SetErr(call.err)
		res, err := cmd.Slice()
		if err != nil {
			out[i].Err = fmt.Errorf("ack outbox of %d: %w", c.User, err)
			continue
		}
		switch res[0] {
		case "lost":
			out[i].Lost = true
		case "more":
			out[i].Err = s.fillClaim(c, res[1:])
		default:
			c.Entries, c.seqs = nil, nil
		}
	}
	return out
}

func isNoScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

// ClaimOutbox takes a person's outbox if it holds effects and nobody is
// delivering them (the process that committed them stopped). It returns
// a nil claim when there is nothing to do now, and when another process
// holds the outbox, how long until its claim lapses.
func (s *Store) ClaimOutbox(ctx context.Context, user int64) (*Claim, time.Duration, error) {
	token := newToken()
	res, err := claimScript.Run(ctx, s.rdb, []string{keysOf(user).state}, token, s.opt.Lease.Milliseconds()).Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("claim outbox of %d: %w", user, err)
	}
	switch res[0] {
	case "busy":
		ms, _ := res[1].(int64)
		return nil, time.Duration(max(ms, 1)) * time.Millisecond, nil
	case "claimed":
	default:
		return nil, 0, nil
	}
	c := &Claim{User: user, token: token}
	if err := s.fillClaim(c, res[1:]); err != nil {
		return nil, 0, fmt.Errorf("claim outbox of %d: %w", user, err)
	}
	return c, 0, nil
}

// RenewClaim extends a claim while its effects are being delivered (a long
// retry_after, say).
func (s *Store) RenewClaim(ctx context.Context, c *Claim) error {
	n, err := renewScript.Run(ctx, s.rdb, []string{keysOf(c.User).state}, c.token, s.opt.Lease.Milliseconds(), "od").Int()
	if err != nil {
		return fmt.Errorf("renew outbox claim of %d: %w", c.User, err)
	}
	if n == 0 {
		return fmt.Errorf("renew outbox claim of %d: %w", c.User, ErrLeaseLost)
	}
	return nil
}

// OutboxLen is how many committed entries of a person wait for delivery,
// for tests and tools.
func (s *Store) OutboxLen(ctx context.Context, user int64) (int, error) {
	v, err := s.rdb.HGet(ctx, keysOf(user).state, "op").Result()
	if err == redis.Nil {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("outbox of %d: %w", user, err)
	}
	n, _ := strconv.Atoi(v)
	return n, nil
}

// DeadLetter keeps an effect that kept failing, sealed, for the operator
// (kept as long as the outbox would have kept it).
func (s *Store) DeadLetter(ctx context.Context, user int64, effect []byte) error {
	k := keysOf(user)
	sealed := s.sealer.Seal(effect, []byte(k.dead))
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, k.dead, sealed)
		p.PExpire(ctx, k.dead, s.opt.OutboxTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("dead-letter an effect of %d: %w", user, err)
	}
	return nil
}

// DeadLetters returns a person's dead letters, for the operator and tests.
func (s *Store) DeadLetters(ctx context.Context, user int64) ([][]byte, error) {
	k := keysOf(user)
	raw, err := s.rdb.LRange(ctx, k.dead, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("dead letters of %d: %w", user, err)
	}
	var out [][]byte
	for _, r := range raw {
		plain, err := s.sealer.Open([]byte(r), []byte(k.dead))
		if err != nil {
			return nil, fmt.Errorf("dead letters of %d: %w", user, err)
		}
		out = append(out, plain)
	}
	return out, nil
}

// Pending lists people with work a stopped process left: queued updates
// nobody holds the lease for, or effects nobody delivers; with held, also
// those whose lease or claim has not lapsed yet (a starting process looks
// again when they lapse: the process holding them may be the one that just
// died). A starting process, and every process from time to time, picks
// those up (in-process retries died with their process). It walks the people's homes with SCAN
// on every master, reading four small fields of each in pipelines of a
// thousand: about a second of Redis time per million people, which is far
// cheaper than keeping an index of pending work beside every update.
func (s *Store) Pending(ctx context.Context, held bool, each func(user int64)) error {
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		now, err := c.Time(ctx).Result()
		if err != nil {
			return fmt.Errorf("server time: %w", err)
		}
		nowMS := now.UnixMilli()
		lapsed := func(v string) bool {
			if held {
				return true
			}
			_, dl, ok := strings.Cut(v, ":")
			ms, err := strconv.ParseInt(dl, 10, 64)
			return !ok || err != nil || ms <= nowMS
		}
		iter := c.Scan(ctx, 0, "{u:*}:state", 1000).Iterator()
		var batch []string
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			cmds := make([]*redis.SliceCmd, len(batch))
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i, k := range batch {
					cmds[i] = p.HMGet(ctx, k, "q", "lk", "op", "od")
				}
				return nil
			})
			if err != nil && err != redis.Nil {
				return fmt.Errorf("read pending work: %w", err)
			}
			for i, k := range batch {
				v := cmds[i].Val()
				str := func(j int) string { s, _ := v[j].(string); return s }
				if (str(0) != "" && str(0) != "0" && lapsed(str(1))) || (str(2) != "" && str(2) != "0" && lapsed(str(3))) {
					idStr, _, _ := strings.Cut(strings.TrimPrefix(k, "{u:"), "}")
					if id, err := strconv.ParseInt(idStr, 10, 64); err == nil {
						each(id)
					}
				}
			}
			batch = batch[:0]
			return nil
		}
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 1000 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return fmt.Errorf("scan homes: %w", err)
		}
		return flush()
	}
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	}
	if err := scan(ctx, s.rdb); err != nil {
		return fmt.Errorf("pending work: %w", err)
	}
	return nil
}
