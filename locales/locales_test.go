package locales

import (
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// sampleData holds a value for every template field any message uses. A
// message that needs a field missing here renders "<no value>" and fails.
var sampleData = map[string]any{
	"Count": 2, "Kind": "sticker", "Command": "/x", "Where": "menu", "Step": 1, "Total": 5,
	"Selected": true, "Name": "Wang", "Number": "110105********002X", "Date": "2026-11-28",
	"Until": "2027-11-28", "Days": 3, "Reason": "blurred", "Age": 80, "Code": "1234",
	"Position": 2, "Attempts": 3, "Max": 3, "Time": "10:00", "District": "Haidian",
	"Phone": "138****5678", "Channel": "green", "Day": 28, "Month": 11, "Year": 2026, "MonthName": "November",
	"Who": "Mum", "Lines": "• one\n• two", "Link": "https://t.me/bot?start=x", "Relation": "parent", "Helper": "child",
	"N": 1, "Face": true, "Photo": true, "Delete": true, "Contact": true, "Linked": true, "Forwarded": true, "Family": true,
	// Reminders and broadcasts.
	"Audience": "Everyone", "Excluded": "12", "N_zh_Hans": "9,870", "N_zh_Hant": "1,200", "N_en": "800", "N_es": "475",
	"Lang": "English", "Known": "Haidian", "Default": "Chinese", "People": "1,234", "Over": 1000, "NeedConfirm": true,
	"ID": "9001-42", "By": 9001, "ConfirmedBy": 9002, "Message": "Scam warning", "Status": "sending", "Sent": "100",
	"Failed": "3", "Blocked": "2", "Deactivated": "1", "NotFound": "0", "Uncertain": "0", "Rate": "25", "Left": "3 min",
	"Paused": "30 s", "Took": "5 min",
}

// messages reads every file's message IDs and bodies, per language.
func messages(t *testing.T) map[string]map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]map[string]string{} // lang → id → form → text
	names, err := fs.Glob(Files(), "*.toml")
	if err != nil || len(names) == 0 {
		t.Fatalf("no message files: %v", err)
	}
	for _, name := range names {
		parts := strings.Split(name, ".")
		lang := parts[len(parts)-2]
		if !IsSupported(lang) {
			t.Errorf("%s: language %q is not supported", name, lang)
			continue
		}
		raw, _ := fs.ReadFile(Files(), name)
		var m map[string]map[string]string
		if err := toml.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if out[lang] == nil {
			out[lang] = map[string]map[string]string{}
		}
		for id, forms := range m {
			if _, dup := out[lang][id]; dup {
				t.Errorf("%s: %s defined twice for %s", name, id, lang)
			}
			out[lang][id] = forms
		}
	}
	return out
}

func TestEveryLocaleHasEveryKey(t *testing.T) {
	msgs := messages(t)
	all := map[string]bool{}
	for _, ids := range msgs {
		for id := range ids {
			all[id] = true
		}
	}
	for _, lang := range Supported {
		for id := range all {
			forms, ok := msgs[lang][id]
			if !ok {
				t.Errorf("%s misses %q", lang, id)
				continue
			}
			if strings.TrimSpace(forms["other"]) == "" {
				t.Errorf("%s %q has no 'other' text", lang, id)
			}
		}
	}
}

func TestEveryMessageRenders(t *testing.T) {
	c, err := NewCatalog(Default)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Supported {
		for id := range messages(t)[lang] {
			for _, count := range []int{1, 2, 5} {
				data := map[string]any{}
				for k, v := range sampleData {
					data[k] = v
				}
				data["Count"] = count
				text, err := c.Text(lang, id, data)
				if err != nil {
					t.Errorf("%s %s: %v", lang, id, err)
				}
				if strings.Contains(text, "<no value>") || strings.TrimSpace(text) == "" {
					t.Errorf("%s %s renders %q: a field is missing from its data", lang, id, text)
				}
			}
		}
	}
}

var sentenceEnd = regexp.MustCompile(`[.!?:;\n•]+`)

// Older readers need short sentences: at most 25 words in the languages
// where words are counted by spaces.
func TestSentencesAreShort(t *testing.T) {
	for _, lang := range []string{"en", "es"} {
		for id, forms := range messages(t)[lang] {
			if strings.HasSuffix(id, ".kw") {
				continue // keyword lists for matching questions, never shown
			}
			for _, text := range forms {
				for _, s := range sentenceEnd.Split(text, -1) {
					if n := len(strings.Fields(s)); n > 25 {
						t.Errorf("%s %s: sentence of %d words: %q", lang, id, n, s)
					}
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	for code, want := range map[string]string{
		"zh-hans": "zh-Hans", "zh": "zh-Hans", "zh-CN": "zh-Hans", "zh-TW": "zh-Hant", "zh-HK": "zh-Hant",
		"zh-MO": "zh-Hant", "zh-Hant": "zh-Hant", "zh_TW": "zh-Hant", "en": "en", "en-GB": "en",
		"es": "es", "es-419": "es", "ru": "", "": "", "??": "",
	} {
		if got := Match(code); got != want {
			t.Errorf("Match(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestBundleRejectsUnknownDefault(t *testing.T) {
	if _, err := Bundle("fr"); err == nil {
		t.Fatal("want an error for an unsupported default language")
	}
	if !slices.Contains(Supported, Default) {
		t.Fatal("default language not supported")
	}
}

func TestNestedMessagesRender(t *testing.T) {
	c, err := NewCatalog("en")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Text("es", "input.want.photo", map[string]any{"Kind": ref{"kind.sticker"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "un sticker") {
		t.Fatalf("nested message not rendered in Spanish: %q", got)
	}
}

type ref struct{ id string }

func (r ref) MessageID() string            { return r.id }
func (r ref) TemplateData() map[string]any { return nil }
