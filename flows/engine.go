package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Env holds the services and settings steps may use: the engine's own,
// then each feature's, declared beside the feature's steps and embedded
// here (steps reach them as env.Photos, env.Desk …). Nil services are
// features that are switched off; steps check before using them.
type Env struct {
	// Answerer answers free-form questions at any step; TopicAction maps
	// an answer's topic to a menu entry's feature name (such as
	// "payment"), or "" when no entry helps.
	Answerer    Answerer
	TopicAction func(topic string) string
	// Transcriber turns voice messages into text at any step; Files
	// fetches attachments.
	Transcriber Transcriber
	Files       Files
	// IdleDays is how long an idle state is kept, as told in /privacy.
	IdleDays int
	// ResumeAfter is the pause after which a person who left mid-flow is
	// asked whether to go on or start over.
	ResumeAfter time.Duration
	// Languages are the languages a person may choose.
	Languages []string
	// Location is the time zone dates are shown in (TIME_ZONE).
	Location *time.Location
	// IsStaff says who may use staff-only steps and commands, checked at
	// every input; StaffIDs are the staff members (STAFF_IDS).
	IsStaff  func(user int64) bool
	StaffIDs []int64

	CertServices
	FamilyServices
	StaffServices
}

// Files fetches attachments. Max bounds the size, so a large file costs
// nothing to refuse.
type Files interface {
	Fetch(ctx context.Context, fileID string, max int64) ([]byte, error)
}

// Step is one named point of a dialogue.
type Step struct {
	Name string
	// Title names the step for "you were at …" (a locale message ID).
	Title string
	// Expects lists the kinds Handle wants besides buttons; the engine
	// answers every other kind with a hint. Commands never reach a step.
	Expects []Kind
	// Actions lists the button actions the step takes ("reason:" takes
	// every action with that prefix). Without it, the actions of the
	// buttons Show renders for the current state are the ones taken.
	Actions []string
	// NoQuestions keeps typed text from being taken as a question here
	// (confirmations, where a stray answer would confuse).
	NoQuestions bool
	// StaffOnly steps act for staff (STAFF_IDS): the right is checked at
	// every input, when the action applies, not only when the step was
	// entered; someone removed from the staff meanwhile is turned away.
	StaffOnly bool
	// Hint is the message for an input of a kind the step does not take;
	// by default the engine derives one from Expects.
	Hint string
	// Load, if set, fetches what Show needs from outside the state (a
	// stored record) each time the step is shown. A failure goes into
	// State.LoadErr, which Show must turn into "try again shortly". What it
	// finds may ask for changes outside (a relative whose link is gone has
	// their certification dropped): those are returned, as a step's are.
	Load func(ctx context.Context, s *State, user int64, env *Env) []Effect
	// Show renders the prompt shown on entering the step, or again when the
	// person needs to see it.
	Show func(s *State, env *Env) []Reply
	// Handle takes one input of an expected kind (or a button press).
	Handle func(ctx context.Context, s *State, in Input, env *Env) Outcome
}

// Outcome is what a step decided.
type Outcome struct {
	// Say is shown first.
	Say []Reply
	// Goto enters that step and shows it; "" stays where the person is.
	Goto string
	// Forget asks the caller to delete everything stored about the person.
	Forget bool
	// DeleteInput asks the caller to delete the person's message from the
	// chat (a photo of an ID card or a face, once it is stored safely).
	DeleteInput bool
	// ClearEphemeral asks the caller to delete the ephemeral messages it
	// sent this person before.
	ClearEphemeral bool
	// Tell reaches other people: a decision for a person (delivered
	// through their inbox) or a message (new case for staff).
	Tell []Notice
	// Note is a line for the operator's log (never personal data).
	Note string
	// Effects are a feature's own changes outside (see Effect).
	Effects []Effect
}

