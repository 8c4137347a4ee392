package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif" // photo dimensions via image.DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"io"
	"net/http"
	"path"
	"strconv"

	"github.com/go-telegram/bot/models"
	_ "golang.org/x/image/webp"
)

// This file is the person's side: each method builds what Telegram would
// send the bot, enqueues it as one update and returns its update_id. Misuse
// (a zero user id, editing or pressing something that does not exist) fails
// the test through the testing.TB given to New, so like t.Fatal these
// methods belong on the test goroutine.

func (u User) model() models.User {
	return models.User{
		ID:           u.ID,
		FirstName:    u.FirstName,
		LastName:     u.LastName,
		Username:     u.Username,
		LanguageCode: u.LanguageCode,
	}
}

func newChat(ch models.Chat) *chatState {
	return &chatState{
		chat:     ch,
		botByID:  map[int]*botMsg{},
		userMsgs: map[int]*userMsg{},
	}
}

// chatOfLocked returns the person's private chat, creating it on first
// contact: from then on the bot may send to it.
func (s *Server) chatOfLocked(from User) *chatState {
	s.t.Helper()
	if from.ID == 0 {
		s.t.Fatalf("telegramtest: User.ID must not be zero")
	}
	// Fatalf normally ends the test; if the TB does not, carry on with id 0.
	s.users[from.ID] = from
	ch := models.Chat{
		ID:        from.ID,
		Type:      models.ChatTypePrivate,
		FirstName: from.FirstName,
		LastName:  from.LastName,
		Username:  from.Username,
	}
	c := s.chats[from.ID]
	if c == nil {
		c = newChat(ch)
		s.chats[from.ID] = c
	} else {
		c.chat = ch // names may have changed
	}
	return c
}

// userMessageLocked allocates the next message id in the person's chat and
// returns the message skeleton (from, chat, date).
func (s *Server) userMessageLocked(from User) models.Message {
	c := s.chatOfLocked(from)
	c.nextMsgID++
	date := s.nowUnix()
	c.userMsgs[c.nextMsgID] = &userMsg{date: date}
	fu := from.model()
	return models.Message{ID: c.nextMsgID, From: &fu, Date: date, Chat: c.chat}
}

// enqueueLocked assigns an update_id if needed, stores the update's wire
// JSON (also a deep copy, so later changes to u don't leak in) and wakes
// long polls.
func (s *Server) enqueueLocked(u models.Update) int64 {
	s.t.Helper()
	if u.ID == 0 {
		u.ID = s.nextUpdateID
	}
	if _, dup := s.updates[u.ID]; dup {
		s.t.Fatalf("telegramtest: update_id %d is already used", u.ID)
		return u.ID
	}
	if u.ID >= s.nextUpdateID {
		s.nextUpdateID = u.ID + 1
	}
	raw, err := wireJSON(&u)
	if err != nil {
		s.t.Fatalf("telegramtest: can't encode update: %v", err)
		return u.ID
	}
	s.updates[u.ID] = raw
	i := len(s.pending)
	for i > 0 && s.pending[i-1] > u.ID {
		i--
	}
	s.pending = append(s.pending, 0)
	copy(s.pending[i+1:], s.pending[i:])
	s.pending[i] = u.ID
	s.notifyLocked()
	return u.ID
}

// fileIDPad makes file_ids as long as real ones (~80 bytes); base64 of
// "fake-telegramtest-file-id-padding-to-80".
const fileIDPad = "ZmFrZS10ZWxlZ3JhbXRlc3QtZmlsZS1pZC1wYWRkaW5nLXRvLTgw"

// newFileLocked stores data under a fresh file_id and file_path
// "<dir>/file_<n><ext>". kind is the 4-character prefix real file_ids of
// that type start with.
func (s *Server) newFileLocked(kind, dir, ext string, data []byte) *storedFile {
	s.nextFile++
	n := s.nextFile
	f := &storedFile{
		id:       fmt.Sprintf("%sACAgIAAxkBAAIB%08d%s", kind, n, fileIDPad),
		uniqueID: fmt.Sprintf("AQAD%010dX", n),
		path:     fmt.Sprintf("%s/file_%d%s", dir, n, ext),
		data:     data,
	}
	s.files[f.id] = f
	s.paths[f.path] = f
	return f
}

