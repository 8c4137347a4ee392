package telegramtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-telegram/bot/models"
)

// This file holds the Bot API method handlers. Except getUpdates they run
// with s.mu held (see methodDef.locked).

const (
	conflictTerminated = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
	conflictWebhook    = "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
	maxTextLength      = 4096 // UTF-16 code units, after entity parsing
	maxCallbackData    = 64   // bytes
	maxCallbackAnswer  = 200  // UTF-16 code units
)

func (s *Server) getMe(_ context.Context, _ map[string]string) (result, *apiError) {
	return result{value: s.BotUser()}, nil
}

// getUpdates implements long polling. It registers itself as the active
// poll, terminating any older one (as Telegram does), then waits for an
// update, its timeout, the client going away or the server closing.
func (s *Server) getUpdates(ctx context.Context, p map[string]string) (result, *apiError) {
	offset, _ := paramInt(p, "offset")
	limit, ok := paramInt(p, "limit")
	if !ok || limit <= 0 || limit > 100 {
		limit = 100
	}
	timeout, _ := paramInt(p, "timeout")

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.webhook.url != "" {
		return result{}, &apiError{Code: 409, Description: conflictWebhook}
	}
	s.confirmLocked(offset)
	s.kickPollLocked(conflictTerminated)
	me := &pollReq{kicked: make(chan struct{})}
	s.poll = me
	defer func() { // runs before the deferred Unlock
		if s.poll == me {
			s.poll = nil
		}
	}()

	var expire <-chan time.Time
	if timeout > 0 {
		timer := time.NewTimer(time.Duration(timeout) * time.Second)
		defer timer.Stop()
		expire = timer.C
	}
	for {
		select {
		case <-me.kicked:
			return result{}, &apiError{Code: 409, Description: me.reason}
		default:
		}
		if len(s.pending) > 0 || expire == nil {
			break
		}
		changed := s.changed
		s.mu.Unlock()
		done := false
		select {
		case <-changed:
		case <-me.kicked:
		case <-expire:
			done = true
		case <-ctx.Done():
			done = true
		case <-s.done:
			done = true
		}
		s.mu.Lock()
		if done {
			select {
			case <-me.kicked:
				return result{}, &apiError{Code: 409, Description: me.reason}
			default:
			}
			break
		}
	}

	n := min(int(limit), len(s.pending))
	buf := []byte{'['}
	for i, id := range s.pending[:n] {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, s.updates[id]...)
	}
	buf = append(buf, ']')
	return result{value: json.RawMessage(buf)}, nil
}

// confirmLocked applies getUpdates' offset: a positive offset confirms (and
// forgets) every update below it; a negative one keeps only the last -offset
// updates.
func (s *Server) confirmLocked(offset int64) {
	switch {
	case offset > 0:
		i := 0
		for i < len(s.pending) && s.pending[i] < offset {
			i++
		}
		s.pending = append([]int64(nil), s.pending[i:]...)
	case offset < 0:
		if keep := int(-offset); len(s.pending) > keep {
			s.pending = append([]int64(nil), s.pending[len(s.pending)-keep:]...)
		}
	}
}

func (s *Server) kickPollLocked(reason string) {
	if s.poll != nil {
		s.poll.reason = reason
		close(s.poll.kicked)
		s.poll = nil
	}
}

// setWebhook stores the webhook. Unlike Telegram it accepts http:// URLs
// (tests point it at httptest servers) and never pushes updates by itself:
// tests call Deliver.
func (s *Server) setWebhook(_ context.Context, p map[string]string) (result, *apiError) {
	raw := strings.TrimSpace(p["url"])
	if raw == "" {
		return s.deleteWebhook(context.Background(), p)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return result{}, badRequest("bad webhook: An HTTPS URL must be provided for webhook")
	}
	secret := p["secret_token"]
	if len(secret) > 256 || strings.TrimLeft(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
		return result{}, badRequest("secret token contains unallowed characters")
	}
	maxConn := 40
	if n, ok := paramInt(p, "max_connections"); ok && n > 0 {
		maxConn = int(n)
	}
	var allowed []string
	if a := p["allowed_updates"]; a != "" {
		if err := json.Unmarshal([]byte(a), &allowed); err != nil {
			return result{}, badRequest("can't parse allowed updates")
		}
	}
	desc := "Webhook was set"
	if s.webhook.url == raw {
		desc = "Webhook is already set"
	}
	s.webhook = webhookState{url: raw, secret: secret, maxConnections: maxConn, allowedUpdates: allowed}
	if paramBool(p, "drop_pending_updates") {
		s.pending = nil
	}
	s.kickPollLocked(conflictWebhook)
	s.notifyLocked()
	return result{value: true, description: desc}, nil
}

