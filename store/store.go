// Package store keeps each person's dialogue state in Redis and makes sure
// a person's updates are applied one at a time, in order, exactly once, by
// any number of bot processes sharing one Redis.
//
// Every update first goes into the person's inbox (a sorted set ordered by
// update_id, with the encrypted update beside it). Whoever then holds the
// person's lease drains the inbox: it loads the state, applies the oldest
// update, and commits in one script, which checks the lease: the new state,
// the removal of that update, and the update's effects appended to the
// person's outbox (a transactional outbox: what a step wants done outside
// is stored with the state it leads to, or not at all). The same script
// lets the lease go when the inbox is empty and hands the outbox to the
// committer unless another process is delivering it, so a person's effects
// leave in commit order whichever replica committed them. On the common
// path an update costs two round trips: enqueue-and-lease and commit; the
// acknowledgements of delivered effects are batched across people (see
// AckMany).
//
// Keys of one person share a hash tag ({u:42}), so the scripts also work on
// Redis Cluster. Values that may hold personal data (states, queued
// updates) are sealed with AES-GCM, bound to their key.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/secret"
)

// Options tune a Store. Zero values take the defaults.
type Options struct {
	// IdleTTL is how long a state is kept after the person's last update
	// (default 30 days).
	IdleTTL time.Duration
	// Lease is how long one process may hold a person's inbox before
	// another may take over (default 60 s; renewed while working).
	Lease time.Duration
	// MaxInbox bounds the updates waiting for one person; more are refused,
	// which stops a flood from growing Redis without bound (default 500:
	// far more than a person types, enough for bursts of redeliveries).
	MaxInbox int
	// SensitiveTTL replaces IdleTTL for states saved with SaveSensitive:
	// typed personal data of an unfinished certification is not kept for
	// the whole idle time (default: IdleTTL).
	SensitiveTTL time.Duration
	// SeenKeep is how many recent update IDs are remembered per person to
	// drop redeliveries (default 256).
	SeenKeep int
	// OutboxTTL bounds how long undelivered effects are kept (default 48 h:
	// after that Telegram would refuse deleting the messages anyway, and a
	// reply that late helps nobody).
	OutboxTTL time.Duration
}

// Store is a Redis-backed state store. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	sealer *secret.Sealer
	opt    Options
}

// New returns a store on rdb, sealing values with sealer.
func New(rdb redis.UniversalClient, sealer *secret.Sealer, opt Options) *Store {
	if opt.IdleTTL <= 0 {
		opt.IdleTTL = 30 * 24 * time.Hour
	}
	if opt.Lease <= 0 {
		opt.Lease = 60 * time.Second
	}
	if opt.SensitiveTTL <= 0 || opt.SensitiveTTL > opt.IdleTTL {
		opt.SensitiveTTL = opt.IdleTTL
	}
	if opt.MaxInbox <= 0 {
		opt.MaxInbox = 500
	}
	if opt.SeenKeep <= 0 {
		opt.SeenKeep = 256
	}
	if opt.OutboxTTL <= 0 {
		opt.OutboxTTL = 48 * time.Hour
	}
	return &Store{rdb: rdb, sealer: sealer, opt: opt}
}

// ErrLeaseLost means another process took over the person's inbox (this
// one was too slow or paused); nothing was committed and the update stays
// queued for the new holder.
var ErrLeaseLost = errors.New("lease lost")

// Status says what Enqueue did with an update.
type Status int

// The outcomes of Enqueue.
const (
	Queued    Status = iota + 1
	Duplicate        // seen before: dropped
	Full             // too many waiting: dropped
)

func (s Status) String() string {
	switch s {
	case Queued:
		return "queued"
	case Duplicate:
		return "duplicate"
	case Full:
		return "full"
	}
	return "unknown"
}

// Item is one queued update.
type Item struct {
	UpdateID int64
	Payload  []byte
}

// Lease is the right to apply a person's queued updates. Item is the update
// to apply now, State the person's current state (nil for none).
type Lease struct {
	User  int64
	State []byte
	Item  Item
	token string
}

// Enqueued is the outcome of Enqueue.
type Enqueued struct {
	Status Status
	// Lease is set when this caller must drain the inbox.
	Lease *Lease
	// Busy is set when another holder has the lease; RetryIn is when it
	// expires, after which the caller should try Acquire in case the holder
	// died.
	Busy    bool
	RetryIn time.Duration
}

type keys struct {
	state, inbox, items, seen, lock, card, face, liveness, record string
	out, outlock, dead                                            string
}

