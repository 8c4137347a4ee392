// Package idcard parses and checks Chinese resident identity numbers
// (GB 11643-1999).
//
// A number has 18 characters: a 6-digit region code, the birth date as
// YYYYMMDD, a 3-digit sequence number whose parity gives the holder's sex
// (odd is male), and an ISO 7064 MOD 11-2 check character (a digit or X).
//
// The region code is only required to be six digits. Codes are renamed and
// merged as districts are reorganised, but people keep the number they were
// issued, so checking against any list would reject valid holders.
//
// An ID number is personal data. The ID type prints, logs and formats
// itself in masked form only, and errors from this package never contain a
// full number, so that neither ends up in logs or chat replies by accident.
package idcard

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// The sentinel errors below are the reasons Parse rejects a number. Each is
// a distinct thing the person can fix, so the bot can show a specific
// message for each; test for them with errors.Is.
var (
	ErrEmpty       = errors.New("empty id number")
	ErrLength      = errors.New("wrong length")
	ErrCharacters  = errors.New("not 17 digits followed by a digit or X")
	ErrBirthDate   = errors.New("birth date is not a real date from 1870 on")
	ErrFutureBirth = errors.New("birth date is in the future")
	ErrChecksum    = errors.New("check character does not match")
)

// Length is the number of characters in a resident ID number.
const Length = 18

// Sex of the holder, from the sequence number.
type Sex int

// The zero Sex is deliberately not a valid value, so that an ID that was
// never parsed cannot pass for a female holder.
const (
	Female Sex = iota + 1
	Male
)

// String returns "female" or "male".
func (s Sex) String() string {
	switch s {
	case Female:
		return "female"
	case Male:
		return "male"
	}
	return fmt.Sprintf("Sex(%d)", int(s))
}

// ID is a validated, normalised ID number. Obtain one from Parse; the zero
// ID is not a valid number.
type ID struct {
	Number string    // 18 ASCII characters, check character upper-case
	Birth  time.Time // birth date at 00:00 UTC
	Sex    Sex
}

// minBirth is the earliest birth date accepted. Nobody born earlier is
// alive, so an earlier date is a typo rather than a real holder.
var minBirth = time.Date(1870, time.January, 1, 0, 0, 0, 0, time.UTC)

// Normalize rewrites an ID number as people type or paste it into the form
// Parse checks: full-width digits and letters X/x (from Chinese input
// methods) become ASCII, a lower-case x becomes X, and white space
// (including the ideographic space U+3000) and dashes typed between groups
// are dropped, and so are invisible characters that pasted text carries
// (see invisible). It does not validate. Each byte that is not valid UTF-8
// becomes U+FFFD: kept raw, stray bytes on either side of a dropped space
// could join into a valid rune, and Normalize would not be idempotent.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteRune(utf8.RuneError)
		case r >= '０' && r <= '９':
			b.WriteByte(byte('0' + r - '０'))
		case r == 'x' || r == 'Ｘ' || r == 'ｘ':
			b.WriteByte('X')
		case unicode.IsSpace(r) || isDash(r) || invisible(r):
			// dropped
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isDash reports whether r is a dash people put between digit groups. Input
// methods and word processors turn '-' into many look-alikes, hence the
// whole dash punctuation category plus the soft hyphen and minus sign.
func isDash(r rune) bool {
	return unicode.Is(unicode.Pd, r) || r == '\u00AD' || r == '\u2212'
}

// invisible reports whether r takes no room on screen: format characters
// (category Cf: zero-width space and joiners, the byte order mark, bidi
// marks and isolates, the word joiner, invisible operators, tag
// characters) and variation selectors. Text copied from chat apps, web
// pages and word processors brings them along; the person sees 18
// characters and cannot find the 19th that Parse would complain about.
// None of them can be part of a number, so dropping them loses nothing.
func invisible(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Variation_Selector, r)
}

// Parse normalises s (see Normalize) and validates it as a resident ID
// number. The birth date must be a real date, on or after 1870-01-01 and
// not after the calendar date of now in now's location, so pass now in the
// time zone the holder lives in (Asia/Shanghai) to avoid rejecting someone
// born today.
//
// On failure the error wraps exactly one of ErrEmpty, ErrLength,
// ErrCharacters, ErrBirthDate, ErrFutureBirth and ErrChecksum, checked in
// that order. Date errors come before the checksum because a person who
// mistyped a date digit is better helped by "check your birth date" than by
// "the number is wrong".
func Parse(s string, now time.Time) (ID, error) {
	n := Normalize(s)
	if n == "" {
		return ID{}, fmt.Errorf("idcard: %w", ErrEmpty)
	}
	if c := utf8.RuneCountInString(n); c != Length {
		return ID{}, fmt.Errorf("idcard: id number %s has %d characters, want %d: %w", Mask(n), c, Length, ErrLength)
	}
	if !validChars(n) {
		return ID{}, fmt.Errorf("idcard: id number %s: %w", Mask(n), ErrCharacters)
	}

	y, m, d := atoi(n[6:10]), atoi(n[10:12]), atoi(n[12:14])
	birth := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	// time.Date normalises out-of-range fields (Feb 30 becomes Mar 2), so
	// a date is real exactly when it survives the round trip.
	if by, bm, bd := birth.Date(); by != y || int(bm) != m || bd != d || birth.Before(minBirth) {
		return ID{}, fmt.Errorf("idcard: id number %s: %w", Mask(n), ErrBirthDate)
	}
	if birth.After(civilDate(now)) {
		return ID{}, fmt.Errorf("idcard: id number %s: %w", Mask(n), ErrFutureBirth)
	}

	if want := checkChar(n[:17]); n[17] != want {
		return ID{}, fmt.Errorf("idcard: id number %s: %w", Mask(n), ErrChecksum)
	}

	sex := Female
	if (n[16]-'0')%2 == 1 {
		sex = Male
	}
	return ID{Number: n, Birth: birth, Sex: sex}, nil
}