// Notice is something for another person than the one writing: a
// decision for their inbox, or a message, after Clear deletes the
// ephemeral messages in their chat (a withdrawn case's photos and details
// in a staff member's chat).
type Notice struct {
	User     int64
	Decision *Decision
	Reply    *Reply
	Clear    bool
}

// Result is the outcome of handling one input.
type Result struct {
	State   State
	Replies []Reply
	Forget  bool
	// Sensitive says that the state holds personal data a person typed
	// or a card showed (an unfinished certification): it is kept only
	// as long as photos are.
	Sensitive      bool
	DeleteInput    bool
	ClearEphemeral bool
	Tell           []Notice
	Notes          []string
	Effects        []Effect
}

// Engine runs steps. It is safe for concurrent use: it holds no per-person
// data.
type Engine struct {
	env      Env
	cleanups []Cleanup                // on /cancel and /forget
	handlers map[string]EffectHandler // features' changes outside (OnEffect)
	// events handle inputs that are not the person's (a verifier's
	// decision), by kind; keepers carry a feature's lasting part of the
	// state over a restart.
	events  map[Kind]func(ctx context.Context, s *State, in Input, env *Env) Outcome
	keepers []func(old State, n *State)
	// showCopies and personal are the features' answers about their
	// parts of a state (OnShowCopy, OnPersonalData).
	showCopies []func(s *State)
	personal   []func(s *State) bool
	migrations map[int][]func(s *State) // by the version they start from
	forgetAsk  []func(s *State, data map[string]any)
	steps      map[string]*Step
	commands   map[string]string
	order      []string // commands in the order they were added
	// staffOnly commands are unknown to everyone but staff.
	staffOnly []string
	menu      []MenuEntry
	// deepLink is the step that takes a /start payload (OnDeepLink).
	deepLink  string
	observers []Observer
	global    map[string]string // button action prefix → step (AnyTurn presses)
}

// MenuEntry is a main-menu button. Only entries whose feature works are
// registered, so the menu never shows a dead button.
type MenuEntry struct {
	Feature string // what answers point to, e.g. "payment"
	Action  string // "go:<step>"
	Label   string
	Step    string
}

// floodWindow is how long the same hint is not repeated.
const floodWindow = 20 * time.Second

// A press on the message just replaced, within doubleTapWindow of the
// step being shown, is a double tap; after a press on an old button shows
// the step again, further old presses within staleWindow only get the
// short notice on the button (the bot answers the press with it).
const (
	doubleTapWindow = 10 * time.Second
	staleWindow     = 30 * time.Second
)

// The steps every engine has.
const (
	StepLanguage = "lang.choose"
	StepMenu     = "menu"
	StepForget   = "forget.confirm"
	StepResume   = "resume.ask"
)

// New builds an engine with the core steps and the given features.
func New(env Env, features ...Feature) (*Engine, error) {
	e := &Engine{env: env, steps: map[string]*Step{}, commands: map[string]string{}}
	if e.env.IdleDays <= 0 {
		e.env.IdleDays = 30
	}
	if e.env.ResumeAfter <= 0 {
		e.env.ResumeAfter = 6 * time.Hour
	}
	for _, f := range append([]Feature{coreFeature{}}, features...) {
		if err := f.Register(e); err != nil {
			return nil, fmt.Errorf("register feature: %w", err)
		}
	}
	for cmd, step := range e.commands {
		if _, ok := e.steps[step]; !ok {
			return nil, fmt.Errorf("command /%s leads to unknown step %q", cmd, step)
		}
	}
	for _, m := range e.menu {
		if _, ok := e.steps[m.Step]; !ok {
			return nil, fmt.Errorf("menu entry %q leads to unknown step %q", m.Label, m.Step)
		}
	}
	return e, nil
}

// Feature is a group of steps (a flow) that registers itself with an engine.
type Feature interface {
	Register(e *Engine) error
}

