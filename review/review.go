// Package review is the staff review queue in Redis, the default verifier.
//
// A certification case submitted by the dialogue waits in one queue until a
// staff member (a Telegram user listed in the configuration) claims it,
// looks at the photos and approves or rejects it. Staff take cases one at a
// time: a claim lasts ClaimTTL, after which an unfinished case goes back to
// the queue so that a staff member who walked away does not block a
// pensioner. Green-channel cases (very old or disabled people) are always
// served before general ones; within a channel the oldest case comes first.
//
// Every step that reads and changes more than one key (claiming, deciding,
// releasing, withdrawing) is one Lua script, so any number of bot processes
// can share the queue without two staff members ever holding the same case
// and without a case being decided twice. All keys share the hash tag
// {review}, so the scripts also run on Redis Cluster (every key of the queue
// lives in one slot; the queue is small, so that is no bottleneck).
//
// Key layout (P = "{review}:"):
//
//	P+"queue"       sorted set: waiting case IDs, score = channel priority * 1e13 + submission time (ms)
//	P+"claims"      sorted set: claimed case IDs, score = claim expiry (ms)
//	P+"held"        hash: staff ID -> the case ID that staff member holds
//	P+"expiry"      sorted set: undecided case IDs, score = when the case must be gone (ms)
//	P+"case:"+ID    hash: one undecided case; TTL CaseTTL
//	P+"done:"+ID    hash: the small record of a decision; TTL RecordTTL
//	P+"user:"+UID   set: the IDs of a person's cases and decision records, so that Erase finds them; lives as long as they do
//
// Personal data only ever lives in the case hash, sealed with the Sealer and
// bound to its key and field, so a sealed value moved elsewhere does not
// open. The index keys hold nothing but case IDs (random hex, or the
// caller's: at most 64 letters, digits, '-' and '_'), staff IDs and times. Deciding or withdrawing a case deletes the case hash with its
// photos at once; what remains of a decision is the case ID, the user, the
// outcome and reason, the channel, when and by whom it was decided and the
// masked ID number (110105********002X).
package review

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/domain"
	"pensionbot/flows"
	"pensionbot/idcard"
	"pensionbot/secret"
)

// Options tune a Queue. Zero values take the defaults.
type Options struct {
	// ClaimTTL is how long a staff member may hold a case before it returns
	// to the queue (default 30 min).
	ClaimTTL time.Duration
	// CaseTTL is how long an undecided case and its photos are kept at most
	// (default 7 days, the photo retention PHOTO_TTL): personal data must
	// not outlive its purpose even if nobody ever decides.
	CaseTTL time.Duration
	// RecordTTL is how long the small record of a decision is kept (default
	// 400 days: over a year, so last year's certification can still be
	// looked up when the next one is due).
	RecordTTL time.Duration
	// Now is the clock (default time.Now). Claim and case expiry follow it,
	// so tests can move time.
	Now func() time.Time
}

// Queue is the review queue. It is safe for concurrent use, also by many
// processes sharing one Redis.
type Queue struct {
	rdb    redis.UniversalClient
	sealer *secret.Sealer
	opt    Options
}

var _ flows.Verifier = (*Queue)(nil)

