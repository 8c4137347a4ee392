package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/flows"
	"pensionbot/locales"
)

var _ flows.Broadcasts = (*Broadcasts)(nil)

// Broadcasts keeps staff broadcasts in Redis: the audit record (who, when,
// audience, message, counts), kept AuditTTL; the fixed audience in chunks
// that any replica claims with a lease; and per-recipient progress, so a
// process killed mid-broadcast is replaced without anyone getting the
// message twice.
//
// Keys of one broadcast share the hash tag {bc:ID}: its record
// ({bc:ID}:meta), the chunk queue ({bc:ID}:chunks, chunk number → lease
// expiry), each chunk's recipients ({bc:ID}:c:N) and progress
// ({bc:ID}:r:N, user → status). Chunks are small keys: a million
// recipients are a thousand chunks, no giant key. Two small global keys
// list broadcasts: bc:index (for /broadcasts) and bc:active (for the
// senders).
type Broadcasts struct {
	rdb redis.UniversalClient
	opt BroadcastOptions
}

// BroadcastOptions tune broadcasts.
type BroadcastOptions struct {
	// AuditTTL is how long a broadcast's record is kept (default 400 days).
	AuditTTL time.Duration
	// ChunkSize is how many recipients a chunk holds (default 1,000).
	ChunkSize int
	// WorkTTL is how long chunks and progress are kept (default 30 days).
	WorkTTL time.Duration
}

// NewBroadcasts returns the broadcast store.
func NewBroadcasts(rdb redis.UniversalClient, opt BroadcastOptions) *Broadcasts {
	if opt.AuditTTL <= 0 {
		opt.AuditTTL = 400 * 24 * time.Hour
	}
	if opt.ChunkSize <= 0 {
		opt.ChunkSize = 1000
	}
	if opt.WorkTTL <= 0 {
		opt.WorkTTL = 30 * 24 * time.Hour
	}
	return &Broadcasts{rdb: rdb, opt: opt}
}

const (
	bcIndex  = "bc:index"
	bcActive = "bc:active"
)

func bcKey(id, part string) string { return "{bc:" + id + "}:" + part }

// Recipient statuses in a chunk's progress.
const (
	StatusInFlight    = "i" // being sent: after a crash, uncertain, never sent again
	StatusSent        = "s"
	StatusBlocked     = "b"
	StatusDeactivated = "d"
	StatusNotFound    = "n"
	StatusFailed      = "f"
)

// Counter fields of a broadcast's record, by status.
var counterOf = map[string]string{
	StatusSent: "sent", StatusBlocked: "blocked", StatusDeactivated: "deactivated",
	StatusNotFound: "not_found", StatusFailed: "failed",
}

// BroadcastMeta is a broadcast's record.
type BroadcastMeta struct {
	flows.BroadcastDraft
	Status      string
	ConfirmedBy int64
	Queued      bool
	Total       int
	Counts      map[string]int // sent, blocked, deactivated, not_found, failed, uncertain
	Started     time.Time
	Finished    time.Time
	// ProgressChat and ProgressMsg are the staff message that shows
	// progress.
	ProgressChat int64
	ProgressMsg  int
	Reported     bool
}

// Create stores a new broadcast (idempotent: the same ID again changes
// nothing). Without Confirm it starts at once.
func (b *Broadcasts) Create(ctx context.Context, d flows.BroadcastDraft) error {
	raw, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode broadcast: %w", err)
	}
	status := flows.BroadcastConfirmed
	if d.Confirm {
		status = flows.BroadcastAwaiting
	}
	meta := bcKey(d.ID, "meta")
	ok, err := b.rdb.HSetNX(ctx, meta, "d", raw).Result()
	if err != nil {
		return fmt.Errorf("create broadcast %s: %w", d.ID, err)
	}
	if !ok {
		return nil
	}
	_, err = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, meta, "status", status, "by", d.By, "created", d.Created.Unix())
		p.Expire(ctx, meta, b.opt.AuditTTL)
		p.ZAdd(ctx, bcIndex, redis.Z{Score: float64(d.Created.Unix()), Member: d.ID})
		p.ZRemRangeByScore(ctx, bcIndex, "-inf", strconv.FormatInt(d.Created.Add(-b.opt.AuditTTL).Unix(), 10))
		if status == flows.BroadcastConfirmed {
			p.SAdd(ctx, bcActive, d.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create broadcast %s: %w", d.ID, err)
	}
	return nil
}

// ErrNotAllowed means a confirmation or control was refused: the author
// confirming their own broadcast, or a broadcast in another state.
var ErrNotAllowed = errors.New("not allowed now")

