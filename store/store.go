// Package store keeps each person's dialogue state in Redis and makes sure
// a person's updates are applied one at a time, in order, exactly once, by
// any number of bot processes sharing one Redis, with the effects of each
// update (replies, notices, decisions) committed together with its state.
//
// Everything a person's common path touches lives in one hash, the
// person's home ({u:42}:state): the sealed state ("s"), the IDs of recent
// updates ("seen", to drop redeliveries), the lease ("lk": token and
// deadline), the outbox (entries "o:<n>", their count "op", the claim of
// the process delivering them "od"), the count of queued updates ("q"),
// the expiry last set ("ex") and a mark that the person asked to be
// forgotten while their last replies are still going out ("gone").
// An update that finds nobody busy with the person is applied at once
// (enqueue: one script of three commands), and its commit stores the new
// state, the update's ID and the update's effects, and lets the lease go,
// in one script of three commands: a transactional outbox, where what a
// step wants done outside is stored with the state it leads to, or not at
// all. The process that committed delivers the effects unless another is
// still delivering earlier ones, so a person's effects leave in commit
// order whichever replica committed them. Acknowledging delivered effects
// is batched across people and rides along with the next pipeline of
// updates (AckMany). So an update costs two round trips, and less under
// load, when the scripts of many people share them (group commit).
//
// Updates that must wait (the person is busy, or the poller needs them
// stored before it confirms them to Telegram) go into the person's inbox:
// a sorted set ordered by update_id, with the sealed updates beside it.
//
// Keys of one person share a hash tag ({u:42}), so the scripts also work on
// Redis Cluster. Values that may hold personal data (states, queued
// updates, effects) are sealed with AES-GCM, bound to their key.
package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	batch  *batcher
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
	return &Store{rdb: rdb, sealer: sealer, opt: opt, batch: newBatcher(rdb)}
}

// ErrLeaseLost means another process took over the person's inbox (this
// one was too slow or paused); nothing was committed and the update stays
// queued for the new holder (or comes again from Telegram).
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

// Item is one update to apply.
type Item struct {
	UpdateID int64
	Payload  []byte
	// queued is set when the update is in the inbox (and must leave it at
	// the commit); an update applied at once never was.
	queued bool
}

// Lease is the right to apply a person's updates. Item is the update to
// apply now, State the person's current state (nil for none).
type Lease struct {
	User  int64
	State []byte
	Item  Item
	token string
}

// Enqueued is the outcome of Enqueue.
type Enqueued struct {
	Status Status
	// Lease is set when this caller must apply the update (and whatever
	// else is queued).
	Lease *Lease
	// Busy is set when another holder has the lease; RetryIn is when it
	// expires, after which the caller should try Acquire in case the holder
	// died.
	Busy    bool
	RetryIn time.Duration
}

type keys struct {
	state, inbox, items, card, face, liveness, record, dead string
}

func keysOf(user int64) keys {
	tag := "{u:" + strconv.FormatInt(user, 10) + "}"
	return keys{
		state: tag + ":state",
		inbox: tag + ":inbox",
		items: tag + ":items",
		// Deleted with the state on /forget (see Photos).
		card:     tag + ":photo:card",
		face:     tag + ":photo:face",
		liveness: tag + ":photo:liveness",
		record:   tag + ":record",
		// Effects that kept failing.
		dead: tag + ":dead",
	}
}

func (k keys) list() []string {
	return []string{k.state, k.inbox, k.items, k.card, k.face, k.liveness, k.record, k.dead}
}

// luaCommon holds what the scripts share. A claim ("lk", "od") is
// "<token>:<deadline ms>"; deadlines follow the server's clock, so
// replicas with skewed clocks agree.
const luaCommon = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function held(v, now)
  if not v or v == '' then return false end
  local dl = tonumber(string.match(v, ':(%d+)$'))
  return dl ~= nil and dl > now
