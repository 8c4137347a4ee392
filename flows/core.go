package flows

import (
	"context"
	"slices"
	"strings"
)

// coreFeature holds the steps every person meets: the language choice, the
// main menu, the offer to resume, and forgetting.
type coreFeature struct{}

func (coreFeature) Register(e *Engine) error {
	for _, s := range []*Step{
		{Name: StepLanguage, Title: "step.language", NoQuestions: true, Show: showLanguage, Handle: handleLanguage},
		{Name: StepMenu, Title: "step.menu", Expects: []Kind{KindText}, Hint: "input.want.menu", Show: e.showMenu, Handle: e.handleMenu},
		{Name: StepResume, Title: "step.resume", NoQuestions: true, Show: e.showResume, Handle: e.handleResume},
		{Name: StepForget, Title: "step.forget", NoQuestions: true, Show: e.showForget, Handle: handleForget},
	} {
		if err := e.AddStep(s); err != nil {
			return err
		}
	}
	e.AddCommand("start", StepMenu) // handled by the engine; listed for the command menu
	e.AddCommand("menu", StepMenu)
	e.AddCommand("help", StepMenu)
	e.AddCommand("cancel", StepMenu)
	e.AddCommand("language", StepLanguage)
	e.AddCommand("privacy", StepMenu)
	e.AddCommand("forget", StepForget)
	return nil
}

func showLanguage(s *State, env *Env) []Reply {
	current := s.Language("")
	var rows [][]Button
	// The language the bot guessed comes first and is marked, so most
	// people confirm with one press.
	langs := slices.Clone(env.Languages)
	if i := slices.Index(langs, current); i > 0 {
		langs = append([]string{current}, slices.Delete(langs, i, i+1)...)
	}
	for _, l := range langs {
		rows = append(rows, Row(Button{
			Label:  "lang.name",
			Lang:   l,
			Action: "lang:" + l,
			Data:   map[string]any{"Selected": l == current},
		}))
	}
	return []Reply{{ID: "lang.ask", Buttons: rows}}
}

func handleLanguage(_ context.Context, s *State, in Input, env *Env) Outcome {
	lang, ok := strings.CutPrefix(in.Action, "lang:")
	if !ok || !slices.Contains(env.Languages, lang) {
		return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
	}
	first := s.Lang == ""
	s.Lang = lang
	back := s.Back
	s.Back = ""
	if back == "" || back == StepLanguage {
		back = StepMenu
	}
	if first {
		return Outcome{Say: []Reply{Say("welcome", nil)}, Goto: back}
	}
	return Outcome{Say: []Reply{Say("lang.changed", nil)}, Goto: back}
}

func (e *Engine) showMenu(s *State, env *Env) []Reply {
	var rows [][]Button
	for _, m := range e.menu {
		rows = append(rows, Row(Btn(m.Label, m.Action)))
	}
	rows = append(rows,
		Row(Btn("menu.btn.help", "help"), Btn("menu.btn.language", "language")),
		Row(Btn("menu.btn.privacy", "privacy")),
	)
	id := "menu"
	if env.Answerer != nil {
		id = "menu.ask" // also says that typing a question works
	}
	return []Reply{{ID: id, Buttons: rows}}
}

func (e *Engine) handleMenu(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if in.Kind == KindText {
		return e.answer(ctx, s, in.Text, env)
	}
	switch in.Action {
	case "help":
		return Outcome{Say: []Reply{Say("help", nil)}, Goto: StepMenu}
	case "privacy":
		return Outcome{Say: []Reply{privacyInfo(env)}, Goto: StepMenu}
	case "language":
		s.Back = StepMenu
		return Outcome{Goto: StepLanguage}
	}
	// Only steps behind a menu entry can be entered from the menu: button
	// data comes from the client and must not open arbitrary steps.
	for _, m := range e.menu {
		if m.Action == in.Action {
			return Outcome{Goto: m.Step}
		}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: StepMenu}
}

