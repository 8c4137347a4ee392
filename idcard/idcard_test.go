package idcard_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"pensionbot/idcard"
)

// cst stands in for Asia/Shanghai without depending on tzdata being
// installed where the tests run.
var cst = time.FixedZone("CST", 8*60*60)

// now is fixed so that the tests do not start failing as time passes.
var now = time.Date(2026, time.June, 15, 10, 0, 0, 0, cst)

var sentinels = []error{
	idcard.ErrEmpty,
	idcard.ErrLength,
	idcard.ErrCharacters,
	idcard.ErrBirthDate,
	idcard.ErrFutureBirth,
	idcard.ErrChecksum,
}

func date(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// withCheck appends the right check character to 17 digits, so that tests
// of date rules are not accidentally tests of the checksum.
func withCheck(t testing.TB, first17 string) string {
	t.Helper()
	c, err := idcard.CheckChar(first17)
	if err != nil {
		t.Fatalf("CheckChar(%q): %v", first17, err)
	}
	return first17 + string(c)
}

func mustParse(t testing.TB, s string) idcard.ID {
	t.Helper()
	id, err := idcard.Parse(s, now)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return id
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		in    string
		sex   idcard.Sex // 0: not checked
		birth time.Time  // zero: not checked
	}{
		{"11010519491231002X", idcard.Female, date(1949, time.December, 31)},
		{"440524188001010014", idcard.Male, date(1880, time.January, 1)},
		{"11010219840406970X", 0, time.Time{}},
		{"110101199003077838", 0, time.Time{}},
		{"11010119900307002X", 0, time.Time{}},
		{"34052419800101001X", 0, time.Time{}},
		{"360426199101010071", 0, time.Time{}},
		{"53010219200508011X", idcard.Male, date(1920, time.May, 8)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			id := mustParse(t, tt.in)
			if id.Number != tt.in {
				t.Errorf("Number = %q, want %q", id.Number, tt.in)
			}
			if id.Sex != idcard.Female && id.Sex != idcard.Male {
				t.Errorf("Sex = %v, want female or male", id.Sex)
			}
			if tt.sex != 0 && id.Sex != tt.sex {
				t.Errorf("Sex = %v, want %v", id.Sex, tt.sex)
			}
			if !tt.birth.IsZero() && !id.Birth.Equal(tt.birth) {
				t.Errorf("Birth = %v, want %v", id.Birth, tt.birth)
			}
			if id.Birth.Location() != time.UTC || id.Birth.Hour() != 0 {
				t.Errorf("Birth = %v, want midnight UTC", id.Birth)
			}
		})
	}
}

func TestParseNormalizes(t *testing.T) {
	const want = "11010519491231002X"
	tests := []struct{ name, in string }{
		{"lowercase x", "11010519491231002x"},
		{"full-width digits", "１１０１０５１９４９１２３１００２X"},
		{"full-width X", "11010519491231002Ｘ"},
		{"full-width x", "11010519491231002ｘ"},
		{"spaces between groups", "110105 19491231 002X"},
		{"ideographic spaces", "110105\u300019491231\u3000002X"},
		{"surrounding white space", " \t11010519491231002X\n"},
		{"hyphens", "110105-19491231-002X"},
		{"full-width hyphens", "110105－19491231－002X"},
		{"en dash", "110105–19491231–002X"},
		{"mixed", " １１０１０５ - 1949 1231－００２ｘ "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := idcard.Normalize(tt.in); got != want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, want)
			}
			if id := mustParse(t, tt.in); id.Number != want {
				t.Errorf("Parse(%q).Number = %q, want %q", tt.in, id.Number, want)
			}
		})
	}
}