// New returns a queue on rdb, sealing personal data with sealer.
func New(rdb redis.UniversalClient, sealer *secret.Sealer, opt Options) *Queue {
	if opt.ClaimTTL <= 0 {
		opt.ClaimTTL = 30 * time.Minute
	}
	if opt.CaseTTL <= 0 {
		opt.CaseTTL = 7 * 24 * time.Hour
	}
	if opt.RecordTTL <= 0 {
		opt.RecordTTL = 400 * 24 * time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Queue{rdb: rdb, sealer: sealer, opt: opt}
}

// Errors of the staff operations. They never carry personal data.
var (
	// ErrNotClaimant means the staff member does not hold the case (any
	// more): someone else claimed it, or the claim expired.
	ErrNotClaimant = errors.New("review: case is not claimed by this staff member")
	// ErrDecided means the case was decided already.
	ErrDecided = errors.New("review: case already decided")
	// ErrNoCase means there is no such undecided case: it never existed,
	// was withdrawn, or expired after CaseTTL.
	ErrNoCase = errors.New("review: no such case")
)

// Case is a claimed case as a staff member sees it.
type Case struct {
	domain.Submission
	ClaimedBy int64
	ClaimedAt time.Time
	// Position is how many cases are still waiting in the queue now that
	// this one is taken, so staff see how much work is left.
	Position int
	// Photos are the kinds of photo the case has ("card", "face",
	// "liveness"). Claim does not read the photos themselves, megabytes
	// each, at every showing: Photo does, when one is sent.
	Photos []string
}

const (
	tag      = "{review}:"
	keyQueue = tag + "queue"
	keyClaim = tag + "claims"
	keyHeld  = tag + "held"
	keyExp   = tag + "expiry"
	// generalBase puts every general case after every green one: the
	// submission time in milliseconds stays below 1e13 until the year 2286,
	// and the sum stays far below 2^53, where float scores lose precision.
	generalBase = 1e13
	// By is what Decision.By says for staff decisions.
	By = "staff"
)

func caseKey(id string) string  { return tag + "case:" + id }
func doneKey(id string) string  { return tag + "done:" + id }
func userKey(user int64) string { return tag + "user:" + strconv.FormatInt(user, 10) }

// viewerPrefix starts the case-hash fields that name the staff members a
// case was shown to ("viewer:9001"): their chats hold its photos and
// details until it is decided, released or withdrawn.
const viewerPrefix = "viewer:"

// Fields of a case hash. "p" holds the sealed personal fields, the photo
// fields the sealed photos; the rest is needed in the clear by the scripts
// (user, score) or is safe to show (masked, channel, times).
const (
	fUser      = "user"
	fChannel   = "channel"
	fSubmitted = "submitted"
	fScore     = "score"
	fMasked    = "masked"
	fPersonal  = "p"
	fCard      = "card"
	fFace      = "face"
	fLiveness  = "liveness"
	fClaimant  = "claimant"
	fClaimedAt = "claimed_at"
)

// personal is what is sealed in the "p" field of a case.
type personal struct {
	Name         string `json:"n,omitempty"`
	Number       string `json:"id,omitempty"`
	Age          int    `json:"a,omitempty"`
	Sex          string `json:"s,omitempty"`
	Phone        string `json:"ph,omitempty"`
	District     string `json:"d,omitempty"`
	LivenessCode string `json:"lc,omitempty"`
	// Family help: who sent the case, whose phone it is, a forwarded card.
	Helper        string `json:"h,omitempty"`
	ContactPerson bool   `json:"cp,omitempty"`
	CardForwarded bool   `json:"fw,omitempty"`
}

// aad binds a sealed field to the key and field it is stored in.
func aad(key, field string) []byte { return []byte(key + "/" + field) }

// The scripts share these Lua helpers. Every script gets the index keys as
// KEYS[1..4] = queue claims held expiry and the clock as ARGV[1] (ms),
// passed from Go so that every process and the tests share one notion of
// time. Claim and the sweep only learn which case keys they touch inside the
// script; they build them with the same hash tag, so on Redis Cluster they
// are in the slot of the declared keys, which the cluster allows.
const luaCommon = `
local now = tonumber(ARGV[1])
local function ckey(id) return '` + tag + `case:' .. id end
-- unhold drops every staff entry that points at case id (there are only
-- as many entries as staff members).
local function unhold(id)
  local held = redis.call('HGETALL', KEYS[3])
  for i = 1, #held, 2 do
    if held[i+1] == id then redis.call('HDEL', KEYS[3], held[i]) end
  end
end
local function ukey(user) return '` + tag + `user:' .. user end
-- forget removes an undecided case and every trace of it in the indexes,
-- the person's index of cases included.
local function forget(id)
  unhold(id)
  local user = redis.call('HGET', ckey(id), '` + fUser + `')
  if user then redis.call('SREM', ukey(user), id) end
  redis.call('DEL', ckey(id))
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[4], id)
end
-- sweep deletes cases past CaseTTL and returns cases whose claim expired
-- to the queue, in their old place. Bounded per call; the rest goes next
-- time, and every check below also looks at the expiry itself.
local function sweep()
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, 100)) do
    forget(id)
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)) do
    redis.call('ZREM', KEYS[2], id)
    unhold(id)
    local k = ckey(id)
    local score = redis.call('HGET', k, '` + fScore + `')
    if score then
      redis.call('HDEL', k, '` + fClaimant + `', '` + fClaimedAt + `')
      redis.call('ZADD', KEYS[1], score, id)
    end
  end
end
-- holds says whether staff holds an unexpired claim on case id.
local function holds(id, staff)
  local exp = redis.call('ZSCORE', KEYS[2], id)
  if not exp or tonumber(exp) <= now then return false end
  return redis.call('HGET', ckey(id), '` + fClaimant + `') == staff
end
`

// KEYS queue claims held expiry case done user; ARGV now id ttl_ms expire_at score field value...
var submitScript = redis.NewScript(luaCommon + `
if redis.call('EXISTS', KEYS[6]) == 1 then
  return {'decided', redis.call('HMGET', KEYS[6], 'outcome', 'reason', 'by', 'decided_at')}
end
if redis.call('EXISTS', KEYS[5]) == 1 then return {'exists'} end
redis.call('SADD', KEYS[7], ARGV[2])
-- As long as the case, or a record of the person's, lives.
if redis.call('PTTL', KEYS[7]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[7], ARGV[3]) end
redis.call('HSET', KEYS[5], unpack(ARGV, 6))
redis.call('PEXPIRE', KEYS[5], ARGV[3])
redis.call('ZADD', KEYS[1], ARGV[5], ARGV[2])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[2])
return {'queued'}
`)

// KEYS queue claims held expiry; ARGV now staff claim_until
var claimScript = redis.NewScript(luaCommon + `
-- view is a case's fields, its photos only named ('' for the picture).
local function view(k)
  local out = {}
  for _, f in ipairs(redis.call('HKEYS', k)) do
    out[#out + 1] = f
    if f == '` + fCard + `' or f == '` + fFace + `' or f == '` + fLiveness + `' then
      out[#out + 1] = ''
    else
      out[#out + 1] = redis.call('HGET', k, f)
    end
  end
  return out
end
sweep()
local staff = ARGV[2]
local id = redis.call('HGET', KEYS[3], staff)
if id then
  if holds(id, staff) then
    return {'claimed', id, redis.call('ZCARD', KEYS[1]), view(ckey(id))}
  end
  redis.call('HDEL', KEYS[3], staff)
end
while true do
  id = redis.call('ZRANGE', KEYS[1], 0, 0)[1]
  if not id then return {'empty'} end
  redis.call('ZREM', KEYS[1], id)
  local k = ckey(id)
  -- Redis may have expired the case hash a moment before our own sweep.
  if redis.call('EXISTS', k) == 1 then
    redis.call('ZADD', KEYS[2], ARGV[3], id)
    redis.call('HSET', KEYS[3], staff, id)
    redis.call('HSET', k, '` + fClaimant + `', staff, '` + fClaimedAt + `', ARGV[1], '` + viewerPrefix + `' .. staff, ARGV[1])
    return {'claimed', id, redis.call('ZCARD', KEYS[1]), view(k)}
  end
  redis.call('ZREM', KEYS[4], id)
end
`)

// KEYS queue claims held expiry case done; ARGV now id staff outcome reason by record_ttl_ms
var decideScript = redis.NewScript(luaCommon + `
sweep()
if redis.call('EXISTS', KEYS[6]) == 1 then
  -- The same staff member deciding the same way again is the same
  -- decision (a press redelivered after a crash): it is returned again, so
  -- that the person is told; the person's inbox drops the copy.
  local d = redis.call('HMGET', KEYS[6], 'staff', 'outcome', 'reason', 'user', 'decided_at')
  if d[1] == ARGV[3] and d[2] == ARGV[4] and d[3] == ARGV[5] then return {'again', d[4], d[5]} end
  return {'decided'}
end
if redis.call('EXISTS', KEYS[5]) == 0 then return {'nocase'} end
if not holds(ARGV[2], ARGV[3]) then return {'notclaimant'} end
local c = redis.call('HMGET', KEYS[5], '` + fUser + `', '` + fChannel + `', '` + fMasked + `')
redis.call('HSET', KEYS[6], 'case', ARGV[2], 'user', c[1], 'channel', c[2], 'masked', c[3],
  'outcome', ARGV[4], 'reason', ARGV[5], 'by', ARGV[6], 'staff', ARGV[3], 'decided_at', ARGV[1])
redis.call('PEXPIRE', KEYS[6], ARGV[7])
forget(ARGV[2])
-- The record names the person: Erase must find it as long as it lives.
redis.call('SADD', ukey(c[1]), ARGV[2])
redis.call('PEXPIRE', ukey(c[1]), ARGV[7])
return {'ok', c[1]}
`)

// KEYS queue claims held expiry case done; ARGV now id staff
var releaseScript = redis.NewScript(luaCommon + `
sweep()
if redis.call('EXISTS', KEYS[6]) == 1 then return 'decided' end
if redis.call('EXISTS', KEYS[5]) == 0 then return 'nocase' end
if not holds(ARGV[2], ARGV[3]) then return 'notclaimant' end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[3])
redis.call('HDEL', KEYS[5], '` + fClaimant + `', '` + fClaimedAt + `')
redis.call('ZADD', KEYS[1], redis.call('HGET', KEYS[5], '` + fScore + `'), ARGV[2])
return 'ok'
`)

// KEYS queue claims held expiry case; ARGV now id
var withdrawScript = redis.NewScript(luaCommon + `
forget(ARGV[2])
return 'ok'
`)

// KEYS queue claims held expiry user; ARGV now
// Every case of the person goes: undecided ones entirely, decided ones
// down to an audit record without the person (no user, no masked number).
var eraseScript = redis.NewScript(luaCommon + `
for _, id in ipairs(redis.call('SMEMBERS', KEYS[5])) do
  forget(id)
  local done = '` + tag + `done:' .. id
  if redis.call('EXISTS', done) == 1 then
    redis.call('HDEL', done, 'user', 'masked')
    redis.call('HSET', done, 'erased_at', ARGV[1])
  end
end
redis.call('DEL', KEYS[5])
return 'ok'
`)

// KEYS queue claims held expiry; ARGV now
var pendingScript = redis.NewScript(luaCommon + `
sweep()
return {redis.call('ZCOUNT', KEYS[1], '-inf', '(` + strconv.Itoa(generalBase) + `'),
        redis.call('ZCOUNT', KEYS[1], '` + strconv.Itoa(generalBase) + `', '+inf')}
`)

var indexKeys = []string{keyQueue, keyClaim, keyHeld, keyExp}

func (q *Queue) now() time.Time { return q.opt.Now() }

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// NewCaseID returns a fresh random case ID.
func NewCaseID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// validID keeps case IDs short and plain, so they are safe in keys, logs
// and callback data, and cannot smuggle personal data into either.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Submit stores the case, with all personal fields and photos sealed and
// bound to the case key, and queues it. It returns a pending decision by
// staff. A case ID given twice is stored and queued once (a redelivered
// update may run the step again); if that case was decided meanwhile, the
// recorded decision is returned instead. An empty CaseID gets a random one.
func (q *Queue) Submit(ctx context.Context, s domain.Submission) (domain.Decision, error) {
	if s.CaseID == "" {
		s.CaseID = NewCaseID()
	}
	if !validID(s.CaseID) {
		return domain.Decision{}, fmt.Errorf("review: submit: invalid case id (%d bytes)", len(s.CaseID))
	}
	now := q.now()
	if s.Submitted.IsZero() {
		s.Submitted = now
	}
	if s.Channel == "" {
		s.Channel = domain.ChannelGeneral
	}
	score := s.Submitted.UnixMilli()
	if score < 0 {
		score = 0
	}
	if s.Channel != domain.ChannelGreen {
		score += generalBase
	}
	k := caseKey(s.CaseID)
	p, err := json.Marshal(personal{
		Name: s.Name, Number: s.Number, Age: s.Age, Sex: s.Sex, Phone: s.Phone,
		District: s.District, LivenessCode: s.LivenessCode,
		Helper: s.Helper, ContactPerson: s.ContactPerson, CardForwarded: s.CardForwarded,
	})
	if err != nil {
		return domain.Decision{}, fmt.Errorf("review: submit %s: %w", s.CaseID, err)
	}
	scoreStr := strconv.FormatInt(score, 10)
	args := []any{
		ms(now), s.CaseID, q.opt.CaseTTL.Milliseconds(), ms(now.Add(q.opt.CaseTTL)), scoreStr,
		fUser, strconv.FormatInt(s.User, 10),
		fChannel, s.Channel,
		fSubmitted, ms(s.Submitted),
		fScore, scoreStr,
		fMasked, idcard.Mask(s.Number),
		fPersonal, q.sealer.Seal(p, aad(k, fPersonal)),
	}
	for _, ph := range []struct {
		field string
		data  []byte
	}{{fCard, s.Card}, {fFace, s.Face}, {fLiveness, s.Liveness}} {
		if len(ph.data) > 0 {
			args = append(args, ph.field, q.sealer.Seal(ph.data, aad(k, ph.field)))
		}
	}
	keys := append(slices.Clone(indexKeys), k, doneKey(s.CaseID), userKey(s.User))
	res, err := submitScript.Run(ctx, q.rdb, keys, args...).Slice()
	if err != nil {
		return domain.Decision{}, fmt.Errorf("review: submit %s: %w", s.CaseID, err)
	}
	d := domain.Decision{CaseID: s.CaseID, Outcome: domain.OutcomePending, By: By}
	if res[0] == "decided" {
		rec, _ := res[1].([]any)
		d.Outcome, d.Reason, d.By = str(rec, 0), str(rec, 1), str(rec, 2)
		d.DecidedAt = fromMS(str(rec, 3))
	}
	return d, nil
}

// Claim gives staffID the next case. A staff member who still holds an
// unexpired claim gets that same case again (a repeated tap must not hand
// out a second one); otherwise the highest-priority waiting case is taken
// atomically, after cases whose claim expired have gone back to the queue.
// It returns nil, nil when nothing waits.
//
// If sealed fields cannot be opened (their key was rotated away), Claim
// returns the case without them together with an error wrapping
// secret.ErrOpen: the staff member holds it and can still reject it.
func (q *Queue) Claim(ctx context.Context, staffID int64) (*Case, error) {
	now := q.now()
	res, err := claimScript.Run(ctx, q.rdb, indexKeys,
		ms(now), strconv.FormatInt(staffID, 10), ms(now.Add(q.opt.ClaimTTL))).Slice()
	if err != nil {
		return nil, fmt.Errorf("review: claim: %w", err)
	}
	if res[0] == "empty" {
		return nil, nil
	}
	id, _ := res[1].(string)
	pos, _ := res[2].(int64)
	flat, _ := res[3].([]any)
	h := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		h[str(flat, i)] = str(flat, i+1)
	}
	c := &Case{Position: int(pos)}
	c.CaseID = id
	c.User, _ = strconv.ParseInt(h[fUser], 10, 64)
	c.Channel = h[fChannel]
	c.Submitted = fromMS(h[fSubmitted])
	c.ClaimedBy, _ = strconv.ParseInt(h[fClaimant], 10, 64)
	c.ClaimedAt = fromMS(h[fClaimedAt])
	k := caseKey(id)
	var openErr error
	open := func(field string) []byte {
		sealed, ok := h[field]
		if !ok {
			return nil
		}
		plain, err := q.sealer.Open([]byte(sealed), aad(k, field))
		if err != nil && openErr == nil {
			openErr = fmt.Errorf("review: claim %s: open %s: %w", id, field, err)
		}
		return plain
	}
	if raw := open(fPersonal); raw != nil {
		var p personal
		if err := json.Unmarshal(raw, &p); err != nil {
			return c, fmt.Errorf("review: claim %s: decode personal fields: %w", id, err)
		}
		c.Name, c.Number, c.Age, c.Sex, c.Phone = p.Name, p.Number, p.Age, p.Sex, p.Phone
		c.District, c.LivenessCode = p.District, p.LivenessCode
		c.Helper, c.ContactPerson, c.CardForwarded = p.Helper, p.ContactPerson, p.CardForwarded
	}
	for _, f := range []string{fCard, fFace, fLiveness} {
		if _, ok := h[f]; ok {
			c.Photos = append(c.Photos, f)
		}
	}
	return c, openErr
}