// AddStep registers a step; names must be unique.
func (e *Engine) AddStep(s *Step) error {
	if s.Name == "" || s.Show == nil || s.Handle == nil {
		return fmt.Errorf("step %q is incomplete", s.Name)
	}
	if _, dup := e.steps[s.Name]; dup {
		return fmt.Errorf("step %q registered twice", s.Name)
	}
	e.steps[s.Name] = s
	return nil
}

// Cleanup says what to undo when a person cancels or asks to be forgotten
// (photos stored outside the state), as changes for the dispatcher, and
// whom to tell (the staff a withdrawn case was shown to). On /forget the
// state's step is StepForget. What services keep about the person outside
// the state is erased after the commit, by the bot (an effect of Forget).
type Cleanup func(ctx context.Context, s *State, user int64, env *Env) ([]Notice, []Effect)

// OnCleanup registers a cleanup.
func (e *Engine) OnCleanup(f Cleanup) { e.cleanups = append(e.cleanups, f) }

// cleanup runs the registered cleanups.
func (r *run) cleanup() {
	for _, f := range r.e.cleanups {
		tell, fx := f(r.ctx, &r.s, r.user, &r.e.env)
		r.tell = append(r.tell, tell...)
		r.effects = append(r.effects, fx...)
	}
}

// OnDeepLink makes "/start <payload>" (a t.me deep link) enter step, with
// the payload in State.StartArg; a new person chooses a language first.
func (e *Engine) OnDeepLink(step string) { e.deepLink = step }

// AddCommand makes /name enter a step from anywhere.
func (e *Engine) AddCommand(name, step string) {
	if _, dup := e.commands[name]; !dup {
		e.order = append(e.order, name)
	}
	e.commands[name] = step
}

// AddMenu adds a main-menu entry for a feature that enters step.
func (e *Engine) AddMenu(feature, label, step string) {
	e.menu = append(e.menu, MenuEntry{Feature: feature, Action: "go:" + step, Label: label, Step: step})
}

// Commands lists the commands everyone may use, in the order features
// added them, for the bot's command menu.
func (e *Engine) Commands() []string {
	var out []string
	for _, c := range e.order {
		if !slices.Contains(e.staffOnly, c) {
			out = append(out, c)
		}
	}
	return out
}

// StaffCommands lists every command, staff ones included, for the command
// menu of staff members' chats, and the staff members (STAFF_IDS).
func (e *Engine) StaffCommands() (commands []string, staff []int64) {
	return slices.Clone(e.order), slices.Clone(e.env.StaffIDs)
}

// Step returns a registered step, for tests and tools.
func (e *Engine) Step(name string) (*Step, bool) {
	s, ok := e.steps[name]
	return s, ok
}

