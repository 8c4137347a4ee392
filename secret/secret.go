// Package secret encrypts personal data at rest with AES-256-GCM.
//
// A Sealer holds one or more keys: the first seals, every one opens, so a key
// can be rotated by putting the new key first and keeping the old one until
// every record was rewritten or expired. Each sealed value names its key by a
// short fingerprint and is bound to where it is stored (the associated data),
// so a value copied from one person's record to another's does not open.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

const (
	version   = 1
	idLen     = 4
	nonceLen  = 12
	headerLen = 1 + idLen + nonceLen
	// KeyLen is the length of a key in bytes.
	KeyLen = 32
)

// ErrOpen means a sealed value could not be opened: it was altered, stored
// under another name, or sealed with a key this Sealer does not hold.
var ErrOpen = errors.New("cannot open sealed value")

type key struct {
	id   [idLen]byte
	aead cipher.AEAD
	// derive is the root of keys derived for other purposes (Derive), so
	// the data key itself is used for nothing but sealing.
	derive []byte
}

// Sealer seals and opens values. It is safe for concurrent use.
type Sealer struct {
	keys []key
}

// Parse reads keys written as base64 (standard or URL alphabet, padded or
// not) or hex, separated by commas. The first key seals.
func Parse(s string) (*Sealer, error) {
	var sl Sealer
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		raw, err := decodeKey(part)
		if err != nil {
			return nil, err
		}
		k, err := newKey(raw)
		if err != nil {
			return nil, err
		}
		sl.keys = append(sl.keys, k)
	}
	if len(sl.keys) == 0 {
		return nil, errors.New("no key given")
	}
	return &sl, nil
}

func decodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeyLen {
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeyLen {
				return nil, fmt.Errorf("key is %d bytes, want %d", len(b), KeyLen)
			}
			return b, nil
		}
	}
	return nil, fmt.Errorf("key is neither base64 nor hex of %d bytes", KeyLen)
}

func newKey(raw []byte) (key, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return key{}, fmt.Errorf("new cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return key{}, fmt.Errorf("new gcm: %w", err)
	}
	sum := sha256.Sum256(raw)
	var k key
	copy(k.id[:], sum[:idLen])
	k.aead = aead
	m := hmac.New(sha256.New, raw)
	m.Write([]byte("pensionbot derived keys v1"))
	k.derive = m.Sum(nil)
	return k, nil
}

// Derive returns a 32-byte key for purpose, derived from the sealing key
// (HMAC-SHA256): for example the key of a keyed hash that must match the
// same input on every process, without storing the input. After a key
// rotation the derived keys change too.
func (s *Sealer) Derive(purpose string) []byte {
	m := hmac.New(sha256.New, s.keys[0].derive)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// NewKey returns a fresh random key in base64, for a key file.
func NewKey() string {
	b := make([]byte, KeyLen)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // never fails on supported platforms
	}
	return base64.StdEncoding.EncodeToString(b)
}

// Seal encrypts plain, bound to aad (for example the Redis key it is stored
// under).
func (s *Sealer) Seal(plain, aad []byte) []byte {
	k := s.keys[0]
	out := make([]byte, headerLen, headerLen+len(plain)+k.aead.Overhead())
	out[0] = version
	copy(out[1:], k.id[:])
	if _, err := rand.Read(out[1+idLen : headerLen]); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	return k.aead.Seal(out, out[1+idLen:headerLen], plain, aad)
}

// Open decrypts a value made by Seal with the same aad.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < headerLen || sealed[0] != version {
		return nil, fmt.Errorf("%w: not a sealed value", ErrOpen)
	}
	for _, k := range s.keys {
		if string(k.id[:]) != string(sealed[1:1+idLen]) {
			continue
		}
		plain, err := k.aead.Open(nil, sealed[1+idLen:headerLen], sealed[headerLen:], aad)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrOpen, err)
		}
		return plain, nil
	}
	return nil, fmt.Errorf("%w: sealed with an unknown key", ErrOpen)
}

// LogValue keeps keys out of logs.
func (s *Sealer) LogValue() slog.Value {
	return slog.StringValue(fmt.Sprintf("[%d key(s) redacted]", len(s.keys)))
}

// String keeps keys out of fmt output.
func (s *Sealer) String() string { return s.LogValue().String() }