// TestParseStripsInvisible covers text pasted from chat apps, web pages and
// documents: it carries characters that take no room on screen, so the
// person sees 18 characters while Parse used to count 19 or more.
func TestParseStripsInvisible(t *testing.T) {
	const want = "11010519491231002X"
	tests := []struct{ name, in string }{
		{"zero-width space", "110105\u200B19491231002X"},
		{"byte order mark at the start", "\uFEFF11010519491231002X"},
		{"zero-width no-break space at the end", "11010519491231002X\uFEFF"},
		{"zero-width joiner and non-joiner", "1101\u200D0519491231\u200C002X"},
		{"left-to-right and right-to-left marks", "\u200E11010519491231002X\u200F"},
		{"bidi embedding and isolate", "\u202A11010519491231002X\u202C\u2066\u2069"},
		{"word joiner", "110105\u206019491231\u2060002X"},
		{"Mongolian vowel separator", "110105\u180E19491231002X"},
		{"variation selector", "11010519491231002X\uFE0F"},
		{"interlinear annotation", "\uFFF911010519491231002X\uFFFB"},
		{"tag characters", "11010519491231002X\U000E0001\U000E007F"},
		{"invisible times", "1101051949123100\u20622X"},
		{"mixed with spaces and full width", "\u200B１１０１０５ \uFEFF19491231\u200D 002ｘ\u200E"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := idcard.Normalize(tt.in); got != want {
				t.Errorf("Normalize(%+q) = %+q, want %q", tt.in, got, want)
			}
			if id := mustParse(t, tt.in); id.Number != want {
				t.Errorf("Parse(%+q).Number = %q, want %q", tt.in, id.Number, want)
			}
		})
	}
	// Stripping invisible characters must not make a short number pass.
	if _, err := idcard.Parse("\u200B11010519491231002\u200B", now); !errors.Is(err, idcard.ErrLength) {
		t.Errorf("17 characters between zero-width spaces: err = %v, want ErrLength", err)
	}
}

func TestNormalizeKeepsOtherText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"abc", "abc"},
		{"身份证 110105", "身份证110105"},
		{"y Y x", "yYX"},
		{"\xff1", "\uFFFD1"},
		// Bytes around a dropped space must not join into a valid rune.
		{"\xef \xbc\x90", "\uFFFD\uFFFD\uFFFD"},
	}
	for _, tt := range tests {
		if got := idcard.Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", idcard.ErrEmpty},
		{"only spaces", " \u3000 ", idcard.ErrEmpty},
		{"only hyphens", "--", idcard.ErrEmpty},
		{"17 characters", "11010519491231002", idcard.ErrLength},
		{"19 characters", "11010519491231002X1", idcard.ErrLength},
		{"15-digit old format", "110105491231002", idcard.ErrLength},
		{"letter in digits", "1101051949123A002X", idcard.ErrCharacters},
		{"X not last", "1101051949123X0021", idcard.ErrCharacters},
		{"bad check letter", "11010519491231002Y", idcard.ErrCharacters},
		{"non-ASCII rune", "11010519491231002é", idcard.ErrCharacters},
		{"Chinese digit", "11010519491231002二", idcard.ErrCharacters},
		{"invalid UTF-8", "11010519491231002\xff", idcard.ErrCharacters},
		{"month 13", withCheck(t, "11010519491331002"), idcard.ErrBirthDate},
		{"month 00", withCheck(t, "11010519490031002"), idcard.ErrBirthDate},
		{"day 00", withCheck(t, "11010519491200002"), idcard.ErrBirthDate},
		{"30 Feb", withCheck(t, "11010519490230002"), idcard.ErrBirthDate},
		{"31 Apr", withCheck(t, "11010519490431002"), idcard.ErrBirthDate},
		{"29 Feb non-leap", withCheck(t, "11010520230229002"), idcard.ErrBirthDate},
		{"29 Feb 1900", withCheck(t, "11010519000229002"), idcard.ErrBirthDate},
		{"before 1870", withCheck(t, "11010518691231002"), idcard.ErrBirthDate},
		{"year 0000", withCheck(t, "11010500000101002"), idcard.ErrBirthDate},
		{"tomorrow", withCheck(t, "11010520260616002"), idcard.ErrFutureBirth},
		{"next year", withCheck(t, "11010520270101002"), idcard.ErrFutureBirth},
		{"checksum 1", "110105194912310021", idcard.ErrChecksum},
		{"checksum 2", "11010219840506970X", idcard.ErrChecksum},
		{"checksum 3", "440524189001010014", idcard.ErrChecksum},
		{"checksum 4", "11020519491231002X", idcard.ErrChecksum},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := idcard.Parse(tt.in, now)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want error %v", tt.in, id, tt.want)
			}
			if id != (idcard.ID{}) {
				t.Errorf("Parse(%q) returned non-zero ID with error", tt.in)
			}
			for _, s := range sentinels {
				if got, want := errors.Is(err, s), s == tt.want; got != want {
					t.Errorf("Parse(%q) error %q: errors.Is(%v) = %v, want %v", tt.in, err, s, got, want)
				}
			}
			if n := idcard.Normalize(tt.in); len(n) > 10 && strings.Contains(err.Error(), n) {
				t.Errorf("error %q contains the full number", err)
			}
		})
	}
}

