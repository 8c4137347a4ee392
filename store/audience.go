package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/flows"
	"pensionbot/secret"
)

var (
	_ flows.Audience       = (*Audience)(nil)
	_ flows.NoticeSettings = (*Audience)(nil)
	_ flows.RecordStore    = TrackedRecords{}
)

// Audience is the registry of people the bot may reach with reminders and
// broadcasts. It outlives dialogue states (which expire after IDLE_DAYS)
// and holds, per person, only: language, reachability, the notice setting,
// the due dates of the certifications on their account, a district given
// in a certification (sealed), and the day they were last seen.
//
// It is built for a million people on Redis Cluster: people are spread
// over buckets by Telegram ID, each bucket a hash ({aud:N}:people, a few
// thousand fields) with its reminder index beside it ({aud:N}:due, a sorted
// set of "user|for" by the time of the next reminder), under one hash tag,
// so a person's update and their index entry change in one script. No key
// grows with the whole audience.
type Audience struct {
	rdb      redis.UniversalClient
	sealer   *secret.Sealer
	buckets  int
	schedule flows.ReminderSchedule
}

// AudienceOptions tune the registry.
type AudienceOptions struct {
	// Buckets is the number of buckets (default 256: about 4,000 people
	// each at a million). Changing it on a live registry loses people.
	Buckets int
	// Schedule places the reminders of saved certifications.
	Schedule flows.ReminderSchedule
}

// NewAudience returns the registry on rdb; districts are sealed with sealer.
func NewAudience(rdb redis.UniversalClient, sealer *secret.Sealer, opt AudienceOptions) *Audience {
	if opt.Buckets <= 0 {
		opt.Buckets = 256
	}
	if opt.Schedule.Loc == nil {
		opt.Schedule = flows.DefaultSchedule()
	}
	return &Audience{rdb: rdb, sealer: sealer, buckets: opt.Buckets, schedule: opt.Schedule}
}

// Reachability values.
const (
	Reachable   = ""
	Blocked     = "blocked"     // 403: the person blocked the bot
	Deactivated = "deactivated" // 403: the account was deleted
	NotFound    = "not_found"   // 400: chat not found
)

// Person is one registry entry.
type Person struct {
	Lang  string `json:"l,omitempty"`
	Reach string `json:"r,omitempty"`
	Off   bool   `json:"o,omitempty"` // reminders and broadcasts turned off
	// District is sealed; read it with Audience.District.
	District string `json:"d,omitempty"`
	Seen     int64  `json:"s,omitempty"` // unix day
	// Certs are the certifications on the account, by whom they are for
	// ("self", or a relative's reference once family help lands):
	// reminders go to the account.
	Certs map[string]CertDue `json:"c,omitempty"`
}

// CertDue is one certification's dates, unix seconds.
type CertDue struct {
	On  int64 `json:"on"`
	Due int64 `json:"due"`
}

// Bucket is the bucket of a user.
func (a *Audience) Bucket(user int64) int { return int(uint64(user) % uint64(a.buckets)) }

// Buckets is the number of buckets.
func (a *Audience) Buckets() int { return a.buckets }

func bucketKeys(n int) (people, due string) {
	tag := "{aud:" + strconv.Itoa(n) + "}"
	return tag + ":people", tag + ":due"
}

// patchScript merges a JSON patch into a person's entry: top-level fields
// are set, or removed when null, false or ""; "c" is merged by key, a null
// removing a certification and its reminder. ARGV[3] and ARGV[4] set a
// reminder (member, score) in the same step; ARGV[5] = "forget" deletes the
// person and all their reminders.
// KEYS people due; ARGV user patch member score mode
var patchScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
local p = {}
if cur then p = cjson.decode(cur) end
if ARGV[5] == 'forget' then
  if type(p.c) == 'table' then
    for k, _ in pairs(p.c) do redis.call('ZREM', KEYS[2], ARGV[1] .. '|' .. k) end
  end
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
if ARGV[5] == 'exists' and not cur then return 0 end
local patch = cjson.decode(ARGV[2])
for k, v in pairs(patch) do
  if k == 'c' then
    if type(p.c) ~= 'table' then p.c = {} end
    for ck, cv in pairs(v) do
      if cv == cjson.null then
        p.c[ck] = nil
        redis.call('ZREM', KEYS[2], ARGV[1] .. '|' .. ck)
      else
        p.c[ck] = cv
      end
    end
    if next(p.c) == nil then p.c = nil end
  elseif v == cjson.null or v == false or v == '' then
    p[k] = nil
  else
    p[k] = v
  end
