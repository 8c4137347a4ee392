package store

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/domain"
	"pensionbot/flows"
	"pensionbot/secret"
)

var (
	_ flows.OpenCases = (*Family)(nil)
	_ flows.Links     = (*Family)(nil)
)

// Family keeps what family help shares between accounts: the open case of
// each pensioner (so the same ID number is never in two open cases) and
// the invitations and links between pensioners and their helpers.
//
// Keys:
//
//	{pensioner:<hmac>}:open       the case ID holding the pensioner; TTL of the case
//	{family}:invite:<code>        the pensioner who made the invitation; TTL 24 h
//	{family}:helpers:<pensioner>  hash: helper -> sealed link (relationship, since)
//	{family}:helps:<helper>       set: pensioners the helper is linked to
//
// The pensioner of an open case is named by an HMAC of the ID number under
// a key derived from DATA_KEY, never by the number. The link keys share
// the hash tag {family}, so the scripts that touch both sides run on a
// Redis Cluster.
type Family struct {
	rdb    redis.UniversalClient
	sealer *secret.Sealer
	mac    []byte
}

// NewFamily returns the family store.
func NewFamily(rdb redis.UniversalClient, sealer *secret.Sealer) *Family {
	return &Family{rdb: rdb, sealer: sealer, mac: sealer.Derive("open case of a pensioner")}
}

// pensionerKey is the keyed hash of an ID number.
func (f *Family) pensionerKey(number string) string {
	m := hmac.New(sha256.New, f.mac)
	m.Write([]byte(number))
	return hex.EncodeToString(m.Sum(nil))
}

func openKey(hash string) string { return "{pensioner:" + hash + "}:open" }