// photoSizesLocked stores a photo as three PhotoSizes (90 and 320 pixel
// previews and the original), smallest first like Telegram. All three serve
// the original bytes; width and height are 0 when the bytes are not an image
// the standard decoders (JPEG, PNG, GIF, WebP) understand.
func (s *Server) photoSizesLocked(data []byte) []models.PhotoSize {
	data = bytes.Clone(data)
	w, h := 0, 0
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
		w, h = cfg.Width, cfg.Height
	}
	var sizes []models.PhotoSize
	for _, box := range []int{90, 320, 0} {
		f := s.newFileLocked("AgAC", "photos", ".jpg", data)
		sw, sh := fit(w, h, box)
		sizes = append(sizes, models.PhotoSize{
			FileID: f.id, FileUniqueID: f.uniqueID, Width: sw, Height: sh, FileSize: len(data),
		})
	}
	return sizes
}

// SendText sends a text message, with bot_command entities for every
// "/command" (or "/command@botname") at the start or after whitespace.
func (s *Server) SendText(from User, text string) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.userMessageLocked(from)
	m.Text = text
	m.Entities = commandEntities(text)
	return s.enqueueLocked(models.Update{Message: &m})
}

// SendPhoto sends a photo with an optional caption (command entities are
// computed for it too). The largest PhotoSize is the last.
func (s *Server) SendPhoto(from User, data []byte, caption string) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.userMessageLocked(from)
	m.Photo = s.photoSizesLocked(data)
	m.Caption = caption
	m.CaptionEntities = commandEntities(caption)
	return s.enqueueLocked(models.Update{Message: &m})
}

// SendDocument sends a file as a document; mime may be "".
func (s *Server) SendDocument(from User, data []byte, fileName, mime string) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.userMessageLocked(from)
	f := s.newFileLocked("BQAC", "documents", path.Ext(fileName), bytes.Clone(data))
	m.Document = &models.Document{
		FileID: f.id, FileUniqueID: f.uniqueID, FileName: fileName, MimeType: mime, FileSize: int64(len(data)),
	}
	return s.enqueueLocked(models.Update{Message: &m})
}

// SendMediaGroup sends an album: one message (and update) per photo, all
// sharing a media_group_id, as Telegram delivers albums.
func (s *Server) SendMediaGroup(from User, photos [][]byte) []int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextMediaGroup++
	group := strconv.FormatInt(13000000000000000+int64(s.nextMediaGroup), 10)
	var ids []int64
	for _, data := range photos {
		m := s.userMessageLocked(from)
		m.Photo = s.photoSizesLocked(data)
		m.MediaGroupID = group
		ids = append(ids, s.enqueueLocked(models.Update{Message: &m}))
	}
	return ids
}

// SendVoice sends a voice note (audio/ogg) of the given duration.
func (s *Server) SendVoice(from User, data []byte, seconds int) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.userMessageLocked(from)
	f := s.newFileLocked("AwAC", "voice", ".oga", bytes.Clone(data))
	m.Voice = &models.Voice{
		FileID: f.id, FileUniqueID: f.uniqueID, Duration: seconds, MimeType: "audio/ogg", FileSize: int64(len(data)),
	}
	return s.enqueueLocked(models.Update{Message: &m})
}

// stickerBytes is what a sticker's file serves: a placeholder, not a real
// WebP image.
var stickerBytes = []byte("RIFF\x00\x00\x00\x00WEBPtelegramtest-sticker")

// SendSticker sends a 512×512 "👍" sticker.
func (s *Server) SendSticker(from User) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.userMessageLocked(from)
	f := s.newFileLocked("CAAC", "stickers", ".webp", stickerBytes)
	m.Sticker = &models.Sticker{
		FileID: f.id, FileUniqueID: f.uniqueID, Type: "regular", Width: 512, Height: 512,
		Emoji: "👍", SetName: "TelegramTestStickers", FileSize: len(stickerBytes),
	}
	return s.enqueueLocked(models.Update{Message: &m})
}

