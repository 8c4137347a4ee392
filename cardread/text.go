package cardread

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"pensionbot/idcard"
)

// china is the holders' time zone, for the "birth date not in the future"
// check (fixed UTC+8: no tzdata needed, China has no daylight saving).
var china = time.FixedZone("CST", 8*60*60)

// letterDigit maps characters OCR engines read instead of digits. A letter
// is never valid in the first 17 positions, so mapping it is not a guess
// between two valid readings.
var letterDigit = map[rune]byte{
	'O': '0', 'o': '0', 'D': '0', 'Q': '0', '〇': '0', '○': '0', 'Ｏ': '0',
	'I': '1', 'l': '1', 'i': '1', '|': '1', '!': '1', '丨': '1', '｜': '1',
	'Z': '2', 'z': '2',
	'B': '8', 'S': '5', 's': '5',
	'G': '6', 'b': '6',
	'T': '7',
	'g': '9', 'q': '9',
}

// checkAlias are readings of the check character X.
var checkAlias = map[rune]bool{'X': true, 'x': true, 'Ｘ': true, 'ｘ': true, '×': true, 'K': true, '乂': true}

// numberish reports whether r can be part of an ID number as OCR reads it.
func numberish(r rune) bool {
	if r >= '0' && r <= '9' || r >= '０' && r <= '９' {
		return true
	}
	_, ok := letterDigit[r]
	return ok || checkAlias[r]
}

// runs returns the maximal stretches of numberish characters in s, with
// single spaces inside a stretch dropped (OCR splits long numbers), each
// as a slice of runes.
func runs(s string) [][]rune {
	var out [][]rune
	var cur []rune
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case numberish(r):
			cur = append(cur, r)
		case unicode.IsSpace(r) && len(cur) > 0 && i+1 < len(rs) && numberish(rs[i+1]):
			// keep going across a gap inside the number
		default:
			if len(cur) > 0 {
				out = append(out, cur)
				cur = nil
			}
		}
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// canonical turns 18 runes read from a card into an ID-number string:
// digits stay, letters that look like digits become those digits, and an X
// look-alike in the last place becomes X. It reports false when a rune has
// no reading at its place.
func canonical(rs []rune) (string, bool) {
	if len(rs) != idcard.Length {
		return "", false
	}
	var b [idcard.Length]byte
	for i, r := range rs {
		switch {
		case r >= '0' && r <= '9':
			b[i] = byte(r)
		case r >= '０' && r <= '９':
			b[i] = byte('0' + r - '０')
		case i == idcard.Length-1 && checkAlias[r]:
			b[i] = 'X'
		default:
			d, ok := letterDigit[r]
			if !ok {
				return "", false
			}
			b[i] = d
		}
	}
	return string(b[:]), true
}

// valid reports whether n is a valid ID number today (checksum and a real,
// past birth date).
func valid(n string, now time.Time) bool {
	_, err := idcard.Parse(n, now.In(china))
	return err == nil
}

