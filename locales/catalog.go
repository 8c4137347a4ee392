package locales

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// Dated is a date inside template data, written as the language writes
// dates (message "date", with the month's name from "month.<n>").
type Dated interface {
	DateValue() time.Time
}

// Ref is a message inside template data, rendered before the message that
// holds it. flows.Msg satisfies it; this package does not import flows.
type Ref interface {
	MessageID() string
	TemplateData() map[string]any
}

// List is a list of messages inside template data (flows.Lines), rendered
// one per line.
type List interface {
	ListItems() []any
}

// Catalog renders messages in a language. It keeps one localizer per
// language, so rendering costs no allocation beyond the template's.
type Catalog struct {
	bundle     *i18n.Bundle
	plural     map[string]bool // IDs with plural forms in some language
	def        string
	mu         sync.RWMutex
	localizers map[string]*i18n.Localizer
}

// NewCatalog loads the embedded messages with defaultLang as the fallback.
func NewCatalog(defaultLang string) (*Catalog, error) {
	b, err := Bundle(defaultLang)
	if err != nil {
		return nil, err
	}
	plural, err := pluralIDs()
	if err != nil {
		return nil, err
	}
	return &Catalog{bundle: b, def: defaultLang, plural: plural, localizers: map[string]*i18n.Localizer{}}, nil
}

// pluralIDs finds the messages that have plural forms. go-i18n refuses a
// plural count for a message without them, so only these get one.
func pluralIDs() (map[string]bool, error) {
	out := map[string]bool{}
	names, err := fs.Glob(files, "*.toml")
	if err != nil {
		return nil, fmt.Errorf("list message files: %w", err)
	}
	for _, name := range names {
		raw, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		var m map[string]map[string]any
		if err := toml.Unmarshal(raw, &m); err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		for id, forms := range m {
			for _, f := range []string{"zero", "one", "two", "few", "many"} {
				if _, ok := forms[f]; ok {
					out[id] = true
				}
			}
		}
	}
	return out, nil
}

// Bundle returns the underlying go-i18n bundle.
func (c *Catalog) Bundle() *i18n.Bundle { return c.bundle }

// Default is the catalog's default language.
func (c *Catalog) Default() string { return c.def }

func (c *Catalog) localizer(lang string) *i18n.Localizer {
	c.mu.RLock()
	l := c.localizers[lang]
	c.mu.RUnlock()
	if l != nil {
		return l
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if l = c.localizers[lang]; l == nil {
		l = i18n.NewLocalizer(c.bundle, lang, c.def)
		c.localizers[lang] = l
	}
	return l
}

// Text renders message id in lang with data. Values of data that are Refs
// are rendered first, in the same language. A "Count" value selects the
// plural form by CLDR rules. A message missing in lang is an error (the
// default language's text is still returned, so a person sees something).
func (c *Catalog) Text(lang, id string, data map[string]any) (string, error) {
	resolved, err := c.resolve(lang, data)
	if err != nil {
		return "", err
	}
	cfg := &i18n.LocalizeConfig{MessageID: id, TemplateData: resolved}
	if n, ok := resolved["Count"]; ok && c.plural[id] {
		cfg.PluralCount = n
	}
	text, tag, err := c.localizer(lang).LocalizeWithTag(cfg)
	if err != nil {
		var nf *i18n.MessageNotFoundErr
		if errors.As(err, &nf) && text != "" {
			return text, fmt.Errorf("message %q missing in %s (showed %s): %w", id, lang, tag, err)
		}
		return text, fmt.Errorf("render %q in %s: %w", id, lang, err)
	}
	return text, nil
}

func (c *Catalog) resolve(lang string, data map[string]any) (map[string]any, error) {
	var out map[string]any
	for k, v := range data {
		if d, ok := v.(Dated); ok {
			t := d.DateValue()
			v = dateRef{t}
		}
		ref, isRef := v.(Ref)
		list, isList := v.(List)
		if !isRef && !isList {
			continue
		}
		if out == nil {
			out = make(map[string]any, len(data))
			for k2, v2 := range data {
				out[k2] = v2
			}
		}
		if isList {
			var lines []string
			for i, item := range list.ListItems() {
				r, ok := item.(Ref)
				if !ok {
					return nil, fmt.Errorf("render %s of message: item %d is %T, not a message", k, i, item)
				}
				text, err := c.Text(lang, r.MessageID(), r.TemplateData())
				if err != nil {
					return nil, fmt.Errorf("render %s of message, item %d: %w", k, i, err)
				}
				lines = append(lines, text)
			}
			out[k] = strings.Join(lines, "\n")
			continue
		}
		text, err := c.Text(lang, ref.MessageID(), ref.TemplateData())
		if err != nil {
			return nil, fmt.Errorf("render %s of message: %w", k, err)
		}
		out[k] = text
	}
	if out == nil {
		return data, nil
	}
	return out, nil
}

// dateRef renders a date through the "date" message.
type dateRef struct{ t time.Time }

func (d dateRef) MessageID() string { return "date" }
func (d dateRef) TemplateData() map[string]any {
	return map[string]any{
		"Year": d.t.Year(), "Month": int(d.t.Month()), "Day": d.t.Day(),
		"MonthName": monthRef(int(d.t.Month())),
	}
}

type monthRef int

func (m monthRef) MessageID() string            { return "month." + strconv.Itoa(int(m)) }
func (m monthRef) TemplateData() map[string]any { return nil }
