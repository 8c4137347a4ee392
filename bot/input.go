package bot

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"pensionbot/flows"
	"pensionbot/locales"
)

// subject is who an update is about and how to answer them.
type subject struct {
	user     int64
	chat     int64
	langHint string
	callback string // callback query ID to answer, if any
	private  bool
}

// subjectOf finds the person an update comes from. Updates that are not
// about one person in their own private chat (channel posts, group
// messages) have none and are ignored: the bot is made for private chats.
// The chat must be the sender's own (a private chat's ID is the user's):
// the answer goes to the chat and carries the sender's state, so an update
// naming someone else's chat (anyone holding the webhook secret can post
// one) must not send one person's conversation into another's chat.
func subjectOf(u *models.Update) (subject, bool) {
	var from *models.User
	var chat models.Chat
	var callback string
	switch {
	case u.Message != nil:
		from, chat = u.Message.From, u.Message.Chat
	case u.EditedMessage != nil:
		from, chat = u.EditedMessage.From, u.EditedMessage.Chat
	case u.CallbackQuery != nil:
		from = &u.CallbackQuery.From
		callback = u.CallbackQuery.ID
		chat = models.Chat{ID: u.CallbackQuery.From.ID, Type: models.ChatTypePrivate}
		if m := u.CallbackQuery.Message.Message; m != nil {
			chat = m.Chat
		}
	case u.MyChatMember != nil:
		from, chat = &u.MyChatMember.From, u.MyChatMember.Chat
	default:
		return subject{}, false
	}
	if from == nil || from.IsBot || chat.Type != models.ChatTypePrivate || chat.ID != from.ID {
		return subject{}, false
	}
	return subject{
		user:     from.ID,
		chat:     chat.ID,
		langHint: locales.Match(from.LanguageCode),
		callback: callback,
		private:  true,
	}, true
}

// inputOf turns an update into what flows understand.
func inputOf(u *models.Update, hint string, now time.Time) flows.Input {
	in := flows.Input{Kind: flows.KindOther, LangHint: hint, Now: now}
	switch {
	case u.CallbackQuery != nil:
		in.Kind = flows.KindButton
		in.Turn, in.Action = parseCallback(u.CallbackQuery.Data)
	case u.EditedMessage != nil:
		in.Kind = flows.KindEdited
	case u.Message != nil:
		messageInput(u.Message, &in)
	}
	return in
}

func messageInput(m *models.Message, in *flows.Input) {
	switch {
	case m.Text != "":
		in.Kind, in.Text = flows.KindText, m.Text
		if cmd, args, ok := command(m.Text, m.Entities); ok {
			in.Kind, in.Command, in.Args = flows.KindCommand, cmd, args
		}
	case len(m.Photo) > 0:
		// Sizes come smallest first; the largest is what OCR and people need.
		p := m.Photo[len(m.Photo)-1]
		in.Kind = flows.KindPhoto
		in.File = &flows.File{ID: p.FileID, Size: int64(p.FileSize), Width: p.Width, Height: p.Height, MIME: "image/jpeg", Group: m.MediaGroupID}
	case m.Document != nil:
		d := m.Document
		in.Kind = flows.KindDocument
		in.File = &flows.File{ID: d.FileID, Size: d.FileSize, MIME: d.MimeType, Name: d.FileName, Group: m.MediaGroupID}
	case m.Voice != nil:
		in.Kind = flows.KindVoice
		in.File = &flows.File{ID: m.Voice.FileID, Size: m.Voice.FileSize, MIME: m.Voice.MimeType, Duration: m.Voice.Duration}
	case m.VideoNote != nil:
		in.Kind = flows.KindVideoNote
		in.File = &flows.File{ID: m.VideoNote.FileID, Size: int64(m.VideoNote.FileSize), Duration: m.VideoNote.Duration, Width: m.VideoNote.Length, Height: m.VideoNote.Length}
	case m.Video != nil:
		in.Kind = flows.KindVideo
	case m.Sticker != nil:
		in.Kind = flows.KindSticker
	case m.Location != nil || m.Venue != nil:
		in.Kind = flows.KindLocation
	case m.Contact != nil:
		in.Kind = flows.KindContact
		in.Contact = &flows.Contact{Phone: m.Contact.PhoneNumber, Own: m.From != nil && m.Contact.UserID == m.From.ID}
	}
	in.Text = firstNonEmpty(in.Text, m.Caption)
	// A forwarded photo was taken by someone, some time: not the face of
	// the pensioner now.
	in.Forwarded = m.ForwardOrigin != nil
}

// command finds a bot command in a message from its entities. Telegram
// gives entity offsets in UTF-16 code units, so Chinese text (or an emoji)
// before the command shifts byte offsets: slice in UTF-16.
func command(text string, entities []models.MessageEntity) (name, args string, ok bool) {
	var units []uint16
	for _, e := range entities {
		if e.Type != models.MessageEntityTypeBotCommand {
			continue
		}
		if units == nil {
			units = utf16.Encode([]rune(text))
		}
		if e.Offset < 0 || e.Length < 2 || e.Offset+e.Length > len(units) {
			continue
		}
		cmd := string(utf16.Decode(units[e.Offset : e.Offset+e.Length]))
		rest := string(utf16.Decode(units[e.Offset+e.Length:]))
		return normalizeCommand(cmd), strings.TrimSpace(rest), true
	}
	return "", "", false
}

// normalizeCommand lowers a command and drops the slash and "@botname".
func normalizeCommand(c string) string {
	c = strings.TrimPrefix(c, "/")
	if i := strings.IndexByte(c, '@'); i >= 0 {
		c = c[:i]
	}
	return strings.ToLower(c)
}

// Buttons carry "<turn>:<action>" so a press on an old message is known.
func callbackData(turn int, action string) string {
	return strconv.Itoa(turn) + ":" + action
}

func parseCallback(data string) (int, string) {
	t, action, ok := strings.Cut(data, ":")
	if !ok {
		return -1, data
	}
	turn, err := strconv.Atoi(t)
	if err != nil {
		return -1, data
	}
	return turn, action
}

// updateTime is when Telegram says the update happened, or now.
func updateTime(u *models.Update, now time.Time) time.Time {
	var date int
	switch {
	case u.Message != nil:
		date = u.Message.Date
	case u.EditedMessage != nil:
		date = u.EditedMessage.EditDate
	}
	if date > 0 {
		t := time.Unix(int64(date), 0)
		if t.Before(now) {
			return t
		}
	}
	return now
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
