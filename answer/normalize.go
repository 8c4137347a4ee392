package answer

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text normalisation and features for the FAQ matcher.
//
// Questions arrive in four languages and two scripts, typed on phones by
// older people: full-width letters and digits from Chinese keyboards,
// traditional and simplified characters mixed, Spanish with or without
// accents, typos. Everything is folded to one form first:
//
//   - full-width ASCII → ASCII, ideographic space → space;
//   - lower case;
//   - Latin accents removed (á → a, ñ → n, ü → u), also decomposed ones;
//   - common traditional characters → simplified (see hant.go);
//   - anything that is neither a letter nor a digit → a separator.
//
// Features are then taken without splitting Chinese into words (which would
// need a dictionary and guesses): a run of Han characters gives its character
// bigrams (a single character gives itself), and a run of Latin letters or of
// digits gives one word, stemmed crudely (plural s dropped, cut to 6 letters)
// so that certify/certified/certification or pensión/pensiones meet.

// stemLen is the number of letters a Latin word is cut to.
const stemLen = 6

var hantFold = func() map[rune]rune {
	rs := []rune(hantToHans)
	m := make(map[rune]rune, len(rs)/2)
	for i := 0; i+1 < len(rs); i += 2 {
		m[rs[i]] = rs[i+1]
	}
	return m
}()

// latinFold maps accented Latin letters (already lower case) to plain ones.
var latinFold = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'å': 'a', 'ā': 'a',
	'ç': 'c', 'č': 'c',
	'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e', 'ē': 'e', 'ě': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ī': 'i', 'ǐ': 'i',
	'ñ': 'n', 'ń': 'n', 'ň': 'n',
	'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o', 'ø': 'o', 'ō': 'o', 'ǒ': 'o',
	'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ū': 'u', 'ǔ': 'u', 'ǖ': 'u', 'ǘ': 'u', 'ǚ': 'u', 'ǜ': 'u',
	'ý': 'y', 'ÿ': 'y',
	'ß': 's',
}

// foldRune folds one rune. It returns -1 for runes that vanish (combining
// marks, zero-width characters) and ' ' for separators.
func foldRune(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		r -= 0xFEE0
	case r == 0x3000: // ideographic space
		return ' '
	case r >= 0x0300 && r <= 0x036F: // combining diacritics (decomposed accents)
		return -1
	case r == 0x200B || r == 0x200C || r == 0x200D || r == 0xFEFF:
		return -1
	case r == '\'' || r == 0x2019 || r == 0xFF07: // apostrophes join: don't → dont, mom's → moms
		return -1
	}
	if r < utf8.RuneSelf {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		}
		return ' '
	}
	if s, ok := hantFold[r]; ok {
		return s
	}
	r = unicode.ToLower(r)
	if s, ok := latinFold[r]; ok {
		return s
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return r
	}
	return ' '
}

// fold returns s folded rune by rune; separators become single spaces.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true
	for _, r := range s {
		f := foldRune(r)
		switch f {
		case -1:
			continue
		case ' ':
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(f)
		space = false
	}
	return strings.TrimRight(b.String(), " ")
}

type runClass int

const (
	classSep runClass = iota
	classHan
	classLatin // letters of alphabetic scripts
	classDigit
)

func classOf(r rune) runClass {
	switch {
	case r == ' ':
		return classSep
	case r >= '0' && r <= '9':
		return classDigit
	case r < utf8.RuneSelf:
		return classLatin
	case unicode.Is(unicode.Han, r):
		return classHan
	case unicode.IsLetter(r):
		return classLatin
	}
	return classSep
}

// segment is one run of folded text: Han characters, letters, or digits.
type segment struct {
	text  string
	class runClass
}

