package store

import (
	"context"
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
	_ flows.PhotoStore  = (*Photos)(nil)
	_ flows.RecordStore = (*Photos)(nil)
)

// Photos keeps a person's certification photos and their certification
// record. Photos are sealed, apart from the state (biometric data is kept
// apart from identity data), and expire after PhotoTTL even if nobody
// deletes them. Records hold no photo and only a masked ID number; they
// outlive idle states, since a certification is valid for a year.
type Photos struct {
	rdb       redis.UniversalClient
	sealer    *secret.Sealer
	photoTTL  time.Duration
	recordTTL time.Duration
}

// NewPhotos returns a photo and record store; zero TTLs take the defaults
// (7 days for photos, 400 days for records).
func NewPhotos(rdb redis.UniversalClient, sealer *secret.Sealer, photoTTL, recordTTL time.Duration) *Photos {
	if photoTTL <= 0 {
		photoTTL = 7 * 24 * time.Hour
	}
	if recordTTL <= 0 {
		recordTTL = 400 * 24 * time.Hour
	}
	return &Photos{rdb: rdb, sealer: sealer, photoTTL: photoTTL, recordTTL: recordTTL}
}

var photoKinds = []string{flows.PhotoCard, flows.PhotoFace, flows.PhotoLiveness}

// photoKey names one photo of a person on an account: the account
// holder's (flows.Me) under the key they had before family help, a
// relative's with their ID.
func photoKey(user int64, who, kind string) string {
	if who == "" || who == flows.Me {
		return "{u:" + strconv.FormatInt(user, 10) + "}:photo:" + kind
	}
	return "{u:" + strconv.FormatInt(user, 10) + "}:photo:" + who + ":" + kind
}

// recordKey names a person's record, the holder's as before family help.
func recordKey(user int64, who string) string {
	if who == "" || who == flows.Me {
		return "{u:" + strconv.FormatInt(user, 10) + "}:record"
	}
	return "{u:" + strconv.FormatInt(user, 10) + "}:record:" + who
}

// PutPhoto stores (or replaces) one photo.
func (p *Photos) PutPhoto(ctx context.Context, user int64, who, kind string, data []byte) error {
	k := photoKey(user, who, kind)
	if err := p.rdb.Set(ctx, k, p.sealer.Seal(data, []byte(k)), p.photoTTL).Err(); err != nil {
		return fmt.Errorf("store %s photo of %d: %w", kind, user, err)
	}
	return nil
}

// Photo returns one photo, or nil when there is none (deleted or expired).
func (p *Photos) Photo(ctx context.Context, user int64, who, kind string) ([]byte, error) {
	k := photoKey(user, who, kind)
	sealed, err := p.rdb.Get(ctx, k).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load %s photo of %d: %w", kind, user, err)
	}
	data, err := p.sealer.Open(sealed, []byte(k))
	if err != nil {
		return nil, fmt.Errorf("open %s photo of %d: %w", kind, user, err)
	}
	return data, nil
}

// DeletePhotos removes all photos of one person on an account.
func (p *Photos) DeletePhotos(ctx context.Context, user int64, who string) error {
	keys := make([]string, len(photoKinds))
	for i, kind := range photoKinds {
		keys[i] = photoKey(user, who, kind)
	}
	if err := p.rdb.Del(ctx, keys...).Err(); err != nil {
		return fmt.Errorf("delete photos of %d: %w", user, err)
	}
	return nil
}

// SaveRecord keeps a certification record.
func (p *Photos) SaveRecord(ctx context.Context, user int64, who string, r domain.Record) error {
	raw, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	k := recordKey(user, who)
	if err := p.rdb.Set(ctx, k, p.sealer.Seal(raw, []byte(k)), p.recordTTL).Err(); err != nil {
		return fmt.Errorf("save record of %d: %w", user, err)
	}
	return nil
}

// DeleteRecord removes a person's certification record.
func (p *Photos) DeleteRecord(ctx context.Context, user int64, who string) error {
	if err := p.rdb.Del(ctx, recordKey(user, who)).Err(); err != nil {
		return fmt.Errorf("delete record of %d/%s: %w", user, who, err)
	}
	return nil
}

// Record returns the person's certification record, or nil.
func (p *Photos) Record(ctx context.Context, user int64, who string) (*domain.Record, error) {
	k := recordKey(user, who)
	sealed, err := p.rdb.Get(ctx, k).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load record of %d: %w", user, err)
	}
	raw, err := p.sealer.Open(sealed, []byte(k))
	if err != nil {
		return nil, fmt.Errorf("open record of %d: %w", user, err)
	}
	var r domain.Record
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("decode record of %d: %w", user, err)
	}
	return &r, nil
}
