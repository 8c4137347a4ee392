package telegramtest

import (
	"bytes"
	"encoding/json"
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// utf16Len is a string's length in UTF-16 code units, the unit Telegram uses
// for message length limits and entity offsets.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func isCommandChar(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9')
}

// commandEntities finds the bot_command entities Telegram would attach: a
// "/" at the start of the text or after whitespace, followed by at least one
// latin letter, digit or underscore, optionally "@botname". Offsets and
// lengths are UTF-16 code units, so "你好 /help" has its command at offset 3.
func commandEntities(text string) []models.MessageEntity {
	var out []models.MessageEntity
	afterSpace := true
	u16 := 0
	for i := 0; i < len(text); {
		if text[i] == '/' && afterSpace {
			j := i + 1
			for j < len(text) && isCommandChar(text[j]) {
				j++
			}
			if j > i+1 {
				if j < len(text) && text[j] == '@' {
					k := j + 1
					for k < len(text) && isCommandChar(text[k]) {
						k++
					}
					if k > j+1 {
						j = k
					}
				}
				// Command characters are ASCII: bytes == UTF-16 units.
				out = append(out, models.MessageEntity{Type: models.MessageEntityTypeBotCommand, Offset: u16, Length: j - i})
				u16 += j - i
				i = j
				afterSpace = false
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		afterSpace = unicode.IsSpace(r)
		u16 += utf16Len(string(r))
		i += size
	}
	return out
}

// visibleText approximates the text Telegram shows after parsing a
// parse_mode: HTML tags are dropped and entities unescaped; Markdown markup
// characters, escapes and link targets are dropped. It is used for the
// length limit and for the text echoed back in answers; the fake does not
// reject malformed markup.
func visibleText(text, parseMode string) string {
	switch strings.ToLower(parseMode) {
	case "html":
		return html.UnescapeString(stripTags(text))
	case "markdownv2":
		return stripMarkdown(text, "*_~|`[]", true)
	case "markdown":
		return stripMarkdown(text, "*_`[]", false)
	}
	return text
}

func stripTags(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		b.WriteString(s[:i])
		s = s[i+j+1:]
	}
	b.WriteString(s)
	return b.String()
}

func stripMarkdown(s, markup string, escapes bool) string {
	var b strings.Builder
	inURL := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case escapes && c == '\\' && i+1 < len(s):
			r, size := utf8.DecodeRuneInString(s[i+1:])
			if !inURL {
				b.WriteRune(r)
			}
			i += 1 + size
			continue
		case inURL:
			if c == ')' {
				inURL = false
			}
			i++
			continue
		case c == ']' && i+1 < len(s) && s[i+1] == '(':
			inURL = true
			i += 2
			continue
		case strings.IndexByte(markup, c) >= 0:
			i++
			continue
		case escapes && c == '>' && (i == 0 || s[i-1] == '\n'):
			i++ // blockquote marker
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r)
		i += size
	}
	return b.String()
}

// markup is a parsed reply_markup parameter.
type markup struct {
	raw       json.RawMessage // canonical JSON as received
	inline    *models.InlineKeyboardMarkup
	inlineKey string // normalised encoding of inline, for "not modified" checks
	buttons   [][]Button
	keyboard  [][]string
	remove    bool
}

// inlineButton has pointer/raw fields so the fake can tell a missing field
// from an empty one, which models.InlineKeyboardButton cannot.
type inlineButton struct {
	Text                         string          `json:"text"`
	URL                          string          `json:"url"`
	CallbackData                 *string         `json:"callback_data"`
	WebApp                       json.RawMessage `json:"web_app"`
	LoginURL                     json.RawMessage `json:"login_url"`
	SwitchInlineQuery            *string         `json:"switch_inline_query"`
	SwitchInlineQueryCurrentChat *string         `json:"switch_inline_query_current_chat"`
	SwitchInlineQueryChosenChat  json.RawMessage `json:"switch_inline_query_chosen_chat"`
	CopyText                     *struct {
		Text string `json:"text"`
	} `json:"copy_text"`
	CallbackGame json.RawMessage `json:"callback_game"`
	Pay          bool            `json:"pay"`
}

func present(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && !bytes.Equal(t, []byte("null"))
}

func (b inlineButton) hasAction() bool {
	return b.URL != "" || b.CallbackData != nil || present(b.WebApp) || present(b.LoginURL) ||
		b.SwitchInlineQuery != nil || b.SwitchInlineQueryCurrentChat != nil ||
		present(b.SwitchInlineQueryChosenChat) || (b.CopyText != nil && b.CopyText.Text != "") ||
		present(b.CallbackGame) || b.Pay
}

var errMarkupJSON = badRequest("can't parse reply keyboard markup JSON object")

// parseMarkup parses and validates reply_markup the way Telegram does for
// the mistakes bots actually make: callback_data over 64 bytes, inline
// buttons with no action, buttons without text. "" means no markup.
func parseMarkup(raw string) (*markup, *apiError) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &top); err != nil {
		return nil, errMarkupJSON
	}
	mk := &markup{raw: json.RawMessage(raw)}
	switch {
	case present(top["inline_keyboard"]):
		var rows [][]inlineButton
		if err := json.Unmarshal(top["inline_keyboard"], &rows); err != nil {
			return nil, errMarkupJSON
		}
		for _, row := range rows {
			var out []Button
			for _, b := range row {
				if b.Text == "" {
					return nil, badRequest("can't parse inline keyboard button: Text must be non-empty")
				}
				if b.CallbackData != nil && (len(*b.CallbackData) == 0 || len(*b.CallbackData) > maxCallbackData) {
					return nil, badRequest("BUTTON_DATA_INVALID")
				}
				if !b.hasAction() {
					return nil, badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
				}
				btn := Button{Text: b.Text, URL: b.URL}
				if b.CallbackData != nil {
					btn.Data = *b.CallbackData
				}
				out = append(out, btn)
			}
			mk.buttons = append(mk.buttons, out)
		}
		var ik models.InlineKeyboardMarkup
		if err := json.Unmarshal([]byte(raw), &ik); err != nil {
			return nil, errMarkupJSON
		}
		key, err := wireJSON(&ik)
		if err != nil {
			return nil, errMarkupJSON
		}
		mk.inline, mk.inlineKey = &ik, string(key)
	case present(top["keyboard"]):
		var rows [][]json.RawMessage
		if err := json.Unmarshal(top["keyboard"], &rows); err != nil {
			return nil, errMarkupJSON
		}
		for _, row := range rows {
			var out []string
			for _, b := range row {
				// A keyboard button may be a bare string or a KeyboardButton.
				var text string
				if err := json.Unmarshal(b, &text); err != nil {
					var kb struct {
						Text string `json:"text"`
					}
					if err := json.Unmarshal(b, &kb); err != nil {
						return nil, errMarkupJSON
					}
					text = kb.Text
				}
				if text == "" {
					return nil, badRequest("can't parse keyboard button: Text must be non-empty")
				}
				out = append(out, text)
			}
			mk.keyboard = append(mk.keyboard, out)
		}
	case present(top["remove_keyboard"]):
		if err := json.Unmarshal(top["remove_keyboard"], &mk.remove); err != nil {
			return nil, errMarkupJSON
		}
	}
	return mk, nil
}

// fit scales w×h down to fit in a box×box square (box 0 = keep), like the
// smaller PhotoSizes Telegram generates.
func fit(w, h, box int) (int, int) {
	if box == 0 || (w <= box && h <= box) {
		return w, h
	}
	if w >= h {
		return box, max(1, (h*box+w/2)/w)
	}
	return max(1, (w*box+h/2)/h), box
}
