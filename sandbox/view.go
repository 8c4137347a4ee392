package sandbox

import (
	"encoding/json"
	"fmt"
	"sort"

	"github.com/go-telegram/bot/models"
)

// chatView is one person's chat as the page draws it.
type chatView struct {
	Person   Person              `json:"person"`
	Messages []messageView       `json:"messages"`
	Keyboard *keyboardView       `json:"keyboard"`
	Commands []models.BotCommand `json:"commands"`
	// Toasts are the texts the bot answered button presses with, shown
	// briefly over the chat as Telegram does; the page shows each id once.
	Toasts []toastView `json:"toasts"`
}

type messageView struct {
	ID       int            `json:"id"`
	From     string         `json:"from"` // "bot" or "me"
	Kind     string         `json:"kind"` // text, photo, document, voice, contact
	Text     string         `json:"text"`
	Media    string         `json:"media,omitempty"` // URL of the photo, file or voice note
	FileName string         `json:"file_name,omitempty"`
	Seconds  int            `json:"seconds,omitempty"`
	Buttons  [][]buttonView `json:"buttons,omitempty"`
	Edited   bool           `json:"edited,omitempty"`
	Deleted  bool           `json:"deleted,omitempty"`
	Protect  bool           `json:"protected,omitempty"`
}

type buttonView struct {
	Text string `json:"text"`
	Data string `json:"data,omitempty"`
	URL  string `json:"url,omitempty"`
}

type keyboardView struct {
	MessageID   int           `json:"message_id"`
	Rows        [][]keyButton `json:"rows"`
	OneTime     bool          `json:"one_time"`
	Used        bool          `json:"used"` // a one-time keyboard after a message was sent: hidden, can be reopened
	Placeholder string        `json:"placeholder,omitempty"`
}

type keyButton struct {
	Text           string `json:"text"`
	RequestContact bool   `json:"request_contact,omitempty"`
}

type toastView struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// view builds a person's chat from the emulator (the bot's messages) and
// the sandbox's record of what the person sent.
func (s *Sandbox) view(id int64) chatView {
	s.mu.Lock()
	p := *s.people[id]
	sent := make([]sentMessage, 0, len(s.sent[id]))
	for _, m := range s.sent[id] {
		sent = append(sent, *m)
	}
	presses := append([]string(nil), s.presses[id]...)
	s.mu.Unlock()

	v := chatView{Person: p, Messages: []messageView{}, Toasts: []toastView{}}
	deleted := map[int]bool{}
	for _, mid := range s.api.DeletedUserMessages(id) {
		deleted[mid] = true
	}
	lastSent := 0
	for _, m := range sent {
		mv := messageView{ID: m.ID, From: "me", Kind: m.Kind, Text: m.Text, FileName: m.FileName, Seconds: m.Seconds, Deleted: deleted[m.ID]}
		if m.Media != "" {
			mv.Media = "/api/media/" + m.Media
		}
		v.Messages = append(v.Messages, mv)
		lastSent = max(lastSent, m.ID)
	}
	for _, m := range s.api.Messages(id) {
		mv := messageView{ID: m.ID, From: "bot", Kind: "text", Text: m.Text, Edited: m.Edited, Deleted: m.Deleted}
		if len(m.Photo) > 0 {
			mv.Kind = "photo"
			mv.Media = fmt.Sprintf("/api/people/%d/botphoto/%d", id, m.ID)
		}
		for _, row := range m.Buttons {
			var r []buttonView
			for _, b := range row {
				r = append(r, buttonView{Text: b.Text, Data: b.Data, URL: b.URL})
			}
			mv.Buttons = append(mv.Buttons, r)
		}
		v.Messages = append(v.Messages, mv)
		// A reply keyboard stays until another replaces or removes it,
		// even if the message that brought it is deleted.
		switch {
		case m.RemoveKeyboard:
			v.Keyboard = nil
		case len(m.Keyboard) > 0:
			v.Keyboard = replyKeyboard(m.ID, m.ReplyMarkup, m.Keyboard)
		}
	}
	if v.Keyboard != nil && v.Keyboard.OneTime && lastSent > v.Keyboard.MessageID {
		v.Keyboard.Used = true
	}
	// Message ids are shared by both sides of a chat, so they give the order.
	sort.SliceStable(v.Messages, func(i, j int) bool { return v.Messages[i].ID < v.Messages[j].ID })
	for _, cb := range presses {
		if text, ok := s.api.Answered(cb); ok && text != "" {
			v.Toasts = append(v.Toasts, toastView{ID: cb, Text: text})
		}
	}
	v.Commands = s.api.MenuCommands(p.ID, p.Language)
	return v
}

// replyKeyboard reads a ReplyKeyboardMarkup; texts is the emulator's
// reading of it, used if the raw markup cannot be decoded.
func replyKeyboard(msgID int, raw json.RawMessage, texts [][]string) *keyboardView {
	kb := &keyboardView{MessageID: msgID}
	var mk models.ReplyKeyboardMarkup
	if err := json.Unmarshal(raw, &mk); err == nil && len(mk.Keyboard) > 0 {
		for _, row := range mk.Keyboard {
			var r []keyButton
			for _, b := range row {
				r = append(r, keyButton{Text: b.Text, RequestContact: b.RequestContact})
			}
			kb.Rows = append(kb.Rows, r)
		}
		kb.OneTime, kb.Placeholder = mk.OneTimeKeyboard, mk.InputFieldPlaceholder
		return kb
	}
	for _, row := range texts {
		var r []keyButton
		for _, t := range row {
			r = append(r, keyButton{Text: t})
		}
		kb.Rows = append(kb.Rows, r)
	}
	return kb
}