// SendLocation shares a location.
func (s *Server) SendLocation(from User, lat, lon float64) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.userMessageLocked(from)
	m.Location = &models.Location{Latitude: lat, Longitude: lon}
	return s.enqueueLocked(models.Update{Message: &m})
}

// SendContact shares a contact. contact.user_id is contactUserID (0 leaves
// it out, as for a phone-book contact without Telegram). The contact's name
// is that user's if the fake knows them, otherwise the sender's (sharing
// one's own contact is the usual case).
func (s *Server) SendContact(from User, phone string, contactUserID int64) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.userMessageLocked(from)
	who := from
	if u, ok := s.users[contactUserID]; ok {
		who = u
	}
	m.Contact = &models.Contact{
		PhoneNumber: phone, FirstName: who.FirstName, LastName: who.LastName, UserID: contactUserID,
	}
	return s.enqueueLocked(models.Update{Message: &m})
}

// EditText sends an edited_message update: the person's own message
// messageID now reads newText (original date, edit_date now, entities
// recomputed).
func (s *Server) EditText(from User, messageID int, newText string) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatOfLocked(from)
	um := c.userMsgs[messageID]
	if um == nil || um.deleted {
		s.t.Fatalf("telegramtest: EditText: chat %d has no (undeleted) message %d from the user", from.ID, messageID)
		return 0
	}
	fu := from.model()
	m := models.Message{
		ID: messageID, From: &fu, Date: um.date, EditDate: s.nowUnix(), Chat: c.chat,
		Text: newText, Entities: commandEntities(newText),
	}
	return s.enqueueLocked(models.Update{EditedMessage: &m})
}

// PressButton presses the inline button with callback_data data on bot
// message messageID, sending a callback_query whose message is the bot
// message as it currently is. The message must exist, not be deleted and
// carry such a button; otherwise the test fails with a dump of the chat
// (use Push to send a callback for a stale message on purpose). The returned
// callbackID is what Answered takes.
func (s *Server) PressButton(from User, messageID int, data string) (updateID int64, callbackID string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatOfLocked(from)
	m := c.botByID[messageID]
	if m == nil || m.Deleted {
		s.t.Fatalf("telegramtest: PressButton: chat %d has no (undeleted) bot message %d\n%s",
			from.ID, messageID, s.dumpLocked(from.ID))
		return 0, ""
	}
	found := false
	for _, row := range m.Buttons {
		for _, b := range row {
			found = found || (b.Data == data && b.URL == "")
		}
	}
	if !found {
		s.t.Fatalf("telegramtest: PressButton: bot message %d in chat %d has no button with callback_data %q; buttons: %v",
			messageID, from.ID, data, m.Buttons)
		return 0, ""
	}
	s.nextCallback++
	callbackID = fmt.Sprintf("cbq-%d", s.nextCallback)
	s.callbacks[callbackID] = &callbackState{created: s.nowUnix()}
	msg := s.wireMessageLocked(c, m)
	cq := models.CallbackQuery{
		ID:           callbackID,
		From:         from.model(),
		Message:      models.MaybeInaccessibleMessage{Type: models.MaybeInaccessibleMessageTypeMessage, Message: &msg},
		ChatInstance: fmt.Sprintf("%d", -c.chat.ID),
		Data:         data,
	}
	return s.enqueueLocked(models.Update{CallbackQuery: &cq}), callbackID
}

func (s *Server) memberUpdateLocked(from User, oldStatus, newStatus models.ChatMemberType) int64 {
	c := s.chatOfLocked(from)
	me := s.BotUser()
	member := func(t models.ChatMemberType) models.ChatMember {
		switch t {
		case models.ChatMemberTypeBanned:
			return models.ChatMember{Type: t, Banned: &models.ChatMemberBanned{User: &me}}
		default:
			return models.ChatMember{Type: models.ChatMemberTypeMember, Member: &models.ChatMemberMember{User: &me}}
		}
	}
	u := models.Update{MyChatMember: &models.ChatMemberUpdated{
		Chat:          c.chat,
		From:          from.model(),
		Date:          s.nowUnix(),
		OldChatMember: member(oldStatus),
		NewChatMember: member(newStatus),
	}}
	c.blocked = newStatus == models.ChatMemberTypeBanned
	return s.enqueueLocked(u)
}