// Handle applies one input to a state. It never fails: whatever the input,
// the result is a consistent state and something to tell the person.
func (e *Engine) Handle(ctx context.Context, s State, in Input) Result {
	r := &run{ctx: ctx, e: e, s: s, user: in.User, now: in.Now, in: in}
	for _, o := range e.observers {
		r.watch = append(r.watch, o(&r.s))
	}
	if !e.Migrate(&r.s) {
		r.note(fmt.Sprintf("state version %d unknown; starting over", s.Version))
		r.s = State{Version: SchemaVersion, Lang: s.Lang}
		r.say(Say("error.state_reset", nil))
		r.enter(StepMenu)
		return r.result()
	}
	idle := !r.s.Seen.IsZero() && in.Now.Sub(r.s.Seen) > e.env.ResumeAfter
	if !in.Now.IsZero() {
		r.s.Seen = in.Now
	}
	if in.LangHint != "" {
		r.s.Hint = in.LangHint
	}
	if h, ok := e.events[in.Kind]; ok {
		// Not the person's input (a decision for them): the feature that
		// asked for it takes it, whatever step the person is at.
		r.apply(h(ctx, &r.s, in, &e.env))
		return r.result()
	}
	if r.s.Fresh() {
		e.greet(r, in)
		return r.result()
	}
	step, ok := e.steps[r.s.Step]
	if !ok {
		r.note(fmt.Sprintf("step %q no longer exists; back to the menu", r.s.Step))
		r.say(Say("error.step_gone", nil))
		r.enter(StepMenu)
		return r.result()
	}
	if in.File != nil && in.File.Group != "" && in.File.Group == r.s.Group {
		// Another photo of an album whose first photo was used.
		if !r.s.GroupNoted {
			r.s.GroupNoted = true
			r.say(Say("photo.group_extra", nil))
		}
		return r.result()
	}
	if step.StaffOnly && (e.env.IsStaff == nil || !e.env.IsStaff(in.User)) && in.Kind != KindCommand {
		r.note("staff action by someone who is not staff (any more); refused")
		r.s = e.restart(r.s)
		r.say(Say("staff.not_allowed", nil))
		r.enter(StepMenu)
		return r.result()
	}
	switch in.Kind {
	case KindCommand:
		e.command(ctx, r, in)
		return r.result()
	case KindEdited:
		r.say(Say("input.edited", nil))
		return r.result()
	case KindButton:
		if in.Turn == AnyTurn {
			e.anywhere(ctx, r, in)
			return r.result()
		}
		if in.Turn != r.s.Turn {
			e.stale(r, in)
			return r.result()
		}
		if e.commonAction(r, in) {
			return r.result()
		}
		if !e.offered(step, r.s, in.Action) {
			// Button data comes from the client: only what the step shows
			// may be pressed.
			r.note(fmt.Sprintf("button %q not offered at %s", in.Action, step.Name))
			r.say(Say("button.unknown", nil))
			r.show()
			return r.result()
		}
	default:
		takesText := slices.Contains(step.Expects, KindText)
		// Where a step waits for a button, a typed (or spoken) question is
		// still answered; the step's buttons stay valid under the answer.
		questions := !takesText && !step.NoQuestions && e.env.Answerer != nil
		if in.Kind == KindVoice && (takesText || questions) && !slices.Contains(step.Expects, KindVoice) {
			text, reply := e.transcribe(ctx, r.s, in)
			if reply != nil {
				r.say(*reply)
				return r.result()
			}
			in.Kind, in.Text = KindText, text
		}
		if idle && r.s.Step != StepMenu && r.s.Step != StepResume && r.s.Step != StepLanguage {
			r.s.Back = r.s.Step
			r.enter(StepResume)
			return r.result()
		}
		if in.Kind == KindText && questions {
			o := e.answer(ctx, &r.s, in.Text, &e.env)
			if len(o.Say) > 0 && o.Say[0].ID == "answer.none" {
				// Not a question we know: most likely an answer typed
				// where the step wants something else. Say what it needs.
				o.Say = []Reply{e.unexpected(step, in)}
			}
			r.apply(o)
			return r.result()
		}
		if !slices.Contains(step.Expects, in.Kind) {
			// A burst of the same wrong thing (a sticker flood) gets one
			// answer, not one each. Typed text is always answered: a
			// person who types again is trying to say something.
			key := step.Name + "/" + in.Kind.String()
			if r.s.Hinted == key && in.Now.Sub(r.s.HintedAt) < floodWindow && in.Kind != KindText {
				return r.result()
			}
			r.s.Hinted, r.s.HintedAt = key, in.Now
			r.say(e.unexpected(step, in))
			r.show()
			return r.result()
		}
		r.s.Hinted = ""
	}
	r.apply(step.Handle(ctx, &r.s, in, &e.env))
	return r.result()
}