// segments splits folded text into runs of one class.
func segments(folded string) []segment {
	var out []segment
	start, cur := 0, classSep
	for i, r := range folded {
		c := classOf(r)
		if c != cur {
			if cur != classSep {
				out = append(out, segment{folded[start:i], cur})
			}
			start, cur = i, c
		}
	}
	if cur != classSep {
		out = append(out, segment{folded[start:], cur})
	}
	return out
}

// stem cuts a folded Latin word down to the form used as a feature: a
// light suffix stripper for the language, then a cut to stemLen letters.
// Crude, but the same on both sides of a match, and good enough for
// certify/certified/certification, fail/failed/failing, stop/stopped,
// cobrar/cobrado/cobré, pensión/pensiones, vencida/vence.
func stem(w, lang string) string {
	if utf8.RuneCountInString(w) != len(w) { // letters of other scripts: only cut
		return cut(w, stemLen)
	}
	if lang == "es" {
		return cut(stemES(w), stemLen)
	}
	return cut(stemEN(w), stemLen)
}

// stemEN strips a plural s, -ing or -ed (undoubling stopp → stop), and a
// final e. It is also used for the Latin words of the Chinese lists.
func stemEN(w string) string {
	if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
		w = w[:len(w)-1]
	}
	stripped := false
	switch {
	case len(w) >= 6 && strings.HasSuffix(w, "ing"):
		w, stripped = w[:len(w)-3], true
	case len(w) >= 5 && strings.HasSuffix(w, "ed"):
		w, stripped = w[:len(w)-2], true
	}
	if stripped && len(w) >= 3 && w[len(w)-1] == w[len(w)-2] && strings.IndexByte("bdgmnprt", w[len(w)-1]) >= 0 {
		w = w[:len(w)-1]
	}
	if len(w) > 4 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	return w
}

// esEndings are Spanish verb and adjective endings, longest first.
var esEndings = []string{"ieron", "iendo", "aron", "ando", "ado", "ada", "ido", "ida", "ar", "er", "ir"}

// stemES strips a plural (-s, -es), one verb or participle ending, and a
// final vowel, keeping at least three letters.
func stemES(w string) string {
	if len(w) > 4 && strings.HasSuffix(w, "es") {
		w = w[:len(w)-2]
	} else if len(w) > 3 && strings.HasSuffix(w, "s") {
		w = w[:len(w)-1]
	}
	for _, e := range esEndings {
		if strings.HasSuffix(w, e) && len(w)-len(e) >= 3 {
			w = w[:len(w)-len(e)]
			break
		}
	}
	if n := len(w); n > 3 && strings.IndexByte("aeo", w[n-1]) >= 0 {
		w = w[:n-1]
	}
	return w
}

// cut returns the first n runes of w.
func cut(w string, n int) string {
	i := 0
	for k := 0; k < n && i < len(w); k++ {
		_, size := utf8.DecodeRuneInString(w[i:])
		i += size
	}
	return w[:i]
}

// ageFeature stands for any number from minAge to maxAge: in a question
// about pensions such a number is an age ("I'm 92", "tengo 85 años"), and
// the priority keywords ("over 80", "90 años") should meet every such age,
// not just the round ones. No other keyword holds such a number.
const (
	ageFeature = "80+" // '+' never survives folding: no word can collide
	minAge     = 80
	maxAge     = 119
)

// digitFeature returns the feature of a run of digits: itself, or
// ageFeature for a likely age.
func digitFeature(d string) string {
	if len(d) == 2 || len(d) == 3 && d[0] == '1' {
		n := 0
		for i := 0; i < len(d); i++ {
			n = 10*n + int(d[i]-'0')
		}
		if n >= minAge && n <= maxAge {
			return ageFeature
		}
	}
	return d
}