func TestParseDateBounds(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		now   time.Time
		birth time.Time
	}{
		{"1 Jan 1870", withCheck(t, "11010518700101001"), now, date(1870, time.January, 1)},
		{"29 Feb leap year", withCheck(t, "11010520000229001"), now, date(2000, time.February, 29)},
		{"born today", withCheck(t, "11010520260615001"), now, date(2026, time.June, 15)},
		// 00:30 in Beijing is still the previous day in UTC; the holder's
		// calendar date is what counts.
		{
			"born today, before UTC midnight",
			withCheck(t, "11010520260615001"),
			time.Date(2026, time.June, 15, 0, 30, 0, 0, cst),
			date(2026, time.June, 15),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := idcard.Parse(tt.in, tt.now)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !id.Birth.Equal(tt.birth) {
				t.Errorf("Birth = %v, want %v", id.Birth, tt.birth)
			}
		})
	}

	// The same birth date is in the future when now is still the day
	// before in the caller's zone.
	in := withCheck(t, "11010520260615001")
	late := time.Date(2026, time.June, 14, 23, 59, 0, 0, cst)
	if _, err := idcard.Parse(in, late); !errors.Is(err, idcard.ErrFutureBirth) {
		t.Errorf("Parse(%q, %v) error = %v, want ErrFutureBirth", in, late, err)
	}
}

func TestSex(t *testing.T) {
	tests := []struct {
		seq  string
		want idcard.Sex
	}{
		{"001", idcard.Male},
		{"002", idcard.Female},
		{"999", idcard.Male},
		{"000", idcard.Female},
		{"010", idcard.Female},
	}
	for _, tt := range tests {
		id := mustParse(t, withCheck(t, "11010519491231"+tt.seq))
		if id.Sex != tt.want {
			t.Errorf("sequence %s: Sex = %v, want %v", tt.seq, id.Sex, tt.want)
		}
	}
}

func TestSexString(t *testing.T) {
	tests := []struct {
		s    idcard.Sex
		want string
	}{
		{idcard.Female, "female"},
		{idcard.Male, "male"},
		{0, "Sex(0)"},
		{7, "Sex(7)"},
	}
	for _, tt := range tests {
		if got := tt.s.String(); got != tt.want {
			t.Errorf("Sex(%d).String() = %q, want %q", int(tt.s), got, tt.want)
		}
	}
}

func TestAge(t *testing.T) {
	dec31 := mustParse(t, "11010519491231002X")             // 1949-12-31
	leap := mustParse(t, withCheck(t, "11010520000229001")) // 2000-02-29
	tests := []struct {
		name string
		id   idcard.ID
		on   time.Time
		want int
	}{
		{"day before birthday", dec31, time.Date(2025, time.December, 30, 23, 59, 0, 0, time.UTC), 75},
		{"on birthday", dec31, time.Date(2025, time.December, 31, 0, 0, 0, 0, time.UTC), 76},
		{"day after birthday", dec31, time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC), 76},
		// Still 30 Dec in UTC, but already the birthday in Beijing.
		{"birthday in caller's zone", dec31, time.Date(2025, time.December, 31, 0, 30, 0, 0, cst), 76},
		{"on birth date", dec31, time.Date(1949, time.December, 31, 12, 0, 0, 0, time.UTC), 0},
		{"before birth", dec31, time.Date(1940, time.January, 1, 0, 0, 0, 0, time.UTC), 0},
		{"leap day, 28 Feb non-leap", leap, time.Date(2023, time.February, 28, 0, 0, 0, 0, time.UTC), 22},
		{"leap day, 1 Mar non-leap", leap, time.Date(2023, time.March, 1, 0, 0, 0, 0, time.UTC), 23},
		{"leap day, 28 Feb leap", leap, time.Date(2024, time.February, 28, 0, 0, 0, 0, time.UTC), 23},
		{"leap day, 29 Feb leap", leap, time.Date(2024, time.February, 29, 0, 0, 0, 0, time.UTC), 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.id.Age(tt.on); got != tt.want {
				t.Errorf("Age(%v) = %d, want %d", tt.on, got, tt.want)
			}
		})
	}
}

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"11010519491231002X", "110105********002X"},
		{"", ""},
		{"1", "*"},
		{"123456789", "*********"},
		{"1234567890", "1234567890"},
		{"12345678901", "123456*8901"},
		{"110105194912310021X", "110105*********021X"},
		{"身份证号码一二三四五六七", "身份证号码一**四五六七"},
	}
	for _, tt := range tests {
		got := idcard.Mask(tt.in)
		if got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(tt.in) {
			t.Errorf("Mask(%q) = %q changes the rune count", tt.in, got)
		}
	}

	id := mustParse(t, "11010519491231002X")
	if got, want := id.Masked(), "110105********002X"; got != want {
		t.Errorf("Masked() = %q, want %q", got, want)
	}
}

