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
	token   string
}

// Ack says that the first N entries of a claim were delivered (or given
// up on and moved to the dead letters).
type Ack struct {
	Claim *Claim
	N     int
}

// AckResult is what became of an Ack: Lost when the claim had lapsed and
// another process took over (it delivers what remains), otherwise Next
// holds the entries committed meanwhile, to deliver under the same claim;
// an empty Next means the claim was let go.
type AckResult struct {
	Lost bool
	Next [][]byte
	Err  error
}

// KEYS out outlock; ARGV token n lease_ms
var ackScript = redis.NewScript(`
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return {'lost'} end
redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
local rest = redis.call('LRANGE', KEYS[1], 0, -1)
if #rest == 0 then
  redis.call('DEL', KEYS[2])
  return {'done'}
end
redis.call('PEXPIRE', KEYS[2], ARGV[3])
local out = {'more'}
for _, e in ipairs(rest) do out[#out + 1] = e end
return out
`)

// KEYS out outlock; ARGV token lease_ms
var claimScript = redis.NewScript(`
if redis.call('LLEN', KEYS[1]) == 0 then return {'idle'} end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {'busy', redis.call('PTTL', KEYS[2])} end
local out = {'claimed'}
for _, e in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do out[#out + 1] = e end
return out
`)

func (s *Store) openEntries(user int64, raw []any) ([][]byte, error) {
	k := keysOf(user)
	out := make([][]byte, 0, len(raw))
	for _, r := range raw {
		sealed, ok := r.(string)
		if !ok {
			return nil, fmt.Errorf("outbox of %d: entry of type %T", user, r)
		}
		plain, err := s.sealer.Open([]byte(sealed), []byte(k.out))
		if err != nil {
			// Sealed with a key that was rotated away: it cannot be
			// delivered; an empty entry keeps the count right and is
			// skipped by the dispatcher.
			plain = nil
		}
		out = append(out, plain)
	}
	return out, nil
}

// AckMany acknowledges delivered entries of many people in one round trip
// (a pipeline; on Redis Cluster one per node), which is why acknowledging
// costs next to nothing per update.
func (s *Store) AckMany(ctx context.Context, acks []Ack) []AckResult {
	out := make([]AckResult, len(acks))
	if len(acks) == 0 {
		return out
	}
	cmds := make([]*redis.Cmd, len(acks))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, a := range acks {
			k := keysOf(a.Claim.User)
			cmds[i] = ackScript.EvalSha(ctx, p, []string{k.out, k.outlock}, a.Claim.token, a.N, s.opt.Lease.Milliseconds())
		}
		return nil
	})
	if err != nil && !isNoScript(err) {
		for i := range out {
			if cmds[i].Err() != nil {
				out[i].Err = fmt.Errorf("ack outbox of %d: %w", acks[i].Claim.User, cmds[i].Err())
			}
		}
	}
	for i, a := range acks {
		cmd := cmds[i]
		if cmd.Err() != nil && isNoScript(cmd.Err()) {
			// The script cache was flushed (a restarted Redis): run it
			// with its source once.
			k := keysOf(a.Claim.User)
			cmd = ackScript.Run(ctx, s.rdb, []string{k.out, k.outlock}, a.Claim.token, a.N, s.opt.Lease.Milliseconds())
		}
		res, err := cmd.Slice()
		if err != nil {
			out[i].Err = fmt.Errorf("ack outbox of %d: %w", a.Claim.User, err)
			continue
		}
		switch res[0] {
		case "lost":
			out[i].Lost = true
		case "more":
			out[i].Next, out[i].Err = s.openEntries(a.Claim.User, res[1:])
			a.Claim.Entries = out[i].Next
		case "done":
			a.Claim.Entries = nil
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
	k := keysOf(user)
	token := newToken()
	res, err := claimScript.Run(ctx, s.rdb, []string{k.out, k.outlock}, token, s.opt.Lease.Milliseconds()).Slice()
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
	entries, err := s.openEntries(user, res[1:])
	if err != nil {
		return nil, 0, fmt.Errorf("claim outbox of %d: %w", user, err)
	}
	return &Claim{User: user, token: token, Entries: entries}, 0, nil
}

// RenewClaim extends a claim while its effects are being delivered (a long
// retry_after, say).
func (s *Store) RenewClaim(ctx context.Context, c *Claim) error {
	n, err := renewScript.Run(ctx, s.rdb, []string{keysOf(c.User).outlock}, c.token, s.opt.Lease.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("renew outbox claim of %d: %w", c.User, err)
	}
	if n == 0 {
		return fmt.Errorf("renew outbox claim of %d: %w", c.User, ErrLeaseLost)
	}
	return nil
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

// Pending lists people whose inbox or outbox holds work, so that a starting
// process, and every process from time to time, picks up what a stopped
// process left (its in-process retries died with it). It walks the
// keyspace with SCAN, on every master of a cluster: inboxes and outboxes
// exist only while they hold work, so only those match, and the walk runs
// rarely (once a minute), which costs far less than keeping an index
// beside every update.
func (s *Store) Pending(ctx context.Context, each func(user int64)) error {
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		for _, pattern := range []string{"{u:*}:inbox", "{u:*}:out"} {
			iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
			for iter.Next(ctx) {
				key := iter.Val()
				idStr, ok := strings.CutPrefix(key, "{u:")
				if !ok {
					continue
				}
				idStr, _, _ = strings.Cut(idStr, "}")
				if id, err := strconv.ParseInt(idStr, 10, 64); err == nil {
					each(id)
				}
			}
			if err := iter.Err(); err != nil {
				return fmt.Errorf("scan %s: %w", pattern, err)
			}
		}
		return nil
	}
	if cc, ok := s.rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	}
	if err := scan(ctx, s.rdb); err != nil {
		return fmt.Errorf("pending work: %w", err)
	}
	return nil
}