// KEYS meta; ARGV action by
var controlScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return 'gone' end
local a = ARGV[1]
if a == 'confirm' then
  if st ~= 'awaiting' then return 'state' end
  if redis.call('HGET', KEYS[1], 'by') == ARGV[2] then return 'own' end
  redis.call('HSET', KEYS[1], 'status', 'confirmed', 'confirmed_by', ARGV[2])
  return 'confirmed'
elseif a == 'pause' then
  if st ~= 'sending' and st ~= 'confirmed' then return 'state' end
  redis.call('HSET', KEYS[1], 'status', 'paused')
  return 'paused'
elseif a == 'resume' then
  if st ~= 'paused' then return 'state' end
  if redis.call('HGET', KEYS[1], 'queued') == '1' then
    redis.call('HSET', KEYS[1], 'status', 'sending')
    return 'sending'
  end
  redis.call('HSET', KEYS[1], 'status', 'confirmed')
  return 'confirmed'
elseif a == 'cancel' then
  if st == 'done' or st == 'cancelled' then return 'state' end
  redis.call('HSET', KEYS[1], 'status', 'cancelled')
  return 'cancelled'
elseif a == 'done' then
  if st ~= 'sending' then return st end
  redis.call('HSET', KEYS[1], 'status', 'done', 'finished', ARGV[2])
  return 'done'