end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(p))
if ARGV[3] ~= '' then
  if ARGV[4] == '' then
    redis.call('ZREM', KEYS[2], ARGV[3])
  else
    redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
  end
end
return 1
`)

func (a *Audience) patch(ctx context.Context, user int64, patch map[string]any, member, score, mode string) error {
	raw, err := json.Marshal(patch)
	if err != nil {
		return fmt.Errorf("encode registry patch: %w", err)
	}
	people, due := bucketKeys(a.Bucket(user))
	if err := patchScript.Run(ctx, a.rdb, []string{people, due}, strconv.FormatInt(user, 10), raw, member, score, mode).Err(); err != nil {
		return fmt.Errorf("update registry entry of %d: %w", user, err)
	}
	return nil
}

// Touch records that a person wrote: their language and the day. Writing
// also means the bot can reach them again (they unblocked it).
func (a *Audience) Touch(ctx context.Context, user int64, lang string, seen time.Time) error {
	return a.patch(ctx, user, map[string]any{"l": lang, "s": seen.Unix() / 86400, "r": nil}, "", "", "")
}

// SetNotices turns reminders and broadcasts on or off.
func (a *Audience) SetNotices(ctx context.Context, user int64, on bool) error {
	return a.patch(ctx, user, map[string]any{"o": !on}, "", "", "")
}

// SetReach records whether messages reach the person (Reachable, Blocked,
// Deactivated, NotFound). Only people the registry knows are marked.
func (a *Audience) SetReach(ctx context.Context, user int64, reach string) error {
	return a.patch(ctx, user, map[string]any{"r": reach}, "", "", "exists")
}

// SetDistrict keeps the district a person gave in a certification, sealed.
func (a *Audience) SetDistrict(ctx context.Context, user int64, district string) error {
	people, _ := bucketKeys(a.Bucket(user))
	sealed := base64.RawStdEncoding.EncodeToString(a.sealer.Seal([]byte(district), []byte(people+"/"+strconv.FormatInt(user, 10))))
	return a.patch(ctx, user, map[string]any{"d": sealed}, "", "", "")
}

// District opens a person's district ("" when none or unreadable).
func (a *Audience) District(user int64, p Person) string {
	if p.District == "" {
		return ""
	}
	raw, err := base64.RawStdEncoding.DecodeString(p.District)
	if err != nil {
		return ""
	}
	people, _ := bucketKeys(a.Bucket(user))
	plain, err := a.sealer.Open(raw, []byte(people+"/"+strconv.FormatInt(user, 10)))
	if err != nil {
		return ""
	}
	return string(plain)
}

// Forget removes the person and their reminders (/forget).
func (a *Audience) Forget(ctx context.Context, user int64) error {
	return a.patch(ctx, user, nil, "", "", "forget")
}

// SaveCert records a certification on an account (for "self" or a
// relative) and schedules its reminders from now: a newer certification
// replaces the older one's reminders, so nobody who has certified since is
// reminded.
func (a *Audience) SaveCert(ctx context.Context, account int64, forWhom string, on, due, now time.Time) error {
	member := strconv.FormatInt(account, 10) + "|" + forWhom
	score := ""
	if next, ok := a.schedule.Next(due, now); ok {
		score = strconv.FormatInt(next.Unix(), 10)
	}
	return a.patch(ctx, account, map[string]any{"c": map[string]any{forWhom: CertDue{On: on.Unix(), Due: due.Unix()}}}, member, score, "")
}

// Get returns a person's entry, or nil.
func (a *Audience) Get(ctx context.Context, user int64) (*Person, error) {
	people, _ := bucketKeys(a.Bucket(user))
	raw, err := a.rdb.HGet(ctx, people, strconv.FormatInt(user, 10)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read registry entry of %d: %w", user, err)
	}
	var p Person
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("decode registry entry of %d: %w", user, err)
	}
	return &p, nil
}

// NoticesOn reports whether the person wants reminders and notices (yes
// unless they said no).
func (a *Audience) NoticesOn(ctx context.Context, user int64) (bool, error) {
	p, err := a.Get(ctx, user)
	if err != nil || p == nil {
		return true, err
	}
	return !p.Off, nil
}

// Scan calls each for every person, bucket by bucket (a few buckets per
// round trip). It reads a consistent bucket at a time, not one snapshot of
// all: good enough for counts and for fixing a broadcast's audience.
func (a *Audience) Scan(ctx context.Context, each func(user int64, p Person)) error {
	const perTrip = 16
	for start := 0; start < a.buckets; start += perTrip {
		cmds := make([]*redis.MapStringStringCmd, 0, perTrip)
		_, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for n := start; n < min(start+perTrip, a.buckets); n++ {
				people, _ := bucketKeys(n)
				cmds = append(cmds, p.HGetAll(ctx, people))
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("scan the registry: %w", err)
		}
		for _, c := range cmds {
			for k, v := range c.Val() {
				id, err := strconv.ParseInt(k, 10, 64)
				if err != nil {
					continue
				}
				var p Person
				if json.Unmarshal([]byte(v), &p) != nil {
					continue
				}
				each(id, p)
			}
		}
	}
	return nil
}

// Matches reports whether a person belongs to an audience (reachability
// and the notice setting aside).
func (a *Audience) Matches(user int64, p Person, f flows.AudienceFilter, now time.Time) bool {
	switch f.Kind {
	case flows.AudienceAll:
		return true
	case flows.AudienceLang:
		return p.Lang == f.Lang
	case flows.AudienceDue:
		until := now.Add(time.Duration(f.Days) * 24 * time.Hour).Unix()
		for _, c := range p.Certs {
			if c.Due >= now.Unix() && c.Due <= until {
				return true
			}
		}
		return false
	case flows.AudienceUncert, flows.AudienceLapsed:
		valid := false
		for _, c := range p.Certs {
			if c.Due >= now.Unix() {
				valid = true
			}
		}
		if f.Kind == flows.AudienceLapsed {
			return !valid && len(p.Certs) > 0
		}
		return !valid
	case flows.AudienceDistrict:
		return p.District != "" && strings.EqualFold(strings.TrimSpace(a.District(user, p)), strings.TrimSpace(f.District))
	}
	return false
}

// Reachable reports whether notices may be sent to the person.
func (p Person) Reachable() bool { return p.Reach == Reachable && !p.Off }

// Count counts an audience, by language (for staff, before anything is
// sent).
func (a *Audience) Count(ctx context.Context, f flows.AudienceFilter, now time.Time) (flows.AudienceCount, error) {
	c := flows.AudienceCount{ByLang: map[string]int{}}
	err := a.Scan(ctx, func(user int64, p Person) {
		if !a.Matches(user, p, f, now) {
			return
		}
		if !p.Reachable() {
			c.Excluded++
			return
		}
		c.Total++
		c.ByLang[p.Lang]++
	})
	return c, err
}

// Districts lists the districts people gave, most common first.
func (a *Audience) Districts(ctx context.Context, limit int) ([]string, error) {
	counts := map[string]int{}
	err := a.Scan(ctx, func(user int64, p Person) {
		if d := a.District(user, p); d != "" {
			counts[d]++
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(counts))
	for d := range counts {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if counts[out[i]] != counts[out[j]] {
			return counts[out[i]] > counts[out[j]]
		}
		return out[i] < out[j]
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// DueReminder is a certification whose next reminder time has come.
type DueReminder struct {
	Account int64
	For     string
	At      time.Time // the reminder's scheduled time (its score)
	member  string
	bucket  int
}

// DueReminders lists reminders due at now in every bucket (one round trip
// for all buckets), at most limit per bucket.
func (a *Audience) DueReminders(ctx context.Context, now time.Time, limit int) ([]DueReminder, error) {
	cmds := make([]*redis.ZSliceCmd, a.buckets)
	_, err := a.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for n := 0; n < a.buckets; n++ {
			_, due := bucketKeys(n)
			cmds[n] = p.ZRangeByScoreWithScores(ctx, due, &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now.Unix(), 10), Count: int64(limit)})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list due reminders: %w", err)
	}
	var out []DueReminder
	for n, c := range cmds {
		for _, z := range c.Val() {
			m, _ := z.Member.(string)
			acc, forWhom, ok := strings.Cut(m, "|")
			id, err := strconv.ParseInt(acc, 10, 64)
			if !ok || err != nil {
				continue
			}
			out = append(out, DueReminder{Account: id, For: forWhom, At: time.Unix(int64(z.Score), 0), member: m, bucket: n})
		}
	}
	return out, nil
}

// KEYS due; ARGV member expected next ("" removes)
var advanceScript = redis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not s or tonumber(s) ~= tonumber(ARGV[2]) then return 0 end
if ARGV[3] == '' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
`)