// validChars reports whether n (already 18 runes) is 17 ASCII digits and a
// digit or X. Checking bytes is enough: any non-ASCII rune makes the byte
// length exceed 18.
func validChars(n string) bool {
	if len(n) != Length {
		return false
	}
	for i := 0; i < 17; i++ {
		if !isDigit(n[i]) {
			return false
		}
	}
	return isDigit(n[17]) || n[17] == 'X'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// atoi converts a string of ASCII digits already checked by validChars.
func atoi(s string) int {
	v := 0
	for i := 0; i < len(s); i++ {
		v = v*10 + int(s[i]-'0')
	}
	return v
}

// civilDate returns t's calendar date in t's own location as midnight UTC,
// comparable with ID.Birth.
func civilDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ISO 7064 MOD 11-2 as used by GB 11643-1999: weight i is 2^(17-i) mod 11,
// and the check character makes the weighted sum of all 18 ≡ 1 (mod 11).
var (
	weights    = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	checkChars = [11]byte{'1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'}
)

// checkChar assumes first17 is 17 ASCII digits.
func checkChar(first17 string) byte {
	sum := 0
	for i, w := range weights {
		sum += int(first17[i]-'0') * w
	}
	return checkChars[sum%11]
}

// CheckChar returns the check character ('0'-'9' or 'X') for the first 17
// characters of an ID number, which must be ASCII digits (Normalize first
// if they come from a person). The error wraps ErrLength or ErrCharacters
// and, like Parse's, does not contain the digits.
func CheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("idcard: check character needs 17 digits, got %d bytes: %w", len(first17), ErrLength)
	}
	for i := 0; i < len(first17); i++ {
		if !isDigit(first17[i]) {
			return 0, fmt.Errorf("idcard: check character needs 17 digits: %w", ErrCharacters)
		}
	}
	return checkChar(first17), nil
}

// Age returns the holder's age in completed years on the calendar date of
// on (in on's location). The age goes up on the birthday itself; someone
// born on 29 February gets a year older on 1 March in non-leap years, which
// falls out of comparing (month, day) pairs. Dates before the birth give 0
// rather than a negative age.
func (id ID) Age(on time.Time) int {
	oy, om, od := on.Date()
	by, bm, bd := id.Birth.Date()
	age := oy - by
	if om < bm || (om == bm && od < bd) {
		age--
	}
	return max(age, 0)
}

// Masked returns the number with all but the first 6 and last 4 characters
// replaced by '*', e.g. "110105********002X". What remains (region, end of
// sequence, check character) is enough for a person to recognise their
// number but not to use it.
func (id ID) Masked() string { return Mask(id.Number) }

// String returns the masked number, so fmt never prints the full number by
// accident.
func (id ID) String() string { return id.Masked() }

// LogValue implements slog.LogValuer so that log records carry only the
// masked number.
func (id ID) LogValue() slog.Value { return slog.StringValue(id.Masked()) }

// GoString masks the number in %#v output too, which otherwise prints
// struct fields and bypasses String.
func (id ID) GoString() string {
	return fmt.Sprintf("idcard.ID{Number:%q, Birth:%s, Sex:%s}", id.Masked(), id.Birth.Format(time.DateOnly), id.Sex)
}

// Format implements fmt.Formatter. Without it, verbs other than %v %s %q
// %x %X (say %d in a mistaken format string) would print the struct
// fields, including the full number. Every verb is applied to the masked
// form instead; %#v uses GoString.
func (id ID) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, id.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), id.Masked())
}

// Mask hides the middle of s: with 10 runes or more the first 6 and last 4
// are kept and every rune between them becomes '*'; shorter strings become
// all '*'. The result has as many runes as s, so a person can still see
// that they typed the right number of characters. Use it for any
// ID-number-like text (for example rejected input) before logging it.
func Mask(s string) string {
	r := []rune(s)
	keepHead, keepTail := 6, 4
	if len(r) < keepHead+keepTail {
		keepHead, keepTail = 0, 0
	}
	for i := keepHead; i < len(r)-keepTail; i++ {
		r[i] = '*'
	}
	return string(r)
}
