package answer

import (
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"

	"pensionbot/locales"
)

// Checks on the guide.* and faq.* message files: they load with everyone
// else's files, every ID exists in every language, templates render, and
// the texts keep to the plain-language rules.

const article12 = "第十二条 用人单位应当按照国家规定的本单位职工工资总额的比例缴纳基本养老保险费，记入基本养老保险统筹基金。职工应当按照国家规定的本人工资的比例缴纳基本养老保险费，记入个人账户。无雇工的个体工商户、未在用人单位参加基本养老保险的非全日制从业人员以及其他灵活就业人员参加基本养老保险的，应当按照国家规定缴纳基本养老保险费，分别记入基本养老保险统筹基金和个人账户。"

// requiredGuideIDs are the IDs other code depends on.
var requiredGuideIDs = []string{
	"guide.payment.intro", "guide.payment.1", "guide.payment.2", "guide.payment.3", "guide.payment.4", "guide.payment.5", "guide.payment.checklist",
	"guide.card.intro", "guide.card.1", "guide.card.2", "guide.card.3", "guide.card.checklist",
	"guide.law.intro", "guide.law.original", "guide.law.case.ask",
	"guide.law.case.employee", "guide.law.case.employer", "guide.law.case.selfemployed", "guide.law.case.parttime", "guide.law.case.flexible",
	"guide.law.art10", "guide.law.art16", "guide.law.art58",
	"guide.btn.original", "guide.btn.cases", "guide.btn.case.employee", "guide.btn.case.employer", "guide.btn.case.selfemployed",
	"guide.btn.case.parttime", "guide.btn.case.flexible", "guide.btn.art10", "guide.btn.art16", "guide.btn.art58", "guide.btn.checklist",
}