// Advance moves a due reminder to its next time (zero: no more), if it is
// still where the caller saw it. It reports false when another process
// took it first or a new certification rescheduled it: whoever advances
// sends, so each reminder goes once across replicas and restarts.
func (a *Audience) Advance(ctx context.Context, r DueReminder, next time.Time) (bool, error) {
	_, due := bucketKeys(r.bucket)
	n := ""
	if !next.IsZero() {
		n = strconv.FormatInt(next.Unix(), 10)
	}
	ok, err := advanceScript.Run(ctx, a.rdb, []string{due}, r.member, r.At.Unix(), n).Int()
	if err != nil {
		return false, fmt.Errorf("advance reminder of %d: %w", r.Account, err)
	}
	return ok == 1, nil
}

// Undo puts a reminder back after a send that failed for a passing reason,
// if nothing moved it meanwhile.
func (a *Audience) Undo(ctx context.Context, r DueReminder, next time.Time) error {
	moved := DueReminder{Account: r.Account, For: r.For, At: next, member: r.member, bucket: r.bucket}
	if next.IsZero() {
		_, due := bucketKeys(r.bucket)
		return a.rdb.ZAddNX(ctx, due, redis.Z{Score: float64(r.At.Unix()), Member: r.member}).Err()
	}
	_, err := a.Advance(ctx, moved, r.At)
	return err
}