// hanFeatures appends the features of a Han run: its bigrams, or the
// character itself when the run has one character. Stop bigrams are marked.
func hanFeatures(dst []string, run string) []string {
	if utf8.RuneCountInString(run) == 1 {
		if stopHan[run] {
			return append(dst, stopMark+run)
		}
		return append(dst, run)
	}
	prev := 0
	_, size := utf8.DecodeRuneInString(run)
	for i := size; i < len(run); {
		_, size := utf8.DecodeRuneInString(run[i:])
		bg := run[prev : i+size]
		if stopHan[bg] {
			dst = append(dst, stopMark+bg)
		} else {
			dst = append(dst, bg)
		}
		prev = i
		i += size
	}
	return dst
}

// stopEN and stopES are Latin words too common to tell topics apart, per
// language (accents already folded). They are kept apart because a word can
// be empty in one language and carry the topic in the other: Spanish "son"
// (they are) is English "son", the helper of a family-help question.
var stopEN = toSet(`
a an the and or but if of to in on at by from with without about into as is are was were be been
being am do does did done doing have has had having i me my mine you your yours he him his she her
hers it its we us our they them their this that these those there here which who whom whose
can could will would shall should may might must not no yes so than too very just
also get got go goes going please hi hello thanks thank ok okay any some all one someone something
need want know tell let make still now then only much many more most up out off over
dont doesnt didnt cant cannot wont isnt arent wasnt hasnt havent im ive id youre whats thats theres
`)

var stopES = toSet(`
el la lo los las un una unos unas de del al y e o u a en con sin para que
quien cual cuales es son esta estan este esto ese eso mi mis tu tus su sus me te se le les nos
yo usted ustedes ya no si hay muy mas pero porque tengo tiene puedo puede hacer hago hace ser estar
he ha han fue era sobre entre hola gracias favor algo alguien todo nada otra otro
`)

// stopWordsFor returns the stop words of lang. The Latin words of the
// Chinese keyword lists (app, 12333) are English.
func stopWordsFor(lang string) map[string]bool {
	if lang == "es" {
		return stopES
	}
	return stopEN
}

// isStopAnywhere reports whether w is a stop word in every language that
// has stop words: such a word alone never makes a question.
func isStopAnywhere(w string) bool { return stopEN[w] && stopES[w] }

// stopHan are Chinese bigrams (and single characters) that carry no topic:
// question words, pronouns and fillers. Written in simplified characters,
// which is what folding produces.
var stopHan = toSet(`
怎么 什么 如何 为什 为啥 可以 能不 不能 是不 不是 一下 请问 你好 您好 谢谢 我的 你的 您的 他的 她的
我们 你们 他们 知道 告诉 需要 应该 现在 今天 明天 昨天 哪里 那里 这里 这个 那个 一个 没有 有没 有没有 怎样 咋办 怎办
么办 么样 么弄 的话 的时 时候 就是 还是 但是 因为 所以 已经 还有 然后 如果 是否 一些 一点 一直 问题 请帮
我 你 您 他 她 的 了 吗 呢 吧 啊 呀 是 在 有 和 与 就 都 也 很 要 会 能 想 怎 么 啥 咋 哪 个 这 那
`)

func toSet(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// osa1 reports whether a and b are at most one edit apart: one insertion,
// deletion, substitution, or transposition of adjacent letters.
func osa1(a, b []rune) bool {
	la, lb := len(a), len(b)
	if la-lb > 1 || lb-la > 1 {
		return false
	}
	i := 0
	for i < la && i < lb && a[i] == b[i] {
		i++
	}
	if i == la && i == lb {
		return true
	}
	switch {
	case la == lb:
		// substitution, or transposition of i and i+1
		if slices.Equal(a[i+1:], b[i+1:]) {
			return true
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && slices.Equal(a[i+2:], b[i+2:])
	case la > lb:
		return slices.Equal(a[i+1:], b[i:])
	default:
		return slices.Equal(a[i:], b[i+1:])
	}
}

// transposed reports whether a and b, of the same length, differ only by
// two adjacent letters swapped.
func transposed(a, b []rune) bool {
	if len(a) != len(b) {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && slices.Equal(a[i+2:], b[i+2:])
}