// stale answers a press on a button of an earlier message. The bot has
// already answered the press with a short notice ("this button is out of
// date"); the step is shown again only when that helps: not for a double
// tap (the answer to the first tap is right below), and not again within
// staleWindow of the last time, since every showing makes the buttons
// above it stale in turn.
func (e *Engine) stale(r *run, in Input) {
	doubleTap := in.Turn == r.s.Turn-1 && !r.s.ShownAt.IsZero() && in.Now.Sub(r.s.ShownAt) < doubleTapWindow
	recent := !r.s.StaleAt.IsZero() && in.Now.Sub(r.s.StaleAt) < staleWindow
	if doubleTap || recent {
		return
	}
	r.s.StaleAt = in.Now
	r.say(Say("button.stale", nil))
	r.show()
}

// restart is a state back at the menu with nothing half-done, keeping the
// language and what features keep over a restart (OnRestart): cases
// already submitted, whose decisions must still reach the person.
func (e *Engine) restart(s State) State {
	n := State{Version: SchemaVersion, Lang: s.Lang, Hint: s.Hint, Seen: s.Seen, Turn: s.Turn, Keyboard: s.Keyboard}
	for _, keep := range e.keepers {
		keep(s, &n)
	}
	return n
}

// OnEvent makes a feature take inputs of kind k that are not the person's
// (a verifier's decision), whatever step the person is at.
func (e *Engine) OnEvent(k Kind, h func(ctx context.Context, s *State, in Input, env *Env) Outcome) {
	if e.events == nil {
		e.events = map[Kind]func(ctx context.Context, s *State, in Input, env *Env) Outcome{}
	}
	e.events[k] = h
}

// Migrate brings a stored state to SchemaVersion, one version at a time,
// with what features change at each (OnMigrate). It reports false when the
// state cannot be understood (it was written by a newer version), in which
// case the caller starts the person over with an apology.
func (e *Engine) Migrate(s *State) bool {
	if s.Version == 0 && s.Step == "" && s.Lang == "" {
		// A zero state is a new person.
		s.Version = SchemaVersion
		return true
	}
	if s.Version < 1 || s.Version > SchemaVersion {
		return false
	}
	for ; s.Version < SchemaVersion; s.Version++ {
		for _, up := range e.migrations[s.Version] {
			up(s)
		}
	}
	return true
}

// OnMigrate registers what a feature changes in its part of a state of
// version from to bring it to the next version.
func (e *Engine) OnMigrate(from int, up func(s *State)) {
	if e.migrations == nil {
		e.migrations = map[int][]func(s *State){}
	}
	e.migrations[from] = append(e.migrations[from], up)
}

// OnShowCopy registers how a feature copies its part of a state for a
// Show that fills in the part in place: asked which buttons a step offers,
// the engine runs its Show on a copy, which must leave the real state as
// it is.
func (e *Engine) OnShowCopy(cp func(s *State)) { e.showCopies = append(e.showCopies, cp) }

// OnPersonalData registers how a feature tells that a state holds personal
// data it keeps only briefly (Result.Sensitive).
func (e *Engine) OnPersonalData(holds func(s *State) bool) { e.personal = append(e.personal, holds) }

// OnRestart registers what a feature keeps of a state over /cancel and
// "start over": keep copies it from old into n.
func (e *Engine) OnRestart(keep func(old State, n *State)) {
	e.keepers = append(e.keepers, keep)
}

// allowed reports whether user may run the command (staff-only ones).
func (e *Engine) allowed(cmd string, user int64) bool {
	return !slices.Contains(e.staffOnly, cmd) || e.env.IsStaff != nil && e.env.IsStaff(user)
}

// commonAction handles the buttons that work at every step: back to the
// menu, a menu entry (answers to questions offer them), the privacy notice.
func (e *Engine) commonAction(r *run, in Input) bool {
	switch {
	case in.Action == "menu":
		r.enter(StepMenu)
		return true
	case in.Action == "privacy" && r.s.Step != StepMenu:
		r.say(privacyInfo(&e.env))
		r.show()
		return true
	}
	for _, m := range e.menu {
		if m.Action == in.Action {
			r.enter(m.Step)
			return true
		}
	}
	return false
}