// Photo returns one photo of a case ("card", "face" or "liveness"), or nil
// when the case has none any more (decided, withdrawn or expired).
func (q *Queue) Photo(ctx context.Context, caseID, kind string) ([]byte, error) {
	if !validID(caseID) || (kind != fCard && kind != fFace && kind != fLiveness) {
		return nil, nil
	}
	k := caseKey(caseID)
	sealed, err := q.rdb.HGet(ctx, k, kind).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("review: photo of %s: %w", caseID, err)
	}
	plain, err := q.sealer.Open([]byte(sealed), aad(k, kind))
	if err != nil {
		return nil, fmt.Errorf("review: photo of %s: open %s: %w", caseID, kind, err)
	}
	return plain, nil
}

// Decide records staffID's decision on a case, exactly once: only the
// current claimant may decide (ErrNotClaimant otherwise, also when the claim
// expired, whether or not someone else took the case since), and a case
// decided already gives ErrDecided. Outcome is domain.OutcomeApproved or
// domain.OutcomeRejected; a rejection needs one of domain.Reasons, an approval
// has no reason. In the same step the case's photos and personal fields are
// deleted, leaving only the small decision record. It returns the decision
// and the user to notify.
func (q *Queue) Decide(ctx context.Context, caseID string, staffID int64, outcome, reason string) (domain.Decision, int64, error) {
	switch outcome {
	case domain.OutcomeApproved:
		reason = ""
	case domain.OutcomeRejected:
		if !slices.Contains(domain.Reasons, reason) {
			return domain.Decision{}, 0, fmt.Errorf("review: decide %s: unknown reason %q", caseID, reason)
		}
	default:
		return domain.Decision{}, 0, fmt.Errorf("review: decide %s: outcome %q is not a decision", caseID, outcome)
	}
	if !validID(caseID) {
		return domain.Decision{}, 0, fmt.Errorf("review: decide: %w", ErrNoCase)
	}
	now := q.now()
	keys := append(slices.Clone(indexKeys), caseKey(caseID), doneKey(caseID))
	res, err := decideScript.Run(ctx, q.rdb, keys, ms(now), caseID, strconv.FormatInt(staffID, 10),
		outcome, reason, By, q.opt.RecordTTL.Milliseconds()).Slice()
	if err != nil {
		return domain.Decision{}, 0, fmt.Errorf("review: decide %s: %w", caseID, err)
	}
	switch res[0] {
	case "ok":
	case "again":
		now = fromMS(str(res, 2))
	case "decided":
		return domain.Decision{}, 0, fmt.Errorf("review: decide %s: %w", caseID, ErrDecided)
	case "nocase":
		return domain.Decision{}, 0, fmt.Errorf("review: decide %s: %w", caseID, ErrNoCase)
	case "notclaimant":
		return domain.Decision{}, 0, fmt.Errorf("review: decide %s: %w", caseID, ErrNotClaimant)
	default:
		return domain.Decision{}, 0, fmt.Errorf("review: decide %s: unexpected reply %v", caseID, res[0])
	}
	user, _ := strconv.ParseInt(str(res, 1), 10, 64)
	return domain.Decision{CaseID: caseID, Outcome: outcome, Reason: reason, By: By, DecidedAt: now}, user, nil
}