func keysOf(user int64) keys {
	tag := "{u:" + strconv.FormatInt(user, 10) + "}"
	return keys{
		state: tag + ":state",
		inbox: tag + ":inbox",
		items: tag + ":items",
		seen:  tag + ":seen",
		lock:  tag + ":lock",
		// Deleted with the state on /forget (see Photos).
		card:     tag + ":photo:card",
		face:     tag + ":photo:face",
		liveness: tag + ":photo:liveness",
		record:   tag + ":record",
		// The outbox: effects committed but not yet delivered, the claim
		// of the process delivering them, and those that kept failing.
		out:     tag + ":out",
		outlock: tag + ":outlock",
		dead:    tag + ":dead",
	}
}

func (k keys) list() []string {
	return []string{k.state, k.inbox, k.items, k.seen, k.lock, k.card, k.face, k.liveness, k.record, k.out, k.outlock, k.dead}
}

// lockAndPeek is shared by the scripts: take the lease if the inbox has
// work, and return the oldest update with the state.
const lockAndPeek = `
local function lock_and_peek(status)
  if redis.call('ZCARD', KEYS[2]) == 0 then return {status} end
  if not redis.call('SET', KEYS[5], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return {status, 'busy', redis.call('PTTL', KEYS[5])}
  end
  local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  return {status, 'locked', first, redis.call('HGET', KEYS[3], first), redis.call('HGET', KEYS[1], 's')}
end
`

// KEYS state inbox items seen lock; ARGV token lease_ms update_id payload
// max_inbox seen_keep ttl_ms
var enqueueScript = redis.NewScript(lockAndPeek + `
local id = ARGV[3]
local status = 'queued'
if redis.call('ZSCORE', KEYS[4], id) then
  status = 'duplicate'
else
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
    status = 'full'
  else
    redis.call('ZADD', KEYS[2], id, id)
    redis.call('HSET', KEYS[3], id, ARGV[4])
    redis.call('PEXPIRE', KEYS[2], ARGV[7])
    redis.call('PEXPIRE', KEYS[3], ARGV[7])
  end
  redis.call('ZADD', KEYS[4], id, id)
  redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -tonumber(ARGV[6]) - 1)
  redis.call('PEXPIRE', KEYS[4], ARGV[7])
end
return lock_and_peek(status)
`)

// KEYS state inbox items seen lock; ARGV token lease_ms
var acquireScript = redis.NewScript(lockAndPeek + `
return lock_and_peek('idle')
`)

// KEYS state inbox items seen lock card face liveness record out outlock dead;
// ARGV token lease_ms update_id mode state ttl_ms effects out_ttl_ms
// mode: "save" stores the state, "keep" leaves it, "forget" deletes it.
// Reply: {status, claim, next_id, next_payload, state, entries...}; status
// "next" (the lease holds the next update) or "done" (the lease is let
// go); claim "none", "own" (this commit's effects are the whole outbox and
// the caller delivers them), "all" (the caller delivers the entries, older
// ones left by a process that stopped included), or the milliseconds until
// the claim of the process delivering the outbox lapses.
var commitScript = redis.NewScript(`
if redis.call('GET', KEYS[5]) ~= ARGV[1] then return {'lost'} end
redis.call('ZREM', KEYS[2], ARGV[3])
redis.call('HDEL', KEYS[3], ARGV[3])
if ARGV[4] == 'save' then
  redis.call('HSET', KEYS[1], 's', ARGV[5])
  redis.call('PEXPIRE', KEYS[1], ARGV[6])
elseif ARGV[4] == 'forget' then
  redis.call('DEL', KEYS[1], KEYS[4], KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[12])
end
local claim = 'none'
if ARGV[7] ~= '' then
  local n = redis.call('RPUSH', KEYS[10], ARGV[7])
  redis.call('PEXPIRE', KEYS[10], ARGV[8])
  if redis.call('SET', KEYS[11], ARGV[1], 'NX', 'PX', ARGV[2]) then
    if n == 1 then claim = 'own' else claim = 'all' end
  else
    claim = redis.call('PTTL', KEYS[11])
  end
end
local out = {'done', claim, false, false, false}
local nxt = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
if nxt then
  redis.call('PEXPIRE', KEYS[5], ARGV[2])
  out[1], out[3], out[4] = 'next', nxt, redis.call('HGET', KEYS[3], nxt)
  if ARGV[4] ~= 'forget' then out[5] = redis.call('HGET', KEYS[1], 's') end
else
  redis.call('DEL', KEYS[5])
end
if claim == 'all' then
  for _, e in ipairs(redis.call('LRANGE', KEYS[10], 0, -1)) do out[#out + 1] = e end
end
return out
`)