func (s *Server) deleteWebhook(_ context.Context, p map[string]string) (result, *apiError) {
	desc := "Webhook was deleted"
	if s.webhook.url == "" {
		desc = "Webhook is already deleted"
	}
	s.webhook = webhookState{}
	if paramBool(p, "drop_pending_updates") {
		s.pending = nil
	}
	s.notifyLocked()
	return result{value: true, description: desc}, nil
}

func (s *Server) getWebhookInfo(_ context.Context, _ map[string]string) (result, *apiError) {
	info := models.WebhookInfo{URL: s.webhook.url, PendingUpdateCount: len(s.pending)}
	if s.webhook.url != "" {
		info.MaxConnections = s.webhook.maxConnections
		info.AllowedUpdates = append([]string(nil), s.webhook.allowedUpdates...)
	}
	return result{value: info}, nil
}

// chatLocked resolves chat_id to a chat some user has written in. Only
// numeric ids are supported; @channelusername answers "chat not found".
func (s *Server) chatLocked(p map[string]string) (*chatState, *apiError) {
	if strings.TrimSpace(p["chat_id"]) == "" {
		return nil, badRequest("chat_id is empty")
	}
	id, ok := paramInt(p, "chat_id")
	if !ok {
		return nil, badRequest("chat not found")
	}
	c := s.chats[id]
	if c == nil {
		return nil, badRequest("chat not found")
	}
	if c.deactivated {
		return nil, forbidden("user is deactivated")
	}
	if c.blocked {
		return nil, forbidden("bot was blocked by the user")
	}
	return c, nil
}

func validateText(text, parseMode string, tooLong string) *apiError {
	visible := visibleText(text, parseMode)
	if strings.TrimSpace(visible) == "" {
		return badRequest("message text is empty")
	}
	if utf16Len(visible) > maxTextLength {
		return badRequest(tooLong)
	}
	return nil
}

func (s *Server) sendMessage(_ context.Context, p map[string]string) (result, *apiError) {
	c, aerr := s.chatLocked(p)
	if aerr != nil {
		return result{}, aerr
	}
	text, mode := p["text"], p["parse_mode"]
	if aerr := validateText(text, mode, "message is too long"); aerr != nil {
		return result{}, aerr
	}
	mk, aerr := parseMarkup(p["reply_markup"])
	if aerr != nil {
		return result{}, aerr
	}
	c.nextMsgID++
	m := &botMsg{
		Message: Message{ID: c.nextMsgID, ChatID: c.chat.ID, Text: text, ParseMode: mode},
		date:    s.nowUnix(),
	}
	if mk != nil {
		m.ReplyMarkup = mk.raw
		m.Buttons = mk.buttons
		m.Keyboard = mk.keyboard
		m.RemoveKeyboard = mk.remove
		m.inline = mk.inline
	}
	m.Protected = paramBool(p, "protect_content")
	c.bot = append(c.bot, m)
	c.botByID[m.ID] = m
	s.sentLocked(c.chat.ID)
	return result{value: s.wireMessageLocked(c, m)}, nil
}

// sendPhoto takes an uploaded photo (or a file_id) with an optional
// caption, as Telegram does; the caption is limited to 1024 characters.
func (s *Server) sendPhoto(_ context.Context, p map[string]string) (result, *apiError) {
	c, aerr := s.chatLocked(p)
	if aerr != nil {
		return result{}, aerr
	}
	data, uploaded := p["@photo"]
	if !uploaded && p["photo"] == "" {
		return result{}, badRequest("there is no photo in the request")
	}
	if utf16Len(p["caption"]) > 1024 {
		return result{}, badRequest("message caption is too long")
	}
	if uploaded {
		if aerr := checkPhotoUpload([]byte(data)); aerr != nil {
			return result{}, aerr
		}
	}
	mk, aerr := parseMarkup(p["reply_markup"])
	if aerr != nil {
		return result{}, aerr
	}
	c.nextMsgID++
	m := &botMsg{
		Message: Message{ID: c.nextMsgID, ChatID: c.chat.ID, Text: p["caption"], Photo: []byte(data)},
		date:    s.nowUnix(),
	}
	if mk != nil {
		m.ReplyMarkup, m.Buttons, m.inline = mk.raw, mk.buttons, mk.inline
	}
	m.Protected = paramBool(p, "protect_content")
	c.bot = append(c.bot, m)
	c.botByID[m.ID] = m
	s.sentLocked(c.chat.ID)
	return result{value: s.wireMessageLocked(c, m)}, nil
}