end
return 'state'
`)

// Control applies a staff action (confirm, pause, resume, cancel) and
// returns the new status.
func (b *Broadcasts) Control(ctx context.Context, id, action string, by int64) (string, error) {
	res, err := controlScript.Run(ctx, b.rdb, []string{bcKey(id, "meta")}, action, by).Text()
	if err != nil {
		return "", fmt.Errorf("%s broadcast %s: %w", action, id, err)
	}
	switch res {
	case "gone", "state", "own":
		return "", fmt.Errorf("%s broadcast %s (%s): %w", action, id, res, ErrNotAllowed)
	}
	if action == "confirm" || action == "resume" {
		if err := b.rdb.SAdd(ctx, bcActive, id).Err(); err != nil {
			return "", fmt.Errorf("%s broadcast %s: %w", action, id, err)
		}
	}
	return res, nil
}

// Handlers are the broadcast effects, for the bot's dispatcher. A refused
// control (confirmed already, say) is not an error: it was decided at the
// press and is idempotent.
func (b *Broadcasts) Handlers() map[string]func(context.Context, flows.Effect) error {
	control := func(ctx context.Context, e flows.Effect) error {
		var c flows.BroadcastControl
		if err := json.Unmarshal(e.Data, &c); err != nil {
			return fmt.Errorf("%s: %w", e.Kind, err)
		}
		action := c.Action
		if e.Kind == flows.EffectBroadcastConfirm {
			action = "confirm"
		}
		if _, err := b.Control(ctx, c.ID, action, c.By); err != nil && !errors.Is(err, ErrNotAllowed) {
			return err
		}
		return nil
	}
	return map[string]func(context.Context, flows.Effect) error{
		flows.EffectBroadcastCreate: func(ctx context.Context, e flows.Effect) error {
			var d flows.BroadcastDraft
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return fmt.Errorf("%s: %w", e.Kind, err)
			}
			return b.Create(ctx, d)
		},
		flows.EffectBroadcastConfirm: control,
		flows.EffectBroadcastControl: control,
	}
}

// Meta reads a broadcast's record, or nil.
func (b *Broadcasts) Meta(ctx context.Context, id string) (*BroadcastMeta, error) {
	h, err := b.rdb.HGetAll(ctx, bcKey(id, "meta")).Result()
	if err != nil {
		return nil, fmt.Errorf("read broadcast %s: %w", id, err)
	}
	if h["d"] == "" {
		return nil, nil
	}
	m := &BroadcastMeta{Counts: map[string]int{}}
	if err := json.Unmarshal([]byte(h["d"]), &m.BroadcastDraft); err != nil {
		return nil, fmt.Errorf("decode broadcast %s: %w", id, err)
	}
	num := func(k string) int64 { n, _ := strconv.ParseInt(h[k], 10, 64); return n }
	m.Status = h["status"]
	m.ConfirmedBy = num("confirmed_by")
	m.Queued = h["queued"] == "1"
	m.Total = int(num("total"))
	for _, k := range []string{"sent", "blocked", "deactivated", "not_found", "failed", "uncertain"} {
		m.Counts[k] = int(num(k))
	}
	if t := num("started"); t > 0 {
		m.Started = time.UnixMilli(t)
	}
	if t := num("finished"); t > 0 {
		m.Finished = time.UnixMilli(t)
	}
	m.ProgressChat, m.ProgressMsg = num("progress_chat"), int(num("progress_msg"))
	m.Reported = h["reported"] == "1"
	return m, nil
}

func (m *BroadcastMeta) info() flows.BroadcastInfo {
	return flows.BroadcastInfo{
		ID: m.ID, By: m.By, ConfirmedBy: m.ConfirmedBy, Created: m.Created, Filter: m.Filter,
		Template: m.Template, Status: m.Status, Total: m.Total, Sent: m.Counts["sent"],
		Failed: m.Counts["blocked"] + m.Counts["deactivated"] + m.Counts["not_found"] + m.Counts["failed"] + m.Counts["uncertain"],
	}
}

// Get returns a broadcast as staff see it, or nil.
func (b *Broadcasts) Get(ctx context.Context, id string) (*flows.BroadcastInfo, error) {
	m, err := b.Meta(ctx, id)
	if err != nil || m == nil {
		return nil, err
	}
	i := m.info()
	if !m.Queued {
		i.Total = m.Count // the count staff saw, until the audience is fixed
	}
	return &i, nil
}

// List returns the latest n broadcasts, newest first: the audit.
func (b *Broadcasts) List(ctx context.Context, n int) ([]flows.BroadcastInfo, error) {
	ids, err := b.rdb.ZRevRange(ctx, bcIndex, 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("list broadcasts: %w", err)
	}
	var out []flows.BroadcastInfo
	for _, id := range ids {
		i, err := b.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if i == nil {
			b.rdb.ZRem(ctx, bcIndex, id) // its record expired
			continue
		}
		out = append(out, *i)
	}
	return out, nil
}

// Active lists broadcasts that senders must look at.
func (b *Broadcasts) Active(ctx context.Context) ([]string, error) {
	ids, err := b.rdb.SMembers(ctx, bcActive).Result()
	if err != nil {
		return nil, fmt.Errorf("list active broadcasts: %w", err)
	}
	return ids, nil
}

// Retire takes a finished broadcast off the active list.
func (b *Broadcasts) Retire(ctx context.Context, id string) error {
	if err := b.rdb.SRem(ctx, bcActive, id).Err(); err != nil {
		return fmt.Errorf("retire broadcast %s: %w", id, err)
	}
	return nil
}

// TryLock takes a named short lock of a broadcast (queueing, progress), so
// that one replica does a job at a time. It is let go by expiry.
func (b *Broadcasts) TryLock(ctx context.Context, id, name string, ttl time.Duration) (bool, error) {
	ok, err := b.rdb.SetNX(ctx, bcKey(id, "lock:"+name), "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("lock %s of broadcast %s: %w", name, id, err)
	}
	return ok, nil
}

// Recipient is one person in a fixed audience.
type Recipient struct {
	User int64
	Lang string
}

// Queue fixes a confirmed broadcast's audience: every reachable person the
// filter matches now, written in chunks. It is idempotent (a second call
// after success does nothing), and a call after a crash mid-way starts the
// chunks over, which is safe because nothing is sent before the audience
// is complete. The caller holds the "queue" lock.
func (b *Broadcasts) Queue(ctx context.Context, id string, aud *Audience, now time.Time) (int, error) {
	m, err := b.Meta(ctx, id)
	if err != nil {
		return 0, err
	}
	if m == nil {
		return 0, fmt.Errorf("queue broadcast %s: gone", id)
	}
	if m.Queued {
		return m.Total, nil
	}
	chunks := bcKey(id, "chunks")
	if err := b.rdb.Del(ctx, chunks).Err(); err != nil {
		return 0, fmt.Errorf("queue broadcast %s: %w", id, err)
	}
	var buf strings.Builder
	n, total, chunk := 0, 0, 0
	pipe := b.rdb.Pipeline()
	cut := func() {
		if n == 0 {
			return
		}
		pipe.Set(ctx, bcKey(id, "c:"+strconv.Itoa(chunk)), buf.String(), b.opt.WorkTTL)
		pipe.ZAdd(ctx, chunks, redis.Z{Score: 0, Member: chunk})
		chunk++
		buf.Reset()
		n = 0
	}
	send := func() error {
		if pipe.Len() == 0 {
			return nil
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("queue broadcast %s: %w", id, err)
		}
		return nil
	}
	var ferr error
	err = aud.Scan(ctx, func(user int64, p Person) {
		if ferr != nil || !p.Reachable() || !aud.Matches(user, p, m.Filter, now) {
			return
		}
		if n > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(strconv.FormatInt(user, 10))
		buf.WriteByte(':')
		buf.WriteString(strconv.Itoa(langIndex(p.Lang)))
		n++
		total++
		if n == b.opt.ChunkSize {
			cut()
			if pipe.Len() >= 128 {
				ferr = send()
			}
		}
	})
	if err == nil {
		err = ferr
	}
	if err == nil {
		cut()
		err = send()
	}
	if err != nil {
		return 0, err
	}
	meta := bcKey(id, "meta")
	_, err = b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Expire(ctx, chunks, b.opt.WorkTTL)
		p.HSet(ctx, meta, "total", total, "queued", "1", "started", now.UnixMilli())
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("queue broadcast %s: %w", id, err)
	}
	// Confirmed → sending; a pause or cancel meanwhile stays.
	if err := b.rdb.Eval(ctx, `if redis.call('HGET', KEYS[1], 'status') == 'confirmed' then redis.call('HSET', KEYS[1], 'status', 'sending') end return 1`, []string{meta}).Err(); err != nil {
		return 0, fmt.Errorf("queue broadcast %s: %w", id, err)
	}
	return total, nil
}

func langIndex(l string) int {
	for i, s := range locales.Supported {
		if s == l {
			return i
		}
	}
	return -1
}

// Chunk is a claimed part of a broadcast's audience: its recipients, the
// statuses already recorded (from a process that stopped), and the lease.
type Chunk struct {
	Broadcast string
	N         int
	To        []Recipient
	Done      map[int64]string
	token     string
}

// KEYS chunks owner; ARGV now_ms lease_ms token
var claimChunkScript = redis.NewScript(`
local k = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1)[1]
if not k then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  if first[2] then return {-1, tonumber(first[2]) - tonumber(ARGV[1])} end
  return {-2}