// KEYS lock; ARGV token lease_ms
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`)

func newToken() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Enqueue adds an update to the person's inbox, unless it was seen before
// or the inbox is full, and takes the lease when the inbox has work and
// nobody holds it.
func (s *Store) Enqueue(ctx context.Context, user, updateID int64, payload []byte) (Enqueued, error) {
	k := keysOf(user)
	id := strconv.FormatInt(updateID, 10)
	token := newToken()
	sealed := s.sealer.Seal(payload, []byte(k.items+"/"+id))
	res, err := enqueueScript.Run(ctx, s.rdb, k.list(),
		token, s.opt.Lease.Milliseconds(), id, sealed,
		s.opt.MaxInbox, s.opt.SeenKeep, s.opt.IdleTTL.Milliseconds()).Slice()
	if err != nil {
		return Enqueued{}, fmt.Errorf("enqueue update %d: %w", updateID, err)
	}
	out := Enqueued{}
	switch res[0] {
	case "queued":
		out.Status = Queued
	case "duplicate":
		out.Status = Duplicate
	case "full":
		out.Status = Full
	default:
		return Enqueued{}, fmt.Errorf("enqueue update %d: unexpected reply %v", updateID, res[0])
	}
	out.Lease, out.Busy, out.RetryIn, err = s.leaseFrom(user, token, res[1:])
	if err != nil {
		return Enqueued{}, fmt.Errorf("enqueue update %d: %w", updateID, err)
	}
	return out, nil
}

// Acquire takes the person's lease if their inbox has work and nobody holds
// it. It returns a nil lease when there is nothing to do now.
func (s *Store) Acquire(ctx context.Context, user int64) (*Lease, time.Duration, error) {
	k := keysOf(user)
	token := newToken()
	res, err := acquireScript.Run(ctx, s.rdb, k.list(), token, s.opt.Lease.Milliseconds()).Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("acquire %d: %w", user, err)
	}
	l, _, retry, err := s.leaseFrom(user, token, res[1:])
	if err != nil {
		return nil, 0, fmt.Errorf("acquire %d: %w", user, err)
	}
	return l, retry, nil
}

func (s *Store) leaseFrom(user int64, token string, res []any) (*Lease, bool, time.Duration, error) {
	if len(res) == 0 {
		return nil, false, 0, nil
	}
	if res[0] == "busy" {
		ms, _ := res[1].(int64)
		return nil, true, time.Duration(ms) * time.Millisecond, nil
	}
	l := &Lease{User: user, token: token}
	if err := s.fill(l, res[1:]); err != nil {
		return nil, false, 0, err
	}
	return l, false, 0, nil
}

// fill sets the lease's item and state from a script's reply: id, sealed
// payload, sealed state (or nil).
func (s *Store) fill(l *Lease, res []any) error {
	k := keysOf(l.User)
	idStr, _ := res[0].(string)
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		return fmt.Errorf("bad queued id %q: %w", idStr, err)
	}
	l.Item = Item{UpdateID: id}
	if sealed, ok := res[1].(string); ok {
		if l.Item.Payload, err = s.sealer.Open([]byte(sealed), []byte(k.items+"/"+idStr)); err != nil {
			// The update cannot be read (key rotated away?): apply it as
			// empty so the caller skips it rather than stalling the inbox.
			l.Item.Payload = nil
		}
	}
	l.State = nil
	if len(res) > 2 {
		if sealed, ok := res[2].(string); ok {
			plain, err := s.sealer.Open([]byte(sealed), []byte(k.state))
			if err != nil {
				return fmt.Errorf("open state of %d: %w", l.User, err)
			}
			l.State = plain
		}
	}
	return nil
}

// Mode says what Commit does with the state.
type Mode string

// The commit modes.
const (
	Save Mode = "save" // store the new state
	// SaveSensitive stores a state that holds personal data, for at most
	// SensitiveTTL.
	SaveSensitive Mode = "sensitive"
	Keep          Mode = "keep"   // leave the state as it is (skip the update)
	Forget        Mode = "forget" // delete everything stored about the person
)

// Committed is the outcome of Commit.
type Committed struct {
	// More is set when another update is waiting: the lease now holds it
	// (with the committed state) and the caller goes on.
	More bool
	// Claim is set when the caller must deliver the person's outbox (see
	// Claim); nil when there was nothing to deliver or another process is
	// delivering it and will take these effects too.
	Claim *Claim
	// OutboxBusy is set when another process holds the outbox: how long
	// until its claim lapses, should that process have stopped.
	OutboxBusy time.Duration
}

// Commit applies the lease's current update: it removes the update from the
// inbox, stores the state and appends effects (nil for none) to the
// person's outbox, atomically, if the lease is still held. When no other
// update waits, the lease is let go in the same step.
func (s *Store) Commit(ctx context.Context, l *Lease, mode Mode, state, effects []byte) (Committed, error) {
	k := keysOf(l.User)
	var sealed []byte
	ttl := s.opt.IdleTTL
	switch mode {
	case SaveSensitive:
		ttl, mode = s.opt.SensitiveTTL, Save
		fallthrough
	case Save:
		sealed = s.sealer.Seal(state, []byte(k.state))
	}
	var entry []byte
	if len(effects) > 0 {
		entry = s.sealer.Seal(effects, []byte(k.out))
	}
	res, err := commitScript.Run(ctx, s.rdb, k.list(),
		l.token, s.opt.Lease.Milliseconds(), strconv.FormatInt(l.Item.UpdateID, 10),
		string(mode), sealed, ttl.Milliseconds(), entry, s.opt.OutboxTTL.Milliseconds()).Slice()
	if err != nil {
		return Committed{}, fmt.Errorf("commit update %d: %w", l.Item.UpdateID, err)
	}
	if res[0] == "lost" {
		return Committed{}, fmt.Errorf("commit update %d: %w", l.Item.UpdateID, ErrLeaseLost)
	}
	if len(res) < 5 {
		return Committed{}, fmt.Errorf("commit update %d: unexpected reply %v", l.Item.UpdateID, res)
	}
	var out Committed
	if ms, ok := res[1].(int64); ok {
		out.OutboxBusy = time.Duration(max(ms, 1)) * time.Millisecond
	}
	switch res[1] {
	case "own":
		out.Claim = &Claim{User: l.User, token: l.token, Entries: [][]byte{effects}}
	case "all":
		out.Claim = &Claim{User: l.User, token: l.token}
		if out.Claim.Entries, err = s.openEntries(l.User, res[5:]); err != nil {
			return Committed{}, fmt.Errorf("commit update %d: %w", l.Item.UpdateID, err)
		}
	}
	switch res[0] {
	case "done":
	case "next":
		if err := s.fill(l, res[2:]); err != nil {
			return Committed{}, fmt.Errorf("commit update %d: %w", l.Item.UpdateID, err)
		}
		out.More = true
	default:
		return Committed{}, fmt.Errorf("commit update %d: unexpected reply %v", l.Item.UpdateID, res[0])
	}
	return out, nil
}

// Renew extends the lease while a slow update is being applied.
func (s *Store) Renew(ctx context.Context, l *Lease) error {
	n, err := renewScript.Run(ctx, s.rdb, []string{keysOf(l.User).lock}, l.token, s.opt.Lease.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("renew lease of %d: %w", l.User, err)
	}
	if n == 0 {
		return fmt.Errorf("renew lease of %d: %w", l.User, ErrLeaseLost)
	}
	return nil
}

// AddEphemeral remembers a message sent to a chat that must be deleted
// later (a case's photos in a staff member's chat). Telegram lets a bot
// delete its messages for 48 hours, so they are remembered that long.
func (s *Store) AddEphemeral(ctx context.Context, chat int64, messageID int) error {
	k := "{u:" + strconv.FormatInt(chat, 10) + "}:ephemeral"
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.RPush(ctx, k, messageID)
		p.Expire(ctx, k, 48*time.Hour)
		return nil
	})
	if err != nil {
		return fmt.Errorf("remember message %d in %d: %w", messageID, chat, err)
	}
	return nil
}

// TakeEphemeral returns and forgets the chat's remembered messages.
func (s *Store) TakeEphemeral(ctx context.Context, chat int64) ([]int, error) {
	k := "{u:" + strconv.FormatInt(chat, 10) + "}:ephemeral"
	var ids *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		ids = p.LRange(ctx, k, 0, -1)
		p.Del(ctx, k)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("take messages of %d: %w", chat, err)
	}
	var out []int
	for _, v := range ids.Val() {
		if id, err := strconv.Atoi(v); err == nil {
			out = append(out, id)
		}
	}
	return out, nil
}

// healthKey is written by Ping. It holds nothing but a time and expires
// by itself.
const healthKey = "pensionbot:health"

// Ping checks that Redis takes writes, which is what committing an update
// needs: a PING is answered by a Redis that refuses every write (out of
// memory under noeviction, a read-only replica, a failed disk write with
// stop-writes-on-bgsave-error), so a tiny write with an expiry is made
// instead.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Set(ctx, healthKey, time.Now().UnixMilli(), 10*time.Second).Err(); err != nil {
		return fmt.Errorf("write to redis: %w", err)
	}
	return nil
}

// Load reads a person's state without a lease, for tools and tests.
func (s *Store) Load(ctx context.Context, user int64) ([]byte, error) {
	k := keysOf(user)
	sealed, err := s.rdb.HGet(ctx, k.state, "s").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load state %d: %w", user, err)
	}
	plain, err := s.sealer.Open(sealed, []byte(k.state))
	if err != nil {
		return nil, fmt.Errorf("load state %d: %w", user, err)
	}
	return plain, nil
}