func TestCheckChar(t *testing.T) {
	for _, n := range []string{
		"11010519491231002X", "440524188001010014", "11010219840406970X",
		"110101199003077838", "11010119900307002X", "34052419800101001X",
		"360426199101010071", "53010219200508011X",
	} {
		got, err := idcard.CheckChar(n[:17])
		if err != nil || got != n[17] {
			t.Errorf("CheckChar(%q) = %q, %v; want %q, nil", n[:17], got, err, n[17])
		}
	}

	errTests := []struct {
		in   string
		want error
	}{
		{"", idcard.ErrLength},
		{"1101051949123100", idcard.ErrLength},
		{"11010519491231002X", idcard.ErrLength},
		{"1101051949123100X", idcard.ErrCharacters},
		{"１１０１０５１９４９１２３１００２", idcard.ErrLength}, // not normalised
	}
	for _, tt := range errTests {
		c, err := idcard.CheckChar(tt.in)
		if !errors.Is(err, tt.want) {
			t.Errorf("CheckChar(%q) = %q, %v; want error %v", tt.in, c, err, tt.want)
		}
		if tt.in != "" && err != nil && strings.Contains(err.Error(), tt.in) {
			t.Errorf("CheckChar error %q contains its input", err)
		}
	}
}

// TestNoLeak guards against the full number reaching logs through fmt or
// slog, including through mistaken format verbs.
func TestNoLeak(t *testing.T) {
	const full = "11010519491231002X"
	const masked = "110105********002X"
	id := mustParse(t, full)

	outputs := map[string]string{
		"Sprint":   fmt.Sprint(id),
		"Sprintln": fmt.Sprintln(id),
		"%v":       fmt.Sprintf("%v", id),
		"%+v":      fmt.Sprintf("%+v", id),
		"%#v":      fmt.Sprintf("%#v", id),
		"%s":       fmt.Sprintf("%s", id),
		"%q":       fmt.Sprintf("%q", id),
		"%d":       fmt.Sprintf("%d", id),
		"%x":       fmt.Sprintf("%x", id),
		"%20s":     fmt.Sprintf("%20s", id),
		"pointer":  fmt.Sprint(&id),
		"slice":    fmt.Sprint([]idcard.ID{id}),
		"String":   id.String(),
		"error":    fmt.Errorf("saving %v: %w", id, errors.New("boom")).Error(),
	}

	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("certified", "id", id, slog.Any("any", id))
	slog.New(slog.NewJSONHandler(&js, nil)).Info("certified", "id", id, slog.Group("g", "id", id))
	outputs["slog text"] = text.String()
	outputs["slog json"] = js.String()

	for name, out := range outputs {
		if strings.Contains(out, full) {
			t.Errorf("%s output contains the full number: %q", name, out)
		}
		if strings.Contains(out, "1949123") {
			t.Errorf("%s output contains the birth date digits: %q", name, out)
		}
	}
	for _, name := range []string{"Sprint", "%v", "%+v", "%#v", "%s", "String", "slog text", "slog json"} {
		if !strings.Contains(outputs[name], masked) {
			t.Errorf("%s output %q lacks the masked number %q", name, outputs[name], masked)
		}
	}
	if got, want := outputs["%20s"], "  "+masked; got != want {
		t.Errorf("%%20s = %q, want %q (width ignored)", got, want)
	}
	if got, want := text.String(), "id="+masked; !strings.Contains(got, want) {
		t.Errorf("slog text output %q lacks %q", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"11010519491231002X", "440524188001010014", "11010219840406970X",
		"110101199003077838", "11010119900307002X", "34052419800101001X",
		"360426199101010071", "53010219200508011X", "110105194912310021",
		"11010219840506970X", "440524189001010014", "11020519491231002X",
		"11010519491231002x", "１１０１０５１９４９１２３１００２Ｘ",
		"110105 19491231 002X", "110105-19491231-002X", "110105\u300019491231\u3000002ｘ",
		"", " ", "X", "1101051949023000", "11010520000229001\xff",
		"\uFEFF11010519491231002X", "110105\u200B19491231\u200D002X\u200E",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := idcard.Normalize(s)
		if n2 := idcard.Normalize(n); n2 != n {
			t.Fatalf("Normalize not idempotent: %q -> %q -> %q", s, n, n2)
		}
		if m := idcard.Mask(s); utf8.ValidString(s) && utf8.RuneCountInString(m) != utf8.RuneCountInString(s) {
			t.Fatalf("Mask(%q) = %q changes the rune count", s, m)
		}

		id, err := idcard.Parse(s, now)
		if err != nil {
			checkParseError(t, s, err)
		} else {
			checkParsed(t, s, id)
		}

		// Random input almost never has the right check character, so
		// also fix it up to exercise the date rules and the success path:
		// with a correct check character only a date can be wrong.
		if len(n) >= 17 {
			c, err := idcard.CheckChar(n[:17])
			if err != nil {
				return
			}
			fixed := n[:17] + string(c)
			id, err := idcard.Parse(fixed, now)
			switch {
			case err == nil:
				checkParsed(t, fixed, id)
			case errors.Is(err, idcard.ErrBirthDate), errors.Is(err, idcard.ErrFutureBirth):
				checkParseError(t, fixed, err)
			default:
				t.Fatalf("Parse(%q) with correct check character: %v", fixed, err)
			}
		}
	})
}