end
local function holder(v, token)
  return v and string.sub(v, 1, #token + 1) == token .. ':'
end
local function left(v, now)
  return tonumber(string.match(v, ':(%d+)$')) - now
end
local function seen_has(seen, id)
  return string.find(seen or '', ',' .. id .. ',', 1, true) ~= nil
end
-- next_item drops queued updates already applied (a redelivery queued
-- while its first copy was being applied) and returns the oldest other.
local function next_item(seen, q)
  while q > 0 do
    local first = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
    if not first then return nil, 0 end
    if not seen_has(seen, first) then return first, q end
    redis.call('ZREM', KEYS[2], first)
    redis.call('HDEL', KEYS[3], first)
    q = q - 1
  end
  return nil, q
end
-- outbox returns the pending effects in commit order: n1, e1, n2, e2, ...
local function outbox()
  local all = redis.call('HGETALL', KEYS[1])
  local ns = {}
  local byn = {}
  for i = 1, #all, 2 do
    local n = string.match(all[i], '^o:(%d+)$')
    if n then
      n = tonumber(n)
      ns[#ns + 1] = n
      byn[n] = all[i + 1]
    end
  end
  table.sort(ns)
  local out = {}
  for _, n in ipairs(ns) do
    out[#out + 1] = n
    out[#out + 1] = byn[n]
  end
  return out
end
`

// KEYS home inbox items ...; ARGV token lease_ms update_id payload
// max_inbox ttl_ms durable
// Reply: {status} for a duplicate or a full inbox; {status, 'busy', ms}
// when another process holds the lease; {status, 'now', state} when the
// caller applies this update at once (it is not stored: the webhook
// answers only after the commit, so Telegram delivers it again should this
// process stop); {status, 'locked', id, payload, state} when the caller
// drains the inbox from its oldest update.
var enqueueScript = redis.NewScript(luaCommon + `
local h = redis.call('HMGET', KEYS[1], 'seen', 'lk', 'q', 's')
local id = ARGV[3]
if seen_has(h[1], id) then return {'duplicate'} end
local now = now_ms()
local q = tonumber(h[3] or '0')
local busy = held(h[2], now)
if not busy and q == 0 and ARGV[7] ~= '1' then
  redis.call('HSET', KEYS[1], 'lk', ARGV[1] .. ':' .. (now + tonumber(ARGV[2])))
  return {'queued', 'now', h[4] or false}
end
if redis.call('ZSCORE', KEYS[2], id) then return {'duplicate'} end
if q >= tonumber(ARGV[5]) then return {'full'} end
redis.call('ZADD', KEYS[2], id, id)
redis.call('HSET', KEYS[3], id, ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
q = q + 1
if busy then
  redis.call('HSET', KEYS[1], 'q', q)
  return {'queued', 'busy', left(h[2], now)}
end
local first
first, q = next_item(h[1], q)
redis.call('HSET', KEYS[1], 'q', q, 'lk', ARGV[1] .. ':' .. (now + tonumber(ARGV[2])))
return {'queued', 'locked', first, redis.call('HGET', KEYS[3], first), h[4] or false}
`)

// KEYS home inbox items ...; ARGV token lease_ms
var acquireScript = redis.NewScript(luaCommon + `
local h = redis.call('HMGET', KEYS[1], 'seen', 'lk', 'q', 's')
local q = tonumber(h[3] or '0')
if q == 0 then return {'idle'} end
local now = now_ms()
if held(h[2], now) then return {'idle', 'busy', left(h[2], now)} end
local first
first, q = next_item(h[1], q)
if not first then
  redis.call('HSET', KEYS[1], 'q', q)
  return {'idle'}
end
redis.call('HSET', KEYS[1], 'q', q, 'lk', ARGV[1] .. ':' .. (now + tonumber(ARGV[2])))
return {'idle', 'locked', first, redis.call('HGET', KEYS[3], first), h[4] or false}
`)

// KEYS home inbox items card face liveness record dead; ARGV token
// lease_ms update_id mode state ttl_ms effects queued seen_bytes
// mode: "save" stores the state, "keep" leaves it, "forget" deletes it.
// Reply: {status, claim, next_id, next_payload, state, n1, e1, ...};
// status "next" (the lease holds the next update) or "done" (the lease is
// let go); claim "none", "own:<n>" (this commit's effects, entry n, are the
// whole outbox: the caller delivers them), "all" (the caller delivers the
// entries that follow, older ones left by a process that stopped
// included), or the milliseconds until the claim of the process delivering
// the outbox lapses.
var commitScript = redis.NewScript(luaCommon + `
local h = redis.call('HMGET', KEYS[1], 'lk', 'od', 'seen', 'q', 'op', 'n', 'ex', 'gone')
if not holder(h[1], ARGV[1]) then return {'lost'} end
local id = ARGV[3]
local q = tonumber(h[4] or '0')
if ARGV[8] == '1' then
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  q = math.max(q - 1, 0)
end
local seen = (h[3] or ',') .. id .. ','
local keep = tonumber(ARGV[9])
if #seen > keep then
  seen = string.sub(seen, string.find(seen, ',', #seen - keep, true))
end
local f = {'seen', seen}
if ARGV[4] == 'save' then
  f[#f + 1] = 's'
  f[#f + 1] = ARGV[5]
  if h[8] then
    f[#f + 1] = 'gone'
    f[#f + 1] = ''
  end
elseif ARGV[4] == 'forget' then
  redis.call('HDEL', KEYS[1], 's')
  redis.call('DEL', KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
  f[#f + 1] = 'gone'
  f[#f + 1] = '1'
end
local now = now_ms()
local claim = 'none'
if ARGV[7] ~= '' then
  local n = tonumber(h[6] or '0') + 1
  local op = tonumber(h[5] or '0') + 1
  for _, v in ipairs({'n', n, 'o:' .. n, ARGV[7], 'op', op}) do f[#f + 1] = v end
  if held(h[2], now) then
    claim = left(h[2], now)
  else
    f[#f + 1] = 'od'
    f[#f + 1] = ARGV[1] .. ':' .. (now + tonumber(ARGV[2]))
    if op == 1 then claim = 'own:' .. n else claim = 'all' end
  end
end
local out = {'done', claim, false, false, false}
local nxt
nxt, q = next_item(seen, q)
f[#f + 1] = 'q'
f[#f + 1] = q
f[#f + 1] = 'lk'
if nxt then
  f[#f + 1] = ARGV[1] .. ':' .. (now + tonumber(ARGV[2]))
  out[1], out[3], out[4] = 'next', nxt, redis.call('HGET', KEYS[3], nxt)
  if ARGV[4] == 'save' then
    out[5] = ARGV[5]
  elseif ARGV[4] == 'keep' then
    out[5] = redis.call('HGET', KEYS[1], 's') or false
  end
else
  f[#f + 1] = ''
end
if ARGV[4] == 'forget' and not nxt and claim == 'none' and tonumber(h[5] or '0') == 0 then
  -- Nothing left to do for someone forgotten: not even the bookkeeping
  -- stays.
  redis.call('DEL', KEYS[1])
  return out
end
-- The expiry is set again only when it would otherwise come too early by
-- more than a 64th of the time to keep, or too late (a shorter time to
-- keep): most commits so leave it as it is, and a state is never kept
-- longer than asked.
local ttl = tonumber(ARGV[6])
local ex = tonumber(h[7] or '0')
if ex > now + ttl or ex < now + ttl - math.floor(ttl / 64) then
  f[#f + 1] = 'ex'
  f[#f + 1] = now + ttl
  redis.call('HSET', KEYS[1], unpack(f))
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  redis.call('HSET', KEYS[1], unpack(f))
end
if claim == 'all' then
  for _, v in ipairs(outbox()) do out[#out + 1] = v end
end
return out
`)

// KEYS home; ARGV token lease_ms field
var renewScript = redis.NewScript(luaCommon + `
if not holder(redis.call('HGET', KEYS[1], ARGV[3]), ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[1] .. ':' .. (now_ms() + tonumber(ARGV[2])))
return 1
`)

func newToken() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Enqueue takes an update for the person. If nobody is busy with them and
// their inbox is empty, the caller gets the lease to apply it at once;
// otherwise it is queued, unless it was seen before or the inbox is full.
// Durable queues the update even then: the poller confirms updates to
// Telegram once Enqueue returns, so they must be stored by then.
func (s *Store) Enqueue(ctx context.Context, user, updateID int64, payload []byte, durable bool) (Enqueued, error) {
	k := keysOf(user)
	id := strconv.FormatInt(updateID, 10)
	token := newToken()
	sealed := s.sealer.Seal(payload, []byte(k.items+"/"+id))
	flag := "0"
	if durable {
		flag = "1"
	}
	res, err := s.batch.run(ctx, enqueueScript, k.list(),
		token, s.opt.Lease.Milliseconds(), id, sealed,
		s.opt.MaxInbox, s.opt.IdleTTL.Milliseconds(), flag).Slice()
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
	if len(res) > 1 && res[1] == "now" {
		l := &Lease{User: user, token: token, Item: Item{UpdateID: updateID, Payload: payload}}
		if l.State, err = s.openState(user, res[2]); err != nil {
			return Enqueued{}, fmt.Errorf("enqueue update %d: %w", updateID, err)
		}
		out.Lease = l
		return out, nil
	}
	out.Lease, out.Busy, out.RetryIn, err = s.leaseFrom(user, token, res[1:])
	if err != nil {
		return Enqueued{}, fmt.Errorf("enqueue update %d: %w", updateID, err)
	}
	return out, nil
}

// Acquire takes the person's lease if their inbox has work and nobody holds
// it. It returns a nil lease when there is nothing to do now, and when
// someone holds the lease, how long until it lapses.
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
		return nil, true, time.Duration(max(ms, 1)) * time.Millisecond, nil
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
	l.Item = Item{UpdateID: id, queued: true}
	if sealed, ok := res[1].(string); ok {
		if l.Item.Payload, err = s.sealer.Open([]byte(sealed), []byte(k.items+"/"+idStr)); err != nil {
			// The update cannot be read (key rotated away?): apply it as
			// empty so the caller skips it rather than stalling the inbox.
			l.Item.Payload = nil
		}
	}
	l.State = nil
	if len(res) > 2 {
		if l.State, err = s.openState(l.User, res[2]); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) openState(user int64, v any) ([]byte, error) {
	sealed, ok := v.(string)
	if !ok {
		return nil, nil
	}
	plain, err := s.sealer.Open([]byte(sealed), []byte(keysOf(user).state))
	if err != nil {
		return nil, fmt.Errorf("open state of %d: %w", user, err)
	}
	return plain, nil
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

// Commit applies the lease's current update: it stores the state, records
// the update as applied (removing it from the inbox if it was queued) and
// adds effects (nil for none) to the person's outbox, atomically, if the
// lease is still held. When no other update waits, the lease is let go in
// the same step.
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
		entry = s.sealer.Seal(effects, []byte(k.state+"/out"))
	}
	queued := "0"
	if l.Item.queued {
		queued = "1"
	}
	res, err := s.batch.run(ctx, commitScript, k.list(),
		l.token, s.opt.Lease.Milliseconds(), strconv.FormatInt(l.Item.UpdateID, 10),
		string(mode), sealed, ttl.Milliseconds(), entry, queued, s.opt.SeenKeep*12).Slice()
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
	switch c := res[1].(type) {
	case int64:
		out.OutboxBusy = time.Duration(max(c, 1)) * time.Millisecond
	case string:
		if n, ok := strings.CutPrefix(c, "own:"); ok {
			seq, _ := strconv.ParseInt(n, 10, 64)
			out.Claim = &Claim{User: l.User, token: l.token, Entries: [][]byte{effects}, seqs: []int64{seq}}
		} else if c == "all" {
			out.Claim = &Claim{User: l.User, token: l.token}
			if err := s.fillClaim(out.Claim, res[5:]); err != nil {
				return Committed{}, fmt.Errorf("commit update %d: %w", l.Item.UpdateID, err)
			}
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
	n, err := renewScript.Run(ctx, s.rdb, []string{keysOf(l.User).state}, l.token, s.opt.Lease.Milliseconds(), "lk").Int()
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
	return s.open(user, s.rdb.HGet(ctx, keysOf(user).state, "s"))
}

// LoadMany is Load for many people in one round trip (a pipeline; on
// Redis Cluster one per node): the states, in the order of users, nil for
// someone unknown, and an error for each state that could not be read.
func (s *Store) LoadMany(ctx context.Context, users []int64) ([][]byte, []error) {
	cmds := make([]*redis.StringCmd, len(users))
	s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, u := range users {
			cmds[i] = p.HGet(ctx, keysOf(u).state, "s")
		}
		return nil
	})
	states, errs := make([][]byte, len(users)), make([]error, len(users))
	for i, u := range users {
		states[i], errs[i] = s.open(u, cmds[i])
	}
	return states, errs
}

// open unseals a state read with HGET.
func (s *Store) open(user int64, cmd *redis.StringCmd) ([]byte, error) {
	sealed, err := cmd.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load state %d: %w", user, err)
	}
	plain, err := s.sealer.Open(sealed, []byte(keysOf(user).state))
	if err != nil {
		return nil, fmt.Errorf("load state %d: %w", user, err)
	}
	return plain, nil
}
