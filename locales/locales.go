// Package locales holds every user-visible string of pensionbot, as go-i18n
// TOML message files embedded into the binary, and the rules for choosing a
// person's language.
//
// Files are named <area>.<lang>.toml (for example core.zh-Hans.toml). Every
// message ID must exist in every supported language; locales_test.go fails
// when one is missing or when a template does not render.
package locales

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed *.toml
var files embed.FS

// Default is the language used when nothing else is known.
const Default = "zh-Hans"

// Supported lists the languages the bot speaks, in the order they are offered.
var Supported = []string{"zh-Hans", "zh-Hant", "en", "es"}

// IsSupported reports whether lang is one of Supported, exactly.
func IsSupported(lang string) bool {
	for _, s := range Supported {
		if s == lang {
			return true
		}
	}
	return false
}

// Match maps a Telegram language_code (an IETF tag such as "zh-TW", "en-GB",
// "es-419") to a supported language, or "" when none fits. Traditional Chinese
// is chosen for Taiwan, Hong Kong and Macau and for explicit Hant tags.
func Match(code string) string {
	// Every update carries the sender's code, and parsing a tag costs more
	// than the rest of choosing a language: the few codes people have are
	// remembered.
	if v, ok := matched.Load(code); ok {
		return v.(string)
	}
	got := match(code)
	if matchedN.Add(1) <= 1000 { // a bound: codes come from the clients
		matched.Store(code, got)
	}
	return got
}

var (
	matched  sync.Map // language_code → Match result
	matchedN atomic.Int64
)

func match(code string) string {
	code = strings.TrimSpace(strings.ReplaceAll(code, "_", "-"))
	if code == "" {
		return ""
	}
	tag, err := language.Parse(code)
	if err != nil {
		return ""
	}
	base, _ := tag.Base()
	switch base.String() {
	case "zh":
		script, _ := tag.Script()
		region, _ := tag.Region()
		if script.String() == "Hant" {
			return "zh-Hant"
		}
		if script.String() == "Hans" {
			return "zh-Hans"
		}
		switch region.String() {
		case "TW", "HK", "MO":
			return "zh-Hant"
		}
		return "zh-Hans"
	case "en":
		return "en"
	case "es":
		return "es"
	}
	return ""
}

// Files returns the embedded message files, for tests and tools.
func Files() fs.FS { return files }

// Bundle loads every embedded message file into a new bundle whose default
// language is defaultLang. It fails on a malformed file, so a broken
// translation stops the program at start-up rather than in a conversation.
func Bundle(defaultLang string) (*i18n.Bundle, error) {
	if !IsSupported(defaultLang) {
		return nil, fmt.Errorf("default language %q is not one of %s", defaultLang, strings.Join(Supported, ", "))
	}
	b := i18n.NewBundle(language.MustParse(defaultLang))
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	names, err := fs.Glob(files, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("list message files: %w", err)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := b.LoadMessageFileFS(files, name); err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
	}
	return b, nil
}