// offered reports whether the step shows a button with this action now.
func (e *Engine) offered(step *Step, s State, action string) bool {
	if step.Actions != nil {
		return slices.Contains(step.Actions, action) || slices.ContainsFunc(step.Actions, func(a string) bool {
			return strings.HasSuffix(a, ":") && strings.HasPrefix(action, a)
		})
	}
	for _, cp := range e.showCopies { // Show may fill in defaults; keep the real state as it is
		cp(&s)
	}
	for _, r := range step.Show(&s, &e.env) {
		for _, row := range r.Buttons {
			for _, b := range row {
				if b.Action == action {
					return true
				}
			}
		}
	}
	return false
}

// greet meets a new person (or one whose state expired: for them a fresh
// start is friendlier than an error).
func (e *Engine) greet(r *run, in Input) {
	r.s = State{Version: SchemaVersion, Seen: r.s.Seen, Hint: r.s.Hint}
	if in.Kind != KindCommand || in.Command != "start" {
		r.say(Say("welcome.hello", nil))
	}
	r.s.Back = StepMenu
	if in.Kind == KindCommand && in.Command == "start" && in.Args != "" && e.deepLink != "" {
		r.s.StartArg, r.s.Back = in.Args, e.deepLink
	}
	if in.Kind == KindButton && in.Turn == AnyTurn {
		// "Certify now" under a reminder, a year after the state expired:
		// the language first, then straight there.
		for _, m := range e.menu {
			if m.Action == in.Action {
				r.s.Back = m.Step
			}
		}
	}
	r.enter(StepLanguage)
	if in.Kind == KindCommand && in.Command != "start" {
		// Remember a command such as /law to run it once the language is set.
		if target, ok := e.commands[in.Command]; ok && e.allowed(in.Command, in.User) {
			r.s.Back = target
		}
	}
}

func (e *Engine) command(ctx context.Context, r *run, in Input) {
	switch in.Command {
	case "start":
		if in.Args != "" && e.deepLink != "" {
			r.s.StartArg = in.Args
			r.enter(e.deepLink)
			return
		}
		if r.s.Step != StepMenu && r.s.Step != StepLanguage && r.s.Step != StepResume && r.s.Step != StepForget {
			r.s.Back = r.s.Step
			r.enter(StepResume)
			return
		}
		r.say(Say("welcome", nil))
		r.enter(StepMenu)
	case "menu":
		r.enter(StepMenu)
	case "cancel":
		// Nothing half-done is kept: the flow's data goes with the step.
		r.cleanup()
		r.s = e.restart(r.s)
		r.say(Say("cancel.done", nil))
		r.enter(StepMenu)
	case "help":
		r.say(Say("help", nil))
		r.show()
	case "language":
		if r.s.Step != StepLanguage {
			r.s.Back = r.s.Step
		}
		r.enter(StepLanguage)
	case "privacy":
		r.say(privacyInfo(&e.env))
		r.show()
	case "forget":
		if r.s.Step != StepForget {
			r.s.Back = r.s.Step
		}
		r.enter(StepForget)
	default:
		if target, ok := e.commands[in.Command]; ok && e.allowed(in.Command, in.User) {
			r.enter(target)
			return
		}
		r.say(Say("command.unknown", map[string]any{"Command": "/" + in.Command}))
		r.show()
	}
}

// unexpected explains, for a kind the step does not take, what it needs.
func (e *Engine) unexpected(step *Step, in Input) Reply {
	if step.Hint != "" {
		return Say(step.Hint, map[string]any{"Kind": Msg{ID: "kind." + in.Kind.String()}})
	}
	want := "buttons"
	switch {
	case slices.Contains(step.Expects, KindPhoto):
		want = "photo"
	case slices.Contains(step.Expects, KindContact):
		want = "contact"
	case slices.Contains(step.Expects, KindText):
		want = "text"
	}
	return Say("input.want."+want, map[string]any{"Kind": Msg{ID: "kind." + in.Kind.String()}})
}