// wireMessageLocked is a bot message as Telegram returns it: the text with
// markup already parsed away (entities are not reconstructed) and only an
// inline keyboard as reply_markup, since reply keyboards are not part of a
// message.
func (s *Server) wireMessageLocked(c *chatState, m *botMsg) models.Message {
	me := s.BotUser()
	msg := models.Message{
		ID:       m.ID,
		From:     &me,
		Date:     m.date,
		EditDate: m.editDate,
		Chat:     c.chat,
		Text:     visibleText(m.Text, m.ParseMode),
	}
	if m.inline != nil {
		ik := *m.inline
		msg.ReplyMarkup = &ik
	}
	return msg
}

// editableLocked finds a bot message that can still be edited.
func editableLocked(c *chatState, p map[string]string) (*botMsg, *apiError) {
	id, ok := paramInt(p, "message_id")
	if !ok {
		return nil, badRequest("message identifier is not specified")
	}
	if m := c.botByID[int(id)]; m != nil && !m.Deleted {
		return m, nil
	}
	if u := c.userMsgs[int(id)]; u != nil && !u.deleted {
		return nil, badRequest("message can't be edited")
	}
	return nil, badRequest("message to edit not found")
}

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a content and reply markup of the current content and reply markup of the message"

// inlineMarkup parses an edit's reply_markup, which may only be an
// inline keyboard.
func inlineMarkup(raw string) (*markup, *apiError) {
	mk, aerr := parseMarkup(raw)
	if aerr != nil {
		return nil, aerr
	}
	if mk != nil && mk.inline == nil {
		return nil, badRequest("inline keyboard expected")
	}
	return mk, nil
}

func inlineKey(m *botMsg) string {
	if m.inline == nil {
		return ""
	}
	b, _ := wireJSON(m.inline)
	return string(b)
}

// applyInline replaces the message's inline keyboard; mk == nil removes it,
// which is what Telegram does when an edit carries no reply_markup.
func applyInline(m *botMsg, mk *markup) {
	if mk == nil {
		if m.inline != nil {
			m.ReplyMarkup = nil
		}
		m.inline = nil
		m.Buttons = nil
		return
	}
	m.ReplyMarkup = mk.raw
	m.inline = mk.inline
	m.Buttons = mk.buttons
}

func (s *Server) editMessageText(_ context.Context, p map[string]string) (result, *apiError) {
	if p["inline_message_id"] != "" {
		return result{}, badRequest("inline_message_id is not supported by telegramtest")
	}
	c, aerr := s.chatLocked(p)
	if aerr != nil {
		return result{}, aerr
	}
	m, aerr := editableLocked(c, p)
	if aerr != nil {
		return result{}, aerr
	}
	text, mode := p["text"], p["parse_mode"]
	if aerr := validateText(text, mode, "MESSAGE_TOO_LONG"); aerr != nil {
		return result{}, aerr
	}
	mk, aerr := inlineMarkup(p["reply_markup"])
	if aerr != nil {
		return result{}, aerr
	}
	newKey := ""
	if mk != nil {
		newKey = mk.inlineKey
	}
	if text == m.Text && mode == m.ParseMode && newKey == inlineKey(m) {
		return result{}, badRequest(notModified)
	}
	m.Text, m.ParseMode = text, mode
	applyInline(m, mk)
	m.Edited = true
	m.editDate = s.nowUnix()
	s.notifyLocked()
	return result{value: s.wireMessageLocked(c, m)}, nil
}

func (s *Server) editMessageReplyMarkup(_ context.Context, p map[string]string) (result, *apiError) {
	if p["inline_message_id"] != "" {
		return result{}, badRequest("inline_message_id is not supported by telegramtest")
	}
	c, aerr := s.chatLocked(p)
	if aerr != nil {
		return result{}, aerr
	}
	m, aerr := editableLocked(c, p)
	if aerr != nil {
		return result{}, aerr
	}
	mk, aerr := inlineMarkup(p["reply_markup"])
	if aerr != nil {
		return result{}, aerr
	}
	newKey := ""
	if mk != nil {
		newKey = mk.inlineKey
	}
	if newKey == inlineKey(m) {
		return result{}, badRequest(notModified)
	}
	applyInline(m, mk)
	m.Edited = true
	m.editDate = s.nowUnix()
	s.notifyLocked()
	return result{value: s.wireMessageLocked(c, m)}, nil
}

func (s *Server) deleteMessage(_ context.Context, p map[string]string) (result, *apiError) {
	c, aerr := s.chatLocked(p)
	if aerr != nil {
		return result{}, aerr
	}
	id, ok := paramInt(p, "message_id")
	if !ok {
		return result{}, badRequest("message identifier is not specified")
	}
	if m := c.botByID[int(id)]; m != nil && !m.Deleted {
		if s.nowUnix()-m.date > deleteWindow {
			return result{}, badRequest("message can't be deleted for everyone")
		}
		m.Deleted = true
	} else if u := c.userMsgs[int(id)]; u != nil && !u.deleted {
		if s.nowUnix()-u.date > deleteWindow {
			return result{}, badRequest("message can't be deleted for everyone")
		}
		u.deleted = true
		c.deletedUser = append(c.deletedUser, int(id))
	} else {
		return result{}, badRequest("message to delete not found")
	}
	s.notifyLocked()
	return result{value: true}, nil
}