end
redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), k)
redis.call('HSET', KEYS[2], k, ARGV[3])
return {tonumber(k)}
`)

// ClaimChunk takes a chunk nobody works on (or whose worker's lease
// lapsed). It returns nil and done=true when no chunk is left at all, nil
// and done=false when all that are left are leased by others.
func (b *Broadcasts) ClaimChunk(ctx context.Context, id string, lease time.Duration, now time.Time) (c *Chunk, done bool, err error) {
	token := newToken()
	res, err := claimChunkScript.Run(ctx, b.rdb, []string{bcKey(id, "chunks"), bcKey(id, "owner")}, now.UnixMilli(), lease.Milliseconds(), token).Int64Slice()
	if err != nil {
		return nil, false, fmt.Errorf("claim a chunk of broadcast %s: %w", id, err)
	}
	switch res[0] {
	case -2:
		return nil, true, nil
	case -1:
		return nil, false, nil
	}
	c = &Chunk{Broadcast: id, N: int(res[0]), token: token, Done: map[int64]string{}}
	var data *redis.StringCmd
	var done2 *redis.MapStringStringCmd
	_, err = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		data = p.Get(ctx, bcKey(id, "c:"+strconv.Itoa(c.N)))
		done2 = p.HGetAll(ctx, bcKey(id, "r:"+strconv.Itoa(c.N)))
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("read chunk %d of broadcast %s: %w", c.N, id, err)
	}
	for _, part := range strings.Split(data.Val(), ",") {
		u, l, _ := strings.Cut(part, ":")
		user, err := strconv.ParseInt(u, 10, 64)
		if err != nil {
			continue
		}
		r := Recipient{User: user}
		if i, err := strconv.Atoi(l); err == nil && i >= 0 && i < len(locales.Supported) {
			r.Lang = locales.Supported[i]
		}
		c.To = append(c.To, r)
	}
	for k, v := range done2.Val() {
		if u, err := strconv.ParseInt(k, 10, 64); err == nil {
			c.Done[u] = v
		}
	}
	return c, false, nil
}

// KEYS chunks owner; ARGV k token expiry_ms
var renewChunkScript = redis.NewScript(`
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 0 end
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
`)

// RenewChunk extends a chunk's lease (expiry at until; now releases it).
// It reports false when the lease was lost.
func (b *Broadcasts) RenewChunk(ctx context.Context, c *Chunk, until time.Time) (bool, error) {
	ok, err := renewChunkScript.Run(ctx, b.rdb, []string{bcKey(c.Broadcast, "chunks"), bcKey(c.Broadcast, "owner")}, c.N, c.token, until.UnixMilli()).Int()
	if err != nil {
		return false, fmt.Errorf("renew chunk %d of broadcast %s: %w", c.N, c.Broadcast, err)
	}
	return ok == 1, nil
}

// MarkInFlight records, before sending, that these recipients are being
// sent to: should the process die now, they are not sent again.
func (b *Broadcasts) MarkInFlight(ctx context.Context, c *Chunk, users []int64) error {
	args := make([]any, 0, 2*len(users))
	for _, u := range users {
		args = append(args, u, StatusInFlight)
	}
	if err := b.rdb.HSet(ctx, bcKey(c.Broadcast, "r:"+strconv.Itoa(c.N)), args...).Err(); err != nil {
		return fmt.Errorf("mark chunk %d of broadcast %s: %w", c.N, c.Broadcast, err)
	}
	return nil
}

// Unmark forgets the in-flight mark of recipients that were not sent to
// (Telegram answered 429): they are sent to after the pause.
func (b *Broadcasts) Unmark(ctx context.Context, c *Chunk, users []int64) error {
	fields := make([]string, len(users))
	for i, u := range users {
		fields[i] = strconv.FormatInt(u, 10)
	}
	if err := b.rdb.HDel(ctx, bcKey(c.Broadcast, "r:"+strconv.Itoa(c.N)), fields...).Err(); err != nil {
		return fmt.Errorf("unmark chunk %d of broadcast %s: %w", c.N, c.Broadcast, err)
	}
	return nil
}

// Record stores the outcome of sends (user → status) and adds them to the
// broadcast's counts, in one transaction.
func (b *Broadcasts) Record(ctx context.Context, c *Chunk, results map[int64]string) error {
	if len(results) == 0 {
		return nil
	}
	counts := map[string]int64{}
	args := make([]any, 0, 2*len(results))
	for u, s := range results {
		args = append(args, u, s)
		counts[counterOf[s]]++
	}
	r, meta := bcKey(c.Broadcast, "r:"+strconv.Itoa(c.N)), bcKey(c.Broadcast, "meta")
	_, err := b.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, r, args...)
		p.Expire(ctx, r, b.opt.WorkTTL)
		for k, n := range counts {
			p.HIncrBy(ctx, meta, k, n)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record chunk %d of broadcast %s: %w", c.N, c.Broadcast, err)
	}
	return nil
}

// KEYS chunks owner meta; ARGV k token uncertain now_ms
var finishChunkScript = redis.NewScript(`
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return -1 end
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return -1 end
redis.call('HDEL', KEYS[2], ARGV[1])
if tonumber(ARGV[3]) > 0 then redis.call('HINCRBY', KEYS[3], 'uncertain', ARGV[3]) end
local left = redis.call('ZCARD', KEYS[1])
if left == 0 and redis.call('HGET', KEYS[3], 'status') == 'sending' then
  redis.call('HSET', KEYS[3], 'status', 'done', 'finished', ARGV[4])