// run collects the effects of handling one input.
type run struct {
	ctx         context.Context
	e           *Engine
	s           State
	user        int64
	now         time.Time
	replies     []Reply
	forget      bool
	deleteInput bool
	clearEph    bool
	tell        []Notice
	notes       []string
	effects     []Effect
	in          Input
	watch       []func(in Input, after *State, forget bool) []Effect // observers, with the state as loaded
}

func (r *run) say(rs ...Reply) { r.replies = append(r.replies, rs...) }
func (r *run) note(n string)   { r.notes = append(r.notes, n) }

// enter moves to a step and shows it.
func (r *run) enter(name string) {
	if _, ok := r.e.steps[name]; !ok {
		r.note(fmt.Sprintf("goto unknown step %q; back to the menu", name))
		name = StepMenu
	}
	if name == StepMenu {
		r.s.Page = 0
	}
	r.s.Step = name
	r.show()
}

// show renders the current step with a new turn, which makes the buttons of
// earlier messages stale. What the step shows from outside the state is
// loaded at every showing, also when it is shown again after a stray
// message or an old button: it is never stored (a staff member's case
// holds another person's data), and without it the step would show
// "nothing there".
func (r *run) show() {
	st := r.e.steps[r.s.Step]
	r.s.LoadErr = nil
	if st.Load != nil {
		r.effects = append(r.effects, st.Load(r.ctx, &r.s, r.user, &r.e.env)...)
		if r.s.LoadErr != nil {
			r.note(fmt.Sprintf("load %s: %v", st.Name, r.s.LoadErr))
		}
	}
	r.s.Turn++
	r.s.ShownAt = r.now
	r.say(st.Show(&r.s, &r.e.env)...)
}

// unavailable is what a step shows when its Load failed: a technical
// problem, try again shortly (retry is the step's action for that).
func unavailable(retry string) Reply {
	return Reply{ID: "error.unavailable", Buttons: [][]Button{
		Row(Btn("btn.try_again", retry)),
		Row(Btn("btn.menu", "menu")),
	}}
}

func (r *run) apply(o Outcome) {
	r.say(o.Say...)
	if o.Note != "" {
		r.note(o.Note)
	}
	if o.DeleteInput {
		r.deleteInput = true
	}
	r.tell = append(r.tell, o.Tell...)
	r.effects = append(r.effects, o.Effects...)
	if o.ClearEphemeral {
		r.clearEph = true
	}
	if o.Forget {
		// Everything goes, the language too: the next message meets a
		// stranger. The replies were already rendered in the old language.
		r.cleanup()
		r.forget = true
		r.s = State{Version: SchemaVersion}
		return
	}
	if o.Goto != "" {
		r.enter(o.Goto)
	}
}

func (r *run) result() Result {
	// A share-contact keyboard stays on the person's screen until a
	// message takes it away: do so with the first reply after it that has
	// no inline buttons (a message carries only one keyboard).
	for i := range r.replies {
		switch {
		case r.replies[i].AskContact != "":
			r.s.Keyboard = true
		case r.s.Keyboard && len(r.replies[i].Buttons) == 0:
			r.replies[i].RemoveKeyboard = true
			r.s.Keyboard = false
		}
	}
	for _, w := range r.watch {
		r.effects = append(r.effects, w(r.in, &r.s, r.forget)...)
	}
	sensitive := false
	for _, holds := range r.e.personal {
		sensitive = sensitive || holds(&r.s)
	}
	return Result{State: r.s, Sensitive: sensitive, Replies: r.replies, Forget: r.forget, DeleteInput: r.deleteInput, ClearEphemeral: r.clearEph, Tell: r.tell, Notes: r.notes, Effects: r.effects}
}