func checkParseError(t *testing.T, s string, err error) {
	t.Helper()
	matched := 0
	for _, e := range sentinels {
		if errors.Is(err, e) {
			matched++
		}
	}
	if matched != 1 {
		t.Fatalf("Parse(%q) error %q wraps %d sentinels, want 1", s, err, matched)
	}
	// Shorter strings are masked completely or (at exactly 10) not at all
	// by design; anything longer must not appear whole.
	n := idcard.Normalize(s)
	if utf8.RuneCountInString(n) > 10 && !strings.Contains(n, "*") && strings.Contains(err.Error(), n) {
		t.Fatalf("Parse(%q) error %q contains the input", s, err)
	}
}

func checkParsed(t *testing.T, s string, id idcard.ID) {
	t.Helper()
	if len(id.Number) != idcard.Length {
		t.Fatalf("Parse(%q).Number = %q, want 18 bytes", s, id.Number)
	}
	if n := idcard.Normalize(s); id.Number != n {
		t.Fatalf("Parse(%q).Number = %q, want Normalize = %q", s, id.Number, n)
	}
	c, err := idcard.CheckChar(id.Number[:17])
	if err != nil || c != id.Number[17] {
		t.Fatalf("CheckChar(%q) = %q, %v; want %q", id.Number[:17], c, err, id.Number[17])
	}
	again, err := idcard.Parse(id.Number, now)
	if err != nil {
		t.Fatalf("Parse(%q) round trip: %v", id.Number, err)
	}
	if again.Number != id.Number || again.Sex != id.Sex || !again.Birth.Equal(id.Birth) {
		t.Fatalf("Parse(%q) = %#v, round trip gives %#v", s, id, again)
	}
	if id.Sex != idcard.Female && id.Sex != idcard.Male {
		t.Fatalf("Parse(%q).Sex = %d", s, int(id.Sex))
	}
	if id.Birth.Before(time.Date(1870, 1, 1, 0, 0, 0, 0, time.UTC)) || id.Birth.After(now) {
		t.Fatalf("Parse(%q).Birth = %v out of range", s, id.Birth)
	}
	if age := id.Age(now); age < 0 || age > 2026-1870 {
		t.Fatalf("Parse(%q).Age = %d", s, age)
	}
	if strings.Contains(fmt.Sprint(id), id.Number) {
		t.Fatalf("fmt.Sprint(%q) prints the full number", id.Number)
	}
}
