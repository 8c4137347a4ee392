package flows

// Reply is one message the bot sends, as data: a locale message ID with
// template data, rendered in the person's language by the bot package.
type Reply struct {
	// ID is the locale message to show. When ID is "", Text is shown as is
	// (used for answers a language model wrote in the person's language).
	ID   string
	Data map[string]any
	Text string
	// Buttons is an inline keyboard, one slice per row.
	Buttons [][]Button
	// AskContact shows Telegram's share-contact keyboard button with this
	// label message; RemoveKeyboard takes a reply keyboard away.
	AskContact     string
	RemoveKeyboard bool
	// PhotoOf, when set, sends a picture kept elsewhere (a case's photo in
	// the review queue) with the text as its caption. The bot fetches it
	// when it sends the message: the picture, up to megabytes, does not
	// travel through the outbox, and a case decided meanwhile sends none.
	PhotoOf *PhotoRef
	// Ephemeral messages are deleted from the chat when a later result
	// says ClearEphemeral (a case's photos, once it is decided).
	Ephemeral bool
	// Protect keeps the message from being forwarded or saved (a case's
	// details in a staff member's chat). Photos are always protected.
	Protect bool
	// Lang renders the reply in this language instead of the reader's: a
	// text a helper reads aloud to a relative in Chinese, a broadcast's
	// preview in each language as its recipients see it.
	Lang string
}

// Button is an inline button. Label is a locale message ID, or when Verbatim
// is set a text shown as is (language names are written in their own
// language). Action is what the press does; the engine checks it against
// the step that showed it.
type Button struct {
	Label    string
	Verbatim bool
	Action   string
	Data     map[string]any
	// Lang renders the label in this language instead of the person's:
	// language names are written in their own language.
	Lang string
}

// Msg is a localizable value inside template data: the renderer replaces it
// with the rendered message, so a reply can say "I can't read a {{.Kind}}"
// in any language.
type Msg struct {
	ID   string
	Data map[string]any
}

// MessageID and TemplateData let the renderer see a Msg without importing
// this package.
func (m Msg) MessageID() string            { return m.ID }
func (m Msg) TemplateData() map[string]any { return m.Data }

// Lines is a list of messages inside template data, rendered one per line
// ("{{.Lines}}" in a status list).
type Lines []Msg

// ListItems lets the renderer see Lines without importing this package.
func (l Lines) ListItems() []any {
	out := make([]any, len(l))
	for i, m := range l {
		out[i] = m
	}
	return out
}

// Say is a shorthand for a reply without buttons.
func Say(id string, data map[string]any) Reply { return Reply{ID: id, Data: data} }

// Row is a shorthand for one row of buttons.
func Row(b ...Button) []Button { return b }

// Btn is a shorthand for a button labelled by a locale message.
func Btn(label, action string) Button { return Button{Label: label, Action: action} }