// exactNumbers returns the valid ID numbers found in text without guessing:
// every 18-rune window of every numberish run, with letters mapped to the
// digits they look like. A window that is not where the number sits fails
// the birth-date and checksum checks almost always.
func exactNumbers(text string, now time.Time) []string {
	var out []string
	for _, run := range runs(text) {
		for i := 0; i+idcard.Length <= len(run); i++ {
			if n, ok := canonical(run[i : i+idcard.Length]); ok && valid(n, now) && !contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// digitSwaps are digit-for-digit confusions of the OCR models (chi_sim
// reads 0 as 6 on card fonts; 8, 3 and 5 get mixed up on blurred
// pictures).
var digitSwaps = map[byte][]byte{'6': {'0'}, '0': {'6', '8'}, '8': {'3', '0'}, '3': {'8'}, '5': {'6'}}

// repair is a valid number one edit away from a reading.
type repair struct {
	number string
	pos    int // the changed position; -1 for a dropped character
}

// repairs returns the valid numbers one edit away from the numberish runs
// of text: one confusable digit swapped, or one character dropped from a
// run of 19 (chi_sim sometimes adds one).
func repairs(text string, now time.Time) []repair {
	var out []repair
	add := func(n string, pos int) {
		if !valid(n, now) {
			return
		}
		for _, r := range out {
			if r.number == n {
				return
			}
		}
		out = append(out, repair{n, pos})
	}
	for _, run := range runs(text) {
		switch len(run) {
		case idcard.Length:
			n, ok := canonical(run)
			if !ok {
				continue
			}
			b := []byte(n)
			for i := 0; i < idcard.Length-1; i++ {
				orig := b[i]
				for _, alt := range digitSwaps[orig] {
					b[i] = alt
					add(string(b), i)
				}
				b[i] = orig
			}
		case idcard.Length + 1:
			for i := range run {
				shorter := append(append([]rune(nil), run[:i]...), run[i+1:]...)
				if n, ok := canonical(shorter); ok {
					add(n, -1)
				}
			}
		}
	}
	return out
}

// windows returns the canonical 18-character windows of text's runs.
func windows(text string) []string {
	var out []string
	for _, run := range runs(text) {
		for i := 0; i+idcard.Length <= len(run); i++ {
			if n, ok := canonical(run[i : i+idcard.Length]); ok {
				out = append(out, n)
			}
		}
	}
	return out
}

func hamming(a, b string) int {
	d := 0
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			d++
		}
	}
	return d + max(len(a), len(b)) - min(len(a), len(b))
}

// pickNumber chooses the number from readings ordered from the most to
// the least trusted (the number-line crops read with the digit whitelist
// first, the full-page chi_sim reading last).
//
// A reading that is valid as it is wins, the most trusted first. The check
// character catches every single wrong digit, but any repair (a digit
// swapped, a character dropped) is a new guess that passes by chance one
// time in eleven, and trying many makes a wrong pass likely. So repairs
// need evidence from a second reading, and all of them are pooled:
//
//   - a confusable digit swapped (6↔0, 8↔3, …) or a character dropped
//     from a run of 19, when another reading has the repaired digit at
//     that place and differs from the result in at most one other place;
//   - where two readings differ in exactly two places, the two numbers
//     that mix them (one place from each): the truth is one of them when
//     each reading has one wrong digit.
//
// A repaired number is accepted only when the pool holds exactly one
// valid number. A wrong number that looks valid is worse than none: the
// person then has to notice the error instead of typing the number.
func pickNumber(reads []read, now time.Time) string {
	for _, r := range reads {
		if ns := exactNumbers(r.text, now); len(ns) == 1 {
			return ns[0]
		}
	}
	var found []string
	add := func(n string) {
		if !contains(found, n) {
			found = append(found, n)
		}
	}
	for i, r := range reads {
		for _, rep := range repairs(r.text, now) {
			if supported(rep, reads, i) {
				add(rep.number)
			}
		}
	}
	for i := range reads {
		for j := i + 1; j < len(reads); j++ {
			for _, a := range windows(reads[i].text) {
				for _, b := range windows(reads[j].text) {
					for _, n := range mixes(a, b) {
						if valid(n, now) {
							add(n)
						}
					}
				}
			}
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return ""
}

// mixes returns, for a and b differing in exactly two places, the two
// strings that take one of those places from each.
func mixes(a, b string) []string {
	if len(a) != len(b) || hamming(a, b) != 2 {
		return nil
	}
	var at []int
	for i := range len(a) {
		if a[i] != b[i] {
			at = append(at, i)
		}
	}
	x, y := []byte(a), []byte(a)
	x[at[0]] = b[at[0]]
	y[at[1]] = b[at[1]]
	return []string{string(x), string(y)}
}

// supported reports whether a reading other than reads[from] backs rep.
func supported(rep repair, reads []read, from int) bool {
	for j, r := range reads {
		if j == from || r.text == reads[from].text {
			continue
		}
		for _, w := range windows(r.text) {
			if hamming(w, rep.number) <= 1 && (rep.pos < 0 || w[rep.pos] == rep.number[rep.pos]) {
				return true
			}
		}
	}
	return false
}

// read is one OCR reading of the number's line.
type read struct {
	text string
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Name limits: Han names have 2–4 characters, rarely up to 6; transcribed
// minority names are joined with a middle dot and may be longer.
const (
	minNameRunes    = 2
	maxNameRunes    = 6
	maxDotNameRunes = 20
)

// nameLabels are label characters that OCR may glue to the name.
var nameLabels = []string{"姓名", "姓", "名"}

// cleanName keeps the Chinese characters of an OCR'd or model-given name
// and the middle dot between parts, and returns "" unless the result looks
// like a name. Other look-alikes of the dot become '·'.
func cleanName(s string) string {
	s = strings.TrimSpace(s)
	for _, l := range nameLabels {
		if rest, ok := strings.CutPrefix(s, l); ok && utf8.RuneCountInString(strings.TrimSpace(rest)) >= minNameRunes {
			s = strings.TrimSpace(rest)
			break
		}
	}
	var out []rune
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Han, r):
			out = append(out, r)
		case isDot(r):
			if len(out) > 0 && out[len(out)-1] != '·' {
				out = append(out, '·')
			}
		}
	}
	for len(out) > 0 && out[len(out)-1] == '·' {
		out = out[:len(out)-1]
	}
	han := 0
	dots := false
	for _, r := range out {
		if r == '·' {
			dots = true
		} else {
			han++
		}
	}
	switch {
	case han < minNameRunes:
		return ""
	case !dots && han > maxNameRunes:
		return ""
	case dots && len(out) > maxDotNameRunes:
		return ""
	}
	return string(out)
}

// isDot reports whether r is a middle dot or something OCR reads for one.
func isDot(r rune) bool {
	switch r {
	case '·', '•', '・', '‧', '∙', '⋅', '．', '.', '°', '｡', '。', '-', '－', '`', '\'', '‘', '’', ':', '：', '、', ',', '，':
		return true
	}
	return false
}