// KEYS open; ARGV case ttl_ms
var openScript = redis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// KEYS open; ARGV case
var closeScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
`)

// Open holds the pensioner with this ID number for caseID, atomically:
// of two accounts submitting at once, one gets it.
func (f *Family) Open(ctx context.Context, number, caseID string, ttl time.Duration) (string, bool, error) {
	if ttl <= 0 {
		ttl = 7 * 24 * time.Hour
	}
	h := f.pensionerKey(number)
	ok, err := openScript.Run(ctx, f.rdb, []string{openKey(h)}, caseID, ttl.Milliseconds()).Int()
	if err != nil {
		return "", false, fmt.Errorf("open case %s: %w", caseID, err)
	}
	return h, ok == 1, nil
}

// Close lets go of the pensioner if caseID still holds them.
func (f *Family) Close(ctx context.Context, key, caseID string) error {
	if key == "" {
		return nil
	}
	if err := closeScript.Run(ctx, f.rdb, []string{openKey(key)}, caseID).Err(); err != nil {
		return fmt.Errorf("close case %s: %w", caseID, err)
	}
	return nil
}

const famTag = "{family}:"

func inviteKey(code string) string     { return famTag + "invite:" + code }
func helpersKey(p int64) string        { return famTag + "helpers:" + strconv.FormatInt(p, 10) }
func helpsKey(h int64) string          { return famTag + "helps:" + strconv.FormatInt(h, 10) }
func uid(u int64) string               { return strconv.FormatInt(u, 10) }
func linkAAD(p int64, h string) []byte { return []byte(helpersKey(p) + "/" + h) }

// link is the sealed value of a link (the relationship is personal data).
type link struct {
	Relation string    `json:"r,omitempty"`
	Since    time.Time `json:"s"`
	Pending  time.Time `json:"p,omitzero"`
}

// Invite makes a single-use code: 22 characters of A-Z a-z 0-9 _ -, fit
// for a t.me deep link.
func (f *Family) Invite(ctx context.Context, pensioner int64, ttl time.Duration) (string, error) {
	b := make([]byte, 16)
	rand.Read(b)
	code := base64.RawURLEncoding.EncodeToString(b)
	if err := f.rdb.Set(ctx, inviteKey(code), uid(pensioner), ttl).Err(); err != nil {
		return "", fmt.Errorf("store invitation of %d: %w", pensioner, err)
	}
	return code, nil
}

// KEYS invite; ARGV helper sealed-link tag
var acceptScript = redis.NewScript(`
local p = redis.call('GET', KEYS[1])
if not p then return false end
redis.call('DEL', KEYS[1])
if p == ARGV[1] then return false end
return p
`)

// Accept uses an invitation once and links helper to its pensioner.
func (f *Family) Accept(ctx context.Context, code string, helper int64, now time.Time) (int64, error) {
	res, err := acceptScript.Run(ctx, f.rdb, []string{inviteKey(code)}, uid(helper)).Text()
	if errors.Is(err, redis.Nil) {
		return 0, flows.ErrInvite
	}
	if err != nil {
		return 0, fmt.Errorf("accept invitation: %w", err)
	}
	p, err := strconv.ParseInt(res, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("accept invitation: bad pensioner %q", res)
	}
	if err := f.put(ctx, p, helper, link{Since: now}); err != nil {
		return 0, err
	}
	return p, nil
}

func (f *Family) put(ctx context.Context, p, h int64, l link) error {
	raw, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encode link: %w", err)
	}
	_, err = f.rdb.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		tx.HSet(ctx, helpersKey(p), uid(h), f.sealer.Seal(raw, linkAAD(p, uid(h))))
		tx.SAdd(ctx, helpsKey(h), uid(p))
		return nil
	})
	if err != nil {
		return fmt.Errorf("link %d to %d: %w", h, p, err)
	}
	return nil
}

// SetRelation records what the pensioner is to the helper.
func (f *Family) SetRelation(ctx context.Context, p, h int64, relation string) error {
	return f.change(ctx, p, h, func(l *link) { l.Relation = relation })
}

// SetPending records that the helper sent a certification for the
// pensioner on since, still undecided (zero: none any more).
func (f *Family) SetPending(ctx context.Context, p, h int64, since time.Time) error {
	return f.change(ctx, p, h, func(l *link) { l.Pending = since })
}

// change rewrites an existing link; a link removed meanwhile (the
// pensioner unlinked the helper) stays removed.
func (f *Family) change(ctx context.Context, p, h int64, edit func(*link)) error {
	key, field := helpersKey(p), uid(h)
	err := f.rdb.Watch(ctx, func(tx *redis.Tx) error {
		sealed, err := tx.HGet(ctx, key, field).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		var l link
		if raw, err := f.sealer.Open([]byte(sealed), linkAAD(p, field)); err == nil {
			json.Unmarshal(raw, &l)
		}
		edit(&l)
		raw, err := json.Marshal(l)
		if err != nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
			pipe.HSet(ctx, key, field, f.sealer.Seal(raw, linkAAD(p, field)))
			return nil
		})
		return err
	}, key)
	if err != nil {
		return fmt.Errorf("change link of %d to %d: %w", h, p, err)
	}
	return nil
}

// Linked reports whether helper is linked to pensioner.
func (f *Family) Linked(ctx context.Context, p, h int64) (bool, error) {
	ok, err := f.rdb.HExists(ctx, helpersKey(p), uid(h)).Result()
	if err != nil {
		return false, fmt.Errorf("look up link: %w", err)
	}
	return ok, nil
}

// Helpers lists the helpers linked to a pensioner, oldest first.
func (f *Family) Helpers(ctx context.Context, p int64) ([]domain.Link, error) {
	all, err := f.rdb.HGetAll(ctx, helpersKey(p)).Result()
	if err != nil {
		return nil, fmt.Errorf("list helpers of %d: %w", p, err)
	}
	var out []domain.Link
	for h, sealed := range all {
		hid, err := strconv.ParseInt(h, 10, 64)
		if err != nil {
			continue
		}
		var l link
		if raw, err := f.sealer.Open([]byte(sealed), linkAAD(p, h)); err == nil {
			json.Unmarshal(raw, &l)
		}
		out = append(out, domain.Link{User: hid, Relation: l.Relation, Since: l.Since, Pending: l.Pending})
	}
	sortLinks(out)
	return out, nil
}

func sortLinks(ls []domain.Link) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && (ls[j].Since.Before(ls[j-1].Since) || ls[j].Since.Equal(ls[j-1].Since) && ls[j].User < ls[j-1].User); j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// Unlink removes the link between a pensioner and a helper.
func (f *Family) Unlink(ctx context.Context, p, h int64) error {
	_, err := f.rdb.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		tx.HDel(ctx, helpersKey(p), uid(h))
		tx.SRem(ctx, helpsKey(h), uid(p))
		return nil
	})
	if err != nil {
		return fmt.Errorf("unlink %d from %d: %w", h, p, err)
	}
	return nil
}

// Forget removes every link of user, as pensioner and as helper.
func (f *Family) Forget(ctx context.Context, user int64) error {
	helpers, err := f.rdb.HKeys(ctx, helpersKey(user)).Result()
	if err != nil {
		return fmt.Errorf("forget links of %d: %w", user, err)
	}
	helped, err := f.rdb.SMembers(ctx, helpsKey(user)).Result()
	if err != nil {
		return fmt.Errorf("forget links of %d: %w", user, err)
	}
	_, err = f.rdb.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		for _, h := range helpers {
			tx.SRem(ctx, famTag+"helps:"+h, uid(user))
		}
		for _, p := range helped {
			tx.HDel(ctx, famTag+"helpers:"+p, uid(user))
		}
		tx.Del(ctx, helpersKey(user), helpsKey(user))
		return nil
	})
	if err != nil {
		return fmt.Errorf("forget links of %d: %w", user, err)
	}
	return nil
}
