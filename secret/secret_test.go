package secret

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestSealOpen(t *testing.T) {
	k := NewKey()
	s, err := Parse(k)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("张秀兰 11010519491231002X")
	sealed := s.Seal(plain, []byte("{u:1}:state"))
	if bytes.Contains(sealed, plain) || bytes.Contains(sealed, []byte("11010519491231002X")) {
		t.Fatal("sealed value contains the plaintext")
	}
	got, err := s.Open(sealed, []byte("{u:1}:state"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, []byte("{u:2}:state")); !errors.Is(err, ErrOpen) {
		t.Fatalf("value moved to another key opened: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := s.Open(sealed, []byte("{u:1}:state")); !errors.Is(err, ErrOpen) {
		t.Fatalf("altered value opened: %v", err)
	}
}

func TestRotation(t *testing.T) {
	oldKey, newKey := NewKey(), NewKey()
	old, _ := Parse(oldKey)
	sealed := old.Seal([]byte("x"), nil)
	both, err := Parse(newKey + "," + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := both.Open(sealed, nil); err != nil || string(got) != "x" {
		t.Fatalf("old value after rotation: %q %v", got, err)
	}
	fresh, _ := Parse(newKey)
	if _, err := fresh.Open(sealed, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("value opened without its key: %v", err)
	}
	if _, err := fresh.Open(both.Seal([]byte("y"), nil), nil); err != nil {
		t.Fatalf("first key must seal: %v", err)
	}
}

func TestParse(t *testing.T) {
	raw := bytes.Repeat([]byte{7}, KeyLen)
	for _, in := range []string{hex.EncodeToString(raw), NewKey(), " " + NewKey() + " "} {
		if _, err := Parse(in); err != nil {
			t.Errorf("Parse(%q): %v", in, err)
		}
	}
	for _, in := range []string{"", "short", "abcd", hex.EncodeToString(raw[:16]), ","} {
		if _, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted a bad key", in)
		}
	}
}

func TestNoKeyInOutput(t *testing.T) {
	k := NewKey()
	s, _ := Parse(k)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %s", s, s, s), s.LogValue().String()} {
		if strings.Contains(out, k) {
			t.Fatalf("key printed: %s", out)
		}
	}
}
