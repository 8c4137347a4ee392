package store

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"pensionbot/domain"
	"pensionbot/flows"
	"pensionbot/secret"
)

func newFamily(t *testing.T, db int) (*Family, context.Context) {
	t.Helper()
	sl, err := secret.Parse(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return NewFamily(srv.Client(t, db), sl), context.Background()
}

// Two accounts submit a case for the same ID number at the same moment:
// exactly one holds the pensioner, and Redis never sees the number.
func TestOneOpenCasePerPensioner(t *testing.T) {
	f, ctx := newFamily(t, 20)
	const number = "11010519491231002X"
	var wg sync.WaitGroup
	won := make(chan string, 20)
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			caseID := "case-" + string(rune('a'+i))
			if _, ok, err := f.Open(ctx, number, caseID, time.Hour); err != nil {
				t.Error(err)
			} else if ok {
				won <- caseID
			}
		}()
	}
	wg.Wait()
	close(won)
	var winners []string
	for c := range won {
		winners = append(winners, c)
	}
	if len(winners) != 1 {
		t.Fatalf("%d cases hold the pensioner: %v", len(winners), winners)
	}
	// The same case again (a step run twice) still holds it.
	key, ok, err := f.Open(ctx, number, winners[0], time.Hour)
	if err != nil || !ok {
		t.Fatalf("reopen by the holder: %v %v", ok, err)
	}
	keys, _ := f.rdb.Keys(ctx, "*").Result()
	for _, k := range keys {
		v, _ := f.rdb.Get(ctx, k).Bytes()
		if bytes.Contains([]byte(k), []byte(number)) || bytes.Contains([]byte(k), []byte("1949")) || bytes.Contains(v, []byte(number)) {
			t.Errorf("the ID number is readable in %s", k)
		}
	}
	// Another case's close does nothing; the holder's lets go.
	f.Close(ctx, key, "case-other")
	if _, ok, _ := f.Open(ctx, number, "case-other", time.Hour); ok {
		t.Fatal("closed by a case that did not hold it")
	}
	f.Close(ctx, key, winners[0])
	if _, ok, _ := f.Open(ctx, number, "case-other", time.Hour); !ok {
		t.Fatal("not released by its holder")
	}
}

// An invitation works once and expires; a pensioner cannot link to
// themself; either side can unlink; /forget removes every link.
func TestInvitationsAndLinks(t *testing.T) {
	f, ctx := newFamily(t, 21)
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	code, err := f.Invite(ctx, 100, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(code) > 64 || len(code) < 16 || !validPayload(code) {
		t.Fatalf("code %q is not a deep-link payload", code)
	}
	if _, err := f.Accept(ctx, code, 100, now); !errors.Is(err, flows.ErrInvite) {
		t.Fatalf("self-link: %v", err)
	}
	code, _ = f.Invite(ctx, 100, time.Hour)
	if p, err := f.Accept(ctx, code, 200, now); err != nil || p != 100 {
		t.Fatalf("accept: %d %v", p, err)
	}
	if _, err := f.Accept(ctx, code, 300, now); !errors.Is(err, flows.ErrInvite) {
		t.Fatalf("second use: %v", err)
	}
	short, _ := f.Invite(ctx, 100, 50*time.Millisecond)
	time.Sleep(120 * time.Millisecond)
	if _, err := f.Accept(ctx, short, 300, now); !errors.Is(err, flows.ErrInvite) {
		t.Fatalf("expired invitation: %v", err)
	}
	if err := f.SetRelation(ctx, 100, 200, flows.RelParent); err != nil {
		t.Fatal(err)
	}
	hs, err := f.Helpers(ctx, 100)
	if err != nil || len(hs) != 1 || hs[0].User != 200 || hs[0].Relation != flows.RelParent || !hs[0].Since.Equal(now) {
		t.Fatalf("helpers: %+v %v", hs, err)
	}
	if ok, _ := f.Linked(ctx, 100, 200); !ok {
		t.Fatal("not linked")
	}
	// A case sent by the helper shows on the pensioner's side, and the
	// relationship is kept beside it.
	sent := now.Add(time.Hour)
	if err := f.SetPending(ctx, 100, 200, sent); err != nil {
		t.Fatal(err)
	}
	if hs, _ := f.Helpers(ctx, 100); len(hs) != 1 || !hs[0].Pending.Equal(sent) || hs[0].Relation != flows.RelParent {
		t.Fatalf("pending: %+v", hs)
	}
	if err := f.SetPending(ctx, 100, 200, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if hs, _ := f.Helpers(ctx, 100); len(hs) != 1 || !hs[0].Pending.IsZero() {
		t.Fatalf("pending not cleared: %+v", hs)
	}
	if err := f.Unlink(ctx, 100, 200); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.Linked(ctx, 100, 200); ok {
		t.Fatal("still linked")
	}
	// A change that comes after the pensioner unlinked does not bring the
	// link back.
	if err := f.SetPending(ctx, 100, 200, sent); err != nil {
		t.Fatal(err)
	}
	if err := f.SetRelation(ctx, 100, 200, flows.RelParent); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.Linked(ctx, 100, 200); ok {
		t.Fatal("a late change linked the helper again")
	}
	code, _ = f.Invite(ctx, 100, time.Hour)
	f.Accept(ctx, code, 200, now)
	if err := f.Forget(ctx, 200); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.Linked(ctx, 100, 200); ok {
		t.Fatal("link kept after the helper's /forget")
	}
	if n, _ := f.rdb.Exists(ctx, helpsKey(200), helpersKey(100)).Result(); n != 0 {
		t.Fatalf("%d link keys left", n)
	}
}

func validPayload(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// A record stored by the program before family help (one per account) is
// the account holder's record now, and relatives' records are apart.
func TestRecordOfTodaysFormatIsMine(t *testing.T) {
	c := srv.Client(t, 22)
	sl, _ := secret.Parse(secret.NewKey())
	ctx := context.Background()
	old := []byte(`{"on":"2026-01-05T08:00:00Z","until":"2027-01-05T08:00:00Z","channel":"green","by":"staff","number":"110105********002X"}`)
	c.Set(ctx, "{u:9}:record", sl.Seal(old, []byte("{u:9}:record")), 0)
	p := NewPhotos(c, sl, 0, 0)
	rec, err := p.Record(ctx, 9, flows.Me)
	if err != nil || rec == nil || rec.Channel != "green" || rec.MaskedNumber != "110105********002X" {
		t.Fatalf("old record not read as mine: %+v %v", rec, err)
	}
	if r, _ := p.Record(ctx, 9, "r1"); r != nil {
		t.Fatalf("a relative sees the holder's record: %+v", r)
	}
	p.SaveRecord(ctx, 9, "r1", domain.Record{Channel: "general"})
	p.PutPhoto(ctx, 9, "r1", flows.PhotoFace, []byte("jpeg"))
	p.DeletePhotos(ctx, 9, "r1")
	p.DeleteRecord(ctx, 9, "r1")
	if r, _ := p.Record(ctx, 9, flows.Me); r == nil {
		t.Fatal("deleting a relative's record deleted the holder's")
	}
	if n, _ := c.DBSize(ctx).Result(); n != 1 {
		t.Fatalf("%d keys left, want only the holder's record", n)
	}
}