// Release gives back staffID's claim on a case: it returns to the queue in
// its old place, since the pensioner has waited that long already.
func (q *Queue) Release(ctx context.Context, caseID string, staffID int64) error {
	if !validID(caseID) {
		return fmt.Errorf("review: release: %w", ErrNoCase)
	}
	keys := append(slices.Clone(indexKeys), caseKey(caseID), doneKey(caseID))
	res, err := releaseScript.Run(ctx, q.rdb, keys, ms(q.now()), caseID, strconv.FormatInt(staffID, 10)).Text()
	if err != nil {
		return fmt.Errorf("review: release %s: %w", caseID, err)
	}
	switch res {
	case "ok":
		return nil
	case "decided":
		return fmt.Errorf("review: release %s: %w", caseID, ErrDecided)
	case "nocase":
		return fmt.Errorf("review: release %s: %w", caseID, ErrNoCase)
	case "notclaimant":
		return fmt.Errorf("review: release %s: %w", caseID, ErrNotClaimant)
	}
	return fmt.Errorf("review: release %s: unexpected reply %v", caseID, res)
}

// Pending counts the cases waiting in the queue per channel. Claimed cases
// are not counted: someone is working on them.
func (q *Queue) Pending(ctx context.Context) (green, general int, err error) {
	res, err := pendingScript.Run(ctx, q.rdb, indexKeys, ms(q.now())).Int64Slice()
	if err != nil {
		return 0, 0, fmt.Errorf("review: pending: %w", err)
	}
	return int(res[0]), int(res[1]), nil
}