// areaIDs reads the IDs of one area's file in one language.
func areaIDs(t *testing.T, area, lang string) map[string]bool {
	t.Helper()
	name := area + "." + lang + ".toml"
	data, err := fs.ReadFile(locales.Files(), name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	var m map[string]any
	if err := toml.Unmarshal(data, &m); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	ids := make(map[string]bool, len(m))
	for id := range m {
		ids[id] = true
	}
	return ids
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// stepData returns the template data of a walk-through step, or nil.
func stepData(id string) any {
	for prefix, total := range map[string]int{"guide.payment.": 5, "guide.card.": 3} {
		if rest, ok := strings.CutPrefix(id, prefix); ok && len(rest) == 1 && rest[0] >= '1' && rest[0] <= '9' {
			return map[string]int{"Step": int(rest[0] - '0'), "Total": total}
		}
	}
	return nil
}

// render renders every ID of an area in lang, exactly in that language.
func render(t *testing.T, b *i18n.Bundle, area, lang string) map[string]string {
	t.Helper()
	loc := i18n.NewLocalizer(b, lang)
	out := map[string]string{}
	for id := range areaIDs(t, area, lang) {
		s, err := exactMessage(loc, lang, id, stepData(id))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if strings.Contains(s, "<no value>") || strings.Contains(s, "{{") {
			t.Errorf("%s %s: template not rendered: %q", lang, id, s)
		}
		out[id] = s
	}
	return out
}

func TestLocalesBundleLoads(t *testing.T) {
	if _, err := locales.Bundle("zh-Hans"); err != nil {
		t.Fatalf("locales.Bundle(zh-Hans): %v", err)
	}
}

func TestContentSameIDsEverywhere(t *testing.T) {
	for _, area := range []string{"guide", "faq"} {
		base := areaIDs(t, area, locales.Default)
		for _, lang := range locales.Supported {
			ids := areaIDs(t, area, lang)
			for _, id := range sortedKeys(base) {
				if !ids[id] {
					t.Errorf("%s.%s.toml lacks %s", area, lang, id)
				}
			}
			for _, id := range sortedKeys(ids) {
				if !base[id] {
					t.Errorf("%s.%s.toml has %s, missing from %s", area, lang, id, locales.Default)
				}
				if strings.HasPrefix(id, "btn.") {
					t.Errorf("%s.%s.toml defines %s: btn.* belongs to another file", area, lang, id)
				}
				if !strings.HasPrefix(id, area+".") {
					t.Errorf("%s.%s.toml: %s is outside the area", area, lang, id)
				}
			}
		}
	}
	guide := areaIDs(t, "guide", locales.Default)
	for _, id := range requiredGuideIDs {
		if !guide[id] {
			t.Errorf("required ID %s missing", id)
		}
	}
	faq := areaIDs(t, "faq", locales.Default)
	for _, topic := range Topics {
		for _, part := range []string{"q", "a", "kw"} {
			if !faq[MessageID(topic, part)] {
				t.Errorf("faq: %s missing", MessageID(topic, part))
			}
		}
	}
	if !faq[NoMatchMessageID] {
		t.Errorf("%s missing", NoMatchMessageID)
	}
	if n := len(Topics); n < 12 || n > 16 {
		t.Errorf("%d topics, want 12 to 16", n)
	}
}

func TestContentTemplatesAndRules(t *testing.T) {
	b, err := locales.Bundle(locales.Default)
	if err != nil {
		t.Fatal(err)
	}
	counter := map[string]*regexp.Regexp{
		"zh-Hans": regexp.MustCompile(`^第(\d)步（共(\d)步）`),
		"zh-Hant": regexp.MustCompile(`^第(\d)步（共(\d)步）`),
		"en":      regexp.MustCompile(`^Step (\d) of (\d)`),
		"es":      regexp.MustCompile(`^Paso (\d) de (\d)`),
	}
	markdown := regexp.MustCompile("\\*\\*|__|`|<[a-zA-Z/]|\\]\\(|(?m)^#")
	var words, sentences int
	for _, lang := range locales.Supported {
		guide := render(t, b, "guide", lang)
		faq := render(t, b, "faq", lang)
		for id, s := range guide {
			if d, ok := stepData(id).(map[string]int); ok {
				m := counter[lang].FindStringSubmatch(s)
				if m == nil || m[1] != fmt.Sprint(d["Step"]) || m[2] != fmt.Sprint(d["Total"]) {
					t.Errorf("%s %s: no step counter %d/%d at the start: %q", lang, id, d["Step"], d["Total"], s)
				}
			}
			if strings.HasPrefix(id, "guide.btn.") {
				n := utf8.RuneCountInString(s)
				if strings.HasPrefix(lang, "zh") && n > 8 || !strings.HasPrefix(lang, "zh") && n > 20 {
					t.Errorf("%s %s: button label %q too long (%d)", lang, id, s, n)
				}
			}
		}
		all := map[string]string{}
		for id, s := range guide {
			all[id] = s
		}
		for id, s := range faq {
			if !strings.HasSuffix(id, ".kw") {
				all[id] = s
			}
		}
		for id, s := range all {
			if markdown.MatchString(s) {
				t.Errorf("%s %s: looks like markup: %q", lang, id, s)
			}
			if strings.HasPrefix(lang, "zh") || id == "guide.law.original" {
				continue
			}
			for _, sentence := range splitSentences(s) {
				n := len(strings.Fields(sentence))
				if n == 0 {
					continue
				}
				words += n
				sentences++
				if n > 25 {
					t.Errorf("%s %s: sentence of %d words: %q", lang, id, n, sentence)
				}
			}
		}
		// The law text is verbatim.
		orig := guide["guide.law.original"]
		switch lang {
		case "zh-Hans":
			if orig != article12 {
				t.Errorf("zh-Hans guide.law.original is not Article 12 verbatim")
			}
		case "zh-Hant":
			if folded := foldHant(orig); folded != article12 {
				t.Errorf("zh-Hant guide.law.original does not fold to Article 12:\n%s\n%s", folded, article12)
			}
		default:
			lead, text, ok := strings.Cut(orig, "\n")
			if !ok || text != article12 || !strings.HasSuffix(lead, ":") {
				t.Errorf("%s guide.law.original: want a lead line and Article 12 verbatim, got %q", lang, orig)
			}
		}
		// The minimum contribution years are never presented as fixed at 15.
		for _, id := range []string{"guide.law.art16", "faq.minyears.a"} {
			s := all[id]
			for _, want := range []string{"15", "20", "2030", "2039", "2024"} {
				if id == "faq.minyears.a" && want == "2024" {
					continue
				}
				if !strings.Contains(s, want) {
					t.Errorf("%s %s lacks %q: %q", lang, id, want, s)
				}
			}
		}
		// Keywords: no empty entries.
		for _, topic := range Topics {
			kw := faq[MessageID(topic, "kw")]
			for _, k := range strings.Split(kw, "|") {
				if strings.TrimSpace(k) == "" {
					t.Errorf("%s faq.%s.kw has an empty keyword", lang, topic)
				}
			}
		}
		// The scam answer says what the bot never asks for; privacy names /forget.
		if !strings.Contains(all["faq.privacy.a"], "/forget") {
			t.Errorf("%s faq.privacy.a does not name /forget", lang)
		}
		if !strings.Contains(all["faq.scam.a"], "12333") {
			t.Errorf("%s faq.scam.a gives no number to check with", lang)
		}
	}
	if sentences > 0 {
		avg := float64(words) / float64(sentences)
		t.Logf("en+es: %d sentences, %.1f words on average", sentences, avg)
		if avg > 16 {
			t.Errorf("average sentence length %.1f words, want about 14", avg)
		}
	}
}

// splitSentences splits on sentence ends and line breaks.
func splitSentences(s string) []string {
	return regexp.MustCompile(`[.!?;:]\s+|\n`).Split(s, -1)
}

// foldHant maps traditional characters to simplified with the matcher's table.
func foldHant(s string) string {
	return strings.Map(func(r rune) rune {
		if v, ok := hantFold[r]; ok {
			return v
		}
		return r
	}, s)
}

func TestHantTable(t *testing.T) {
	rs := []rune(hantToHans)
	if len(rs)%2 != 0 {
		t.Fatalf("odd number of runes in hantToHans")
	}
	seen := map[rune]bool{}
	for i := 0; i < len(rs); i += 2 {
		trad, simp := rs[i], rs[i+1]
		if trad == simp {
			t.Errorf("pair %c%c maps a character to itself", trad, simp)
		}
		if seen[trad] {
			t.Errorf("%c listed twice", trad)
		}
		seen[trad] = true
	}
	for i := 1; i < len(rs); i += 2 {
		if _, ok := hantFold[rs[i]]; ok {
			t.Errorf("simplified %c is itself a key", rs[i])
		}
	}
}

func TestMenuActions(t *testing.T) {
	valid := map[string]bool{"certify": true, "status": true, "family": true, "payment": true, "card": true, "law": true, "privacy": true, "": true}
	for _, topic := range Topics {
		if !IsTopic(topic) {
			t.Errorf("%s: not a topic", topic)
		}
		if a := MenuAction(topic); !valid[a] {
			t.Errorf("MenuAction(%s) = %q", topic, a)
		}
	}
	if len(menuActions) != len(Topics) {
		t.Errorf("menuActions has %d entries for %d topics", len(menuActions), len(Topics))
	}
	if MenuAction("weather") != "" || IsTopic("weather") {
		t.Error("unknown topic has an action")
	}
}

func TestNewFAQFailsOnMissingLanguage(t *testing.T) {
	b, err := locales.Bundle(locales.Default)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewFAQ(b, []string{"zh-Hans", "fr"}); err == nil {
		t.Error("NewFAQ accepted a language without messages")
	}
	if _, err := NewFAQ(b, nil); err == nil {
		t.Error("NewFAQ accepted no languages")
	}
	// A bundle whose English lacks one answer.
	partial := i18n.NewBundle(b.LanguageTags()[0])
	partial.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	for _, name := range []string{"faq.zh-Hans.toml", "faq.en.toml"} {
		data, err := fs.ReadFile(locales.Files(), name)
		if err != nil {
			t.Fatal(err)
		}
		if name == "faq.en.toml" {
			data = []byte(strings.Replace(string(data), `["faq.card.a"]`, `["faq.card.a.removed"]`, 1))
		}
		if _, err := partial.ParseMessageFileBytes(data, name); err != nil {
			t.Fatal(err)
		}
	}
	_, err = NewFAQ(partial, []string{"zh-Hans", "en"})
	if err == nil || !strings.Contains(err.Error(), "faq.card.a") {
		t.Errorf("NewFAQ with a missing en answer: err = %v", err)
	}
}