// answer replies to a free-form question and offers the menu entry that
// helps with its topic.
func (e *Engine) answer(ctx context.Context, s *State, q string, env *Env) Outcome {
	q = strings.TrimSpace(q)
	if env.Answerer == nil || q == "" {
		return Outcome{Say: []Reply{Say("menu.use_buttons", nil)}, Goto: s.Step}
	}
	a, err := env.Answerer.Answer(ctx, s.Language(""), q)
	if err != nil || a.Topic == "" {
		o := Outcome{Say: []Reply{Say("answer.none", nil)}, Goto: s.Step}
		if err != nil {
			o.Note = "answerer failed: " + err.Error()
		}
		return o
	}
	r := Reply{ID: a.MessageID, Text: a.Text}
	var say []Reply
	if a.Text != "" {
		// A model wrote it: say so, and where to check.
		say = append(say, Say("faq.llm.disclaimer", nil))
	}
	if env.TopicAction != nil {
		switch feature := env.TopicAction(a.Topic); feature {
		case "":
		case "privacy":
			r.Buttons = [][]Button{Row(Btn("menu.btn.privacy", "privacy"))}
		default:
			for _, m := range e.menu {
				if m.Feature == feature {
					r.Buttons = [][]Button{Row(Btn(m.Label, m.Action))}
					break
				}
			}
		}
	}
	r.Buttons = append(r.Buttons, Row(Btn("btn.menu", "menu")))
	// Stay in the menu without showing it again: the answer's buttons lead
	// on, and a repeated menu after every answer would bury the answer.
	return Outcome{Say: append(say, r)}
}

func (e *Engine) showResume(s *State, _ *Env) []Reply {
	title := "step.menu"
	if st, ok := e.steps[s.Back]; ok && st.Title != "" {
		title = st.Title
	}
	return []Reply{{
		ID:   "resume.ask",
		Data: map[string]any{"Where": Msg{ID: title}},
		Buttons: [][]Button{
			Row(Btn("resume.continue", "continue")),
			Row(Btn("resume.restart", "restart")),
		},
	}}
}

func (e *Engine) handleResume(_ context.Context, s *State, in Input, _ *Env) Outcome {
	switch in.Action {
	case "continue":
		back := s.Back
		s.Back = ""
		if back == "" {
			back = StepMenu
		}
		return Outcome{Goto: back}
	case "restart":
		*s = e.restart(*s)
		return Outcome{Goto: StepMenu}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: StepResume}
}

// OnForgetAsk registers what a feature adds to the question "delete
// everything?": template data of the message forget.ask (that relatives'
// data goes too).
func (e *Engine) OnForgetAsk(add func(s *State, data map[string]any)) {
	e.forgetAsk = append(e.forgetAsk, add)
}

func (e *Engine) showForget(s *State, _ *Env) []Reply {
	data := map[string]any{}
	for _, add := range e.forgetAsk {
		add(s, data)
	}
	return []Reply{{
		ID:   "forget.ask",
		Data: data,
		Buttons: [][]Button{
			Row(Btn("forget.yes", "yes")),
			Row(Btn("forget.no", "no")),
		},
	}}
}

func handleForget(_ context.Context, s *State, in Input, _ *Env) Outcome {
	switch in.Action {
	case "yes":
		return Outcome{Say: []Reply{Say("forget.done", nil)}, Forget: true}
	case "no":
		back := s.Back
		s.Back = ""
		if back == "" || back == StepForget {
			back = StepMenu
		}
		return Outcome{Say: []Reply{Say("forget.kept", nil)}, Goto: back}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: StepForget}
}

// transcribe turns a voice message into text for a step that takes text, or
// returns the reply that explains why it could not.
func (e *Engine) transcribe(ctx context.Context, s State, in Input) (string, *Reply) {
	if e.env.Transcriber == nil || e.env.Files == nil || in.File == nil {
		r := Say("voice.unsupported", nil)
		return "", &r
	}
	audio, err := e.env.Files.Fetch(ctx, in.File.ID, 20<<20)
	if err == nil {
		var text string
		text, err = e.env.Transcriber.Transcribe(ctx, audio, "voice.ogg", s.Language(""))
		if err == nil && strings.TrimSpace(text) != "" {
			return text, nil
		}
	}
	r := Say("voice.failed", nil)
	return "", &r
}

// privacyInfo says what is kept and for how long, with the configured
// retention times.
func privacyInfo(env *Env) Reply {
	days := int(env.PhotoTTL.Hours() / 24)
	if days < 1 {
		days = 7
	}
	return Say("privacy.info", map[string]any{"Count": env.IdleDays, "Days": days})
}