end
return left
`)

// FinishChunk removes a worked chunk from the queue, counting recipients
// left uncertain by a stopped process; the last chunk finishes the
// broadcast. It returns how many chunks are left (-1: the lease was lost).
func (b *Broadcasts) FinishChunk(ctx context.Context, c *Chunk, uncertain int, now time.Time) (int, error) {
	left, err := finishChunkScript.Run(ctx, b.rdb, []string{bcKey(c.Broadcast, "chunks"), bcKey(c.Broadcast, "owner"), bcKey(c.Broadcast, "meta")},
		c.N, c.token, uncertain, now.UnixMilli()).Int()
	if err != nil {
		return 0, fmt.Errorf("finish chunk %d of broadcast %s: %w", c.N, c.Broadcast, err)
	}
	return left, nil
}

// SetProgress remembers the staff message that shows a broadcast's
// progress; it reports false if one was set already.
func (b *Broadcasts) SetProgress(ctx context.Context, id string, chat int64, msg int) (bool, error) {
	meta := bcKey(id, "meta")
	ok, err := b.rdb.HSetNX(ctx, meta, "progress_msg", msg).Result()
	if err == nil && ok {
		err = b.rdb.HSet(ctx, meta, "progress_chat", chat).Err()
	}
	if err != nil {
		return false, fmt.Errorf("remember progress message of broadcast %s: %w", id, err)
	}
	return ok, nil
}

// MarkReported records that the final report was sent; it reports false
// when another process sent it.
func (b *Broadcasts) MarkReported(ctx context.Context, id string) (bool, error) {
	ok, err := b.rdb.HSetNX(ctx, bcKey(id, "meta"), "reported", "1").Result()
	if err != nil {
		return false, fmt.Errorf("mark broadcast %s reported: %w", id, err)
	}
	return ok, nil
}