// Handlers are the registry's effects, for the bot's dispatcher. Each is
// idempotent.
func (a *Audience) Handlers() map[string]func(context.Context, flows.Effect) error {
	return map[string]func(context.Context, flows.Effect) error{
		flows.EffectTouch: func(ctx context.Context, e flows.Effect) error {
			var d flows.AudienceTouch
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return fmt.Errorf("%s: %w", e.Kind, err)
			}
			return a.Touch(ctx, e.User, d.Lang, d.Seen)
		},
		flows.EffectNotices: func(ctx context.Context, e flows.Effect) error {
			var d flows.NoticesSetting
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return fmt.Errorf("%s: %w", e.Kind, err)
			}
			return a.SetNotices(ctx, e.User, d.On)
		},
		flows.EffectDistrict: func(ctx context.Context, e flows.Effect) error {
			var d flows.DistrictGiven
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return fmt.Errorf("%s: %w", e.Kind, err)
			}
			return a.SetDistrict(ctx, e.User, d.District)
		},
		flows.EffectForget: func(ctx context.Context, e flows.Effect) error { return a.Forget(ctx, e.User) },
	}
}

// TrackedRecords saves certification records and enters their due dates
// in the registry in the same place, so reminders follow every record.
type TrackedRecords struct {
	flows.RecordStore
	Audience *Audience
	Now      func() time.Time
}

// certKey names a person's certification in the registry: "self" for the
// account holder, the relative's ID for a relative.
func certKey(who string) string {
	if who == "" || who == flows.Me {
		return "self"
	}
	return who
}

// SaveRecord keeps the record, then its due date.
func (t TrackedRecords) SaveRecord(ctx context.Context, user int64, who string, r flows.Record) error {
	if err := t.RecordStore.SaveRecord(ctx, user, who, r); err != nil {
		return err
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	if err := t.Audience.SaveCert(ctx, user, certKey(who), r.CertifiedOn, r.ValidUntil, now()); err != nil {
		return fmt.Errorf("schedule reminders: %w", err)
	}
	return nil
}

// Backfill enters the certification records saved before the registry
// existed, once per Redis (a flag key remembers it): a record whose
// account has no due date in the registry gets one, with its reminders
// from now on. It walks the keyspace with SCAN, on every master of a
// cluster.
func (a *Audience) Backfill(ctx context.Context, records flows.RecordStore, now time.Time) (int, error) {
	ok, err := a.rdb.SetNX(ctx, "aud:backfilled", now.Unix(), 0).Result()
	if err != nil || !ok {
		return 0, err
	}
	n := 0
	scan := func(ctx context.Context, c redis.UniversalClient) error {
		iter := c.Scan(ctx, 0, "{u:*}:record", 1000).Iterator()
		for iter.Next(ctx) {
			idStr, _ := strings.CutPrefix(iter.Val(), "{u:")
			idStr, _, _ = strings.Cut(idStr, "}")
			user, err := strconv.ParseInt(idStr, 10, 64)
			if err != nil {
				continue
			}
			if p, err := a.Get(ctx, user); err != nil || p != nil && p.Certs["self"].Due != 0 {
				continue
			}
			r, err := records.Record(ctx, user, flows.Me)
			if err != nil || r == nil {
				continue
			}
			if err := a.SaveCert(ctx, user, "self", r.CertifiedOn, r.ValidUntil, now); err != nil {
				return err
			}
			n++
		}
		return iter.Err()
	}
	if cc, ok := a.rdb.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, a.rdb)
	}
	if err != nil {
		a.rdb.Del(context.WithoutCancel(ctx), "aud:backfilled") // try again at the next start
		return n, fmt.Errorf("backfill the registry: %w", err)
	}
	return n, nil
}
