package flows

import (
	"context"
	"fmt"
	"strings"
)

// Guide is the feature that explains procedures done in person: paying
// premiums, applying for the social-security card, and the law behind
// them. Walk-throughs show one step per message with Next and Back, and
// end with a checklist the person can keep.
type Guide struct{}

// Step names of the guide. They are stored with the state.
const (
	StepPayment  = "guide.payment"
	StepCard     = "guide.card"
	StepLaw      = "guide.law"
	StepLawCases = "guide.law.cases"
)

// walk is a walk-through: an intro, numbered steps, a checklist.
type walk struct {
	name  string // message prefix: <name>.intro, <name>.1 …, <name>.checklist
	steps int
	title string
}

var (
	paymentWalk = walk{name: StepPayment, steps: 5, title: "step.guide.payment"}
	cardWalk    = walk{name: StepCard, steps: 3, title: "step.guide.card"}
)

// lawCases are the situations Article 12 distinguishes, as buttons.
var lawCases = []string{"employee", "employer", "selfemployed", "parttime", "flexible"}

// Register adds the guide's steps, menu entries and commands.
func (Guide) Register(e *Engine) error {
	for _, w := range []walk{paymentWalk, cardWalk} {
		if err := e.AddStep(w.step()); err != nil {
			return err
		}
	}
	if err := e.AddStep(&Step{Name: StepLaw, Title: "step.guide.law", Show: showLaw, Handle: handleLaw}); err != nil {
		return err
	}
	if err := e.AddStep(&Step{Name: StepLawCases, Title: "step.guide.law", Show: showLawCases, Handle: handleLawCases}); err != nil {
		return err
	}
	e.AddMenu("payment", "menu.btn.payment", StepPayment)
	e.AddMenu("card", "menu.btn.card", StepCard)
	e.AddMenu("law", "menu.btn.law", StepLaw)
	e.AddCommand("payment", StepPayment)
	e.AddCommand("card", StepCard)
	e.AddCommand("law", StepLaw)
	return nil
}

func (w walk) step() *Step {
	return &Step{
		Name:  w.name,
		Title: w.title,
		Show:  w.show,
		Handle: func(_ context.Context, s *State, in Input, _ *Env) Outcome {
			switch in.Action {
			case "next":
				s.Page = min(s.Page+1, w.steps)
			case "back":
				s.Page = max(s.Page-1, 0)
			case "checklist":
				s.Page = w.steps
			default:
				return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: w.name}
			}
			return Outcome{Goto: w.name}
		},
	}
}

// show renders the current page: page 0 is the intro with step 1, pages
// 1…steps-1 the following steps, page steps the checklist.
func (w walk) show(s *State, _ *Env) []Reply {
	if s.Page < 0 || s.Page > w.steps {
		s.Page = 0
	}
	if s.Page == w.steps {
		return []Reply{{ID: w.name + ".checklist", Buttons: [][]Button{
			Row(Btn("btn.back", "back")),
			Row(Btn("btn.menu", "menu")),
		}}}
	}
	n := s.Page + 1
	step := Reply{
		ID:   fmt.Sprintf("%s.%d", w.name, n),
		Data: map[string]any{"Step": n, "Total": w.steps},
	}
	nav := []Button{Btn("btn.next", "next")}
	if s.Page > 0 {
		nav = []Button{Btn("btn.back", "back"), Btn("btn.next", "next")}
	}
	step.Buttons = [][]Button{nav, Row(Btn("guide.btn.checklist", "checklist")), Row(Btn("btn.menu", "menu"))}
	if s.Page == 0 {
		return []Reply{Say(w.name+".intro", nil), step}
	}
	return []Reply{step}
}

// lawButtons are the choices under every law message.
func lawButtons(except string) [][]Button {
	var rows [][]Button
	for _, a := range []string{"original", "cases", "art10", "art16", "art58"} {
		if a != except {
			rows = append(rows, Row(Btn("guide.btn."+a, a)))
		}
	}
	return append(rows, Row(Btn("btn.menu", "menu")))
}

func showLaw(*State, *Env) []Reply {
	return []Reply{{ID: "guide.law.intro", Buttons: lawButtons("")}}
}

func handleLaw(_ context.Context, s *State, in Input, _ *Env) Outcome {
	switch in.Action {
	case "cases":
		return Outcome{Goto: StepLawCases}
	case "original", "art10", "art16", "art58":
		return Outcome{Say: []Reply{{ID: "guide.law." + in.Action, Buttons: lawButtons(in.Action)}}}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: StepLaw}
}

func showLawCases(*State, *Env) []Reply {
	var rows [][]Button
	for _, c := range lawCases {
		rows = append(rows, Row(Btn("guide.btn.case."+c, "case:"+c)))
	}
	rows = append(rows, Row(Btn("btn.back", "back"), Btn("btn.menu", "menu")))
	return []Reply{{ID: "guide.law.case.ask", Buttons: rows}}
}

func handleLawCases(_ context.Context, s *State, in Input, _ *Env) Outcome {
	if in.Action == "back" {
		return Outcome{Goto: StepLaw}
	}
	c, ok := strings.CutPrefix(in.Action, "case:")
	if ok {
		for _, known := range lawCases {
			if c == known {
				// The answer keeps the case buttons under it, so another
				// case is one press away.
				rows := showLawCases(s, nil)[0].Buttons
				return Outcome{Say: []Reply{{ID: "guide.law.case." + c, Buttons: rows}}}
			}
		}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: StepLawCases}
}