func (s *Server) answerCallbackQuery(_ context.Context, p map[string]string) (result, *apiError) {
	cb := s.callbacks[p["callback_query_id"]]
	if cb == nil || cb.answered || s.nowUnix()-cb.created > callbackAnswerWindow {
		return result{}, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	if utf16Len(p["text"]) > maxCallbackAnswer {
		return result{}, badRequest("MESSAGE_TOO_LONG")
	}
	cb.answered = true
	cb.text = p["text"]
	s.notifyLocked()
	return result{value: true}, nil
}

var chatActions = map[string]bool{
	"typing": true, "upload_photo": true, "record_video": true, "upload_video": true,
	"record_voice": true, "upload_voice": true, "upload_document": true,
	"choose_sticker": true, "find_location": true, "record_video_note": true,
	"upload_video_note": true,
}

func (s *Server) sendChatAction(_ context.Context, p map[string]string) (result, *apiError) {
	if _, aerr := s.chatLocked(p); aerr != nil {
		return result{}, aerr
	}
	if !chatActions[p["action"]] {
		return result{}, badRequest("wrong parameter action in request")
	}
	return result{value: true}, nil
}

func (s *Server) setMyCommands(_ context.Context, p map[string]string) (result, *apiError) {
	var cmds []models.BotCommand
	if err := json.Unmarshal([]byte(p["commands"]), &cmds); err != nil {
		return result{}, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return result{}, badRequest("too many commands")
	}
	for _, c := range cmds {
		if len(c.Command) == 0 || len(c.Command) > 32 ||
			strings.TrimLeft(c.Command, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
			return result{}, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf8.RuneCountInString(strings.TrimSpace(c.Description)); n == 0 || n > 256 {
			return result{}, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	if cmds == nil {
		cmds = []models.BotCommand{}
	}
	key, aerr := commandsKey(p)
	if aerr != nil {
		return result{}, aerr
	}
	s.commands[key] = cmds
	s.notifyLocked()
	return result{value: true}, nil
}

func (s *Server) deleteMyCommands(_ context.Context, p map[string]string) (result, *apiError) {
	key, aerr := commandsKey(p)
	if aerr != nil {
		return result{}, aerr
	}
	delete(s.commands, key)
	s.notifyLocked()
	return result{value: true}, nil
}

func (s *Server) getMyCommands(_ context.Context, p map[string]string) (result, *apiError) {
	key, aerr := commandsKey(p)
	if aerr != nil {
		return result{}, aerr
	}
	return result{value: append([]models.BotCommand{}, s.commands[key]...)}, nil
}

// commandsKey is where a command list is kept: its scope and language.
// The scopes a private chat can see are told apart ("default",
// "all_private_chats", "chat" with a chat_id); the group scopes are
// kept, and never shown, as a private chat never sees them.
func commandsKey(p map[string]string) (string, *apiError) {
	lang := p["language_code"]
	if lang != "" && (len(lang) != 2 || strings.ToLower(lang) != lang) {
		return "", badRequest("invalid language code specified")
	}
	scope := "default"
	if raw := p["scope"]; raw != "" {
		var sc struct {
			Type   string `json:"type"`
			ChatID any    `json:"chat_id"`
		}
		if err := json.Unmarshal([]byte(raw), &sc); err != nil {
			return "", badRequest("can't parse BotCommandScope JSON object")
		}
		switch sc.Type {
		case "default", "all_private_chats", "all_group_chats", "all_chat_administrators":
			scope = sc.Type
		case "chat", "chat_administrators":
			id, ok := sc.ChatID.(float64)
			if !ok || id == 0 {
				return "", badRequest("chat_id is empty")
			}
			scope = fmt.Sprintf("%s:%d", sc.Type, int64(id))
		default:
			return "", badRequest("wrong BotCommandScope type specified")
		}
	}
	return scope + "|" + lang, nil
}

func (s *Server) getFile(_ context.Context, p map[string]string) (result, *apiError) {
	f := s.files[p["file_id"]]
	if f == nil {
		return result{}, badRequest("invalid file_id")
	}
	if len(f.data) > MaxDownloadSize {
		return result{}, badRequest("file is too big")
	}
	return result{value: models.File{
		FileID:       f.id,
		FileUniqueID: f.uniqueID,
		FileSize:     int64(len(f.data)),
		FilePath:     f.path,
	}}, nil
}