// BlockBot is the person blocking the bot: a my_chat_member update (member →
// kicked), after which every method aimed at that chat (send, edit, delete,
// chat action) answers 403 "Forbidden: bot was blocked by the user". The
// person's own Send* calls still work; use UnblockBot to undo.
func (s *Server) BlockBot(from User) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.memberUpdateLocked(from, models.ChatMemberTypeMember, models.ChatMemberTypeBanned)
}

// UnblockBot is the person unblocking (restarting) the bot: a my_chat_member
// update (kicked → member) that lifts BlockBot's 403s. Telegram clients
// usually send "/start" right after; tests do that with SendText.
func (s *Server) UnblockBot(from User) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.memberUpdateLocked(from, models.ChatMemberTypeBanned, models.ChatMemberTypeMember)
}

// Push enqueues a hand-made update, assigning update_id if it is 0 (an
// explicit update_id must be unused; later ids continue above it). Chats of
// the messages in it become known, so the bot may answer them, and message
// ids in them advance the chat's message counter.
func (s *Server) Push(u models.Update) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []*models.Message{u.Message, u.EditedMessage} {
		if m != nil {
			s.registerLocked(m.Chat, m.ID, m.Date)
		}
	}
	if cq := u.CallbackQuery; cq != nil && cq.Message.Message != nil {
		s.registerLocked(cq.Message.Message.Chat, 0, 0)
	}
	if mc := u.MyChatMember; mc != nil {
		s.registerLocked(mc.Chat, 0, 0)
	}
	return s.enqueueLocked(u)
}

func (s *Server) registerLocked(ch models.Chat, msgID, date int) {
	if ch.ID == 0 {
		return
	}
	c := s.chats[ch.ID]
	if c == nil {
		c = newChat(ch)
		s.chats[ch.ID] = c
	}
	if msgID > 0 && c.botByID[msgID] == nil && c.userMsgs[msgID] == nil {
		c.userMsgs[msgID] = &userMsg{date: date}
	}
	c.nextMsgID = max(c.nextMsgID, msgID)
}

// Update returns an enqueued update as the bot receives it (decoded from the
// wire JSON, so it is a copy), or the zero Update for an unknown id.
func (s *Server) Update(id int64) models.Update {
	s.t.Helper()
	s.mu.Lock()
	raw := s.updates[id]
	s.mu.Unlock()
	var u models.Update
	if raw == nil {
		return u
	}
	if err := json.Unmarshal(raw, &u); err != nil {
		s.t.Fatalf("telegramtest: can't decode update %d: %v", id, err)
	}
	return u
}

// Deliver POSTs an already-enqueued update to a webhook as Telegram does:
// the update's JSON with Content-Type application/json and, if secret is
// not "", the X-Telegram-Bot-Api-Secret-Token header. An empty webhookURL
// means the URL and secret of the last setWebhook. A 2xx answer confirms the
// update (it leaves the pending queue that getUpdates and
// pending_update_count see); nothing is retried. err reports transport
// failures only; check status for the webhook's answer.
func (s *Server) Deliver(ctx context.Context, webhookURL, secret string, updateID int64) (status int, err error) {
	s.mu.Lock()
	raw, ok := s.updates[updateID]
	if webhookURL == "" {
		webhookURL, secret = s.webhook.url, s.webhook.secret
	}
	s.mu.Unlock()
	if !ok {
		return 0, fmt.Errorf("telegramtest: no update %d", updateID)
	}
	if webhookURL == "" {
		return 0, fmt.Errorf("telegramtest: no webhook URL given and none set")
	}
	// The lock is not held during the POST: the bot may call the API from
	// inside its webhook handler.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, webhookURL, bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		s.mu.Lock()
		for i, id := range s.pending {
			if id == updateID {
				s.pending = append(s.pending[:i:i], s.pending[i+1:]...)
				break
			}
		}
		s.notifyLocked()
		s.mu.Unlock()
	}
	return resp.StatusCode, nil
}