// Withdraw removes an undecided case with its photos and personal data, for
// a person who cancelled or used /forget; a staff member holding it then
// gets ErrNoCase on Decide. Withdrawing a case that is gone is no error, so
// /forget can always call it. The record of a decision already taken is
// kept: it holds no photos or full personal data and is the proof of the
// person's certification.
func (q *Queue) Withdraw(ctx context.Context, caseID string) error {
	if !validID(caseID) {
		return nil
	}
	keys := append(slices.Clone(indexKeys), caseKey(caseID))
	if err := withdrawScript.Run(ctx, q.rdb, keys, ms(q.now()), caseID).Err(); err != nil {
		return fmt.Errorf("review: withdraw %s: %w", caseID, err)
	}
	return nil
}

// Erase removes what the queue keeps about a person who asked to be
// forgotten: every undecided case with its photos and personal data, and,
// of every decided case, the user and the masked ID number. What stays of
// a decision is an audit record that no longer points to anyone: the case
// ID, the outcome and reason, the channel, when and by which staff member
// it was decided, and when it was erased; it expires with RecordTTL.
// Erasing twice is no error.
func (q *Queue) Erase(ctx context.Context, user int64) error {
	keys := append(slices.Clone(indexKeys), userKey(user))
	if err := eraseScript.Run(ctx, q.rdb, keys, ms(q.now())).Err(); err != nil {
		return fmt.Errorf("review: erase the cases of a person: %w", err)
	}
	return nil
}

// Viewers lists the staff members an undecided case was shown to: their
// chats hold its photos and details (until they decide, release it, or
// the messages are deleted). A case that is gone has none.
func (q *Queue) Viewers(ctx context.Context, caseID string) ([]int64, error) {
	if !validID(caseID) {
		return nil, nil
	}
	fields, err := q.rdb.HKeys(ctx, caseKey(caseID)).Result()
	if err != nil {
		return nil, fmt.Errorf("review: viewers of %s: %w", caseID, err)
	}
	var out []int64
	for _, f := range fields {
		if rest, ok := strings.CutPrefix(f, viewerPrefix); ok {
			if id, err := strconv.ParseInt(rest, 10, 64); err == nil {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

func str(a []any, i int) string {
	if i >= len(a) {
		return ""
	}
	s, _ := a[i].(string)
	return s
}

func fromMS(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n)
}
