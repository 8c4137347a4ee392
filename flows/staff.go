package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"pensionbot/idcard"
)

// Staff is the reviewers' side: staff members (STAFF_IDS) take cases one
// at a time with /review, see the photos and details, and approve or
// reject with a reason. The decision reaches the person through their own
// inbox, so it is applied in order with whatever they are doing.
type Staff struct{}

// StaffServices are what the review steps use besides the state.
type StaffServices struct {
	// Desk is the staff review queue.
	Desk ReviewDesk
}

// StaffPart is the review's part of a staff member's state.
type StaffPart struct {
	// ReviewID is the case a staff member holds; Review its contents while
	// a step shows it (never stored: it holds another person's data).
	ReviewID string      `json:"review,omitempty"`
	Review   *ReviewCase `json:"-"`
}

// ReviewCase is a case a staff member holds.
type ReviewCase struct {
	Submission
	// Waiting is how many cases are still in the queue.
	Waiting int
	// Photos are the kinds of photo the case has (PhotoCard, PhotoFace,
	// PhotoLiveness); the pictures are fetched when sent (PhotoOf).
	Photos []string
}

// ReviewDesk is the review queue as staff use it.
type ReviewDesk interface {
	Claim(ctx context.Context, staff int64) (*ReviewCase, error)
	Decide(ctx context.Context, caseID string, staff int64, outcome, reason string) (Decision, int64, error)
	Release(ctx context.Context, caseID string, staff int64) error
	// Viewers lists the staff members an undecided case was shown to.
	Viewers(ctx context.Context, caseID string) ([]int64, error)
}

// PhotoRef names one photo of a case in the review queue: "card", "face"
// or "liveness".
type PhotoRef struct {
	Case string `json:"case"`
	Kind string `json:"kind"`
}

// Step names of the staff side.
const (
	StepStaffCase   = "staff.case"
	StepStaffReason = "staff.reason"
)

// Register adds the staff steps and the /review command.
func (Staff) Register(e *Engine) error {
	for _, s := range []*Step{
		{Name: StepStaffCase, Title: "step.staff", NoQuestions: true, StaffOnly: true, Actions: []string{"approve", "reject", "skip", "retry"}, Load: loadCase, Show: showCase, Handle: handleCase},
		{Name: StepStaffReason, Title: "step.staff", NoQuestions: true, StaffOnly: true, Actions: []string{"reason:", "back"}, Show: showReason, Handle: handleReason},
	} {
		if err := e.AddStep(s); err != nil {
			return err
		}
	}
	e.AddCommand("review", StepStaffCase)
	e.staffOnly = append(e.staffOnly, "review")
	return nil
}

// loadCase claims the staff member's case (the same one again if they hold
// one) and keeps it for Show. It runs at every showing, so a staff member
// who types or presses an old button sees the case they hold again.
func loadCase(ctx context.Context, s *State, user int64, env *Env) []Effect {
	s.Review = nil
	if env.Desk == nil {
		return nil
	}
	c, err := env.Desk.Claim(ctx, user)
	switch {
	case c != nil:
		// Even when some of its fields could not be opened (err): the
		// staff member holds it and can still reject it.
		s.Review, s.ReviewID = c, c.CaseID
	case err != nil:
		// Not "no cases": the queue could not be read. A case they hold
		// stays theirs.
		s.LoadErr = fmt.Errorf("claim a case: %w", err)
	default:
		s.ReviewID = ""
	}
	return nil
}

func showCase(s *State, env *Env) []Reply {
	if s.LoadErr != nil {
		return []Reply{unavailable("retry")}
	}
	c := s.Review
	if c == nil {
		s.ReviewID = ""
		return []Reply{{ID: "staff.empty", Buttons: [][]Button{Row(Btn("btn.menu", "menu"))}}}
	}
	channel := "cert.channel.name.general"
	if c.Channel == ChannelGreen {
		channel = "cert.channel.name.green"
	}
	var out []Reply
	for _, kind := range []string{PhotoCard, PhotoFace, PhotoLiveness} {
		if slices.Contains(c.Photos, kind) {
			out = append(out, Reply{ID: "staff.photo." + kind, PhotoOf: &PhotoRef{Case: c.CaseID, Kind: kind}, Data: map[string]any{"Code": c.LivenessCode}, Ephemeral: true, Protect: true})
		}
	}
	var district any = c.District
	if c.District == DistrictOnCard {
		district = Msg{ID: "cert.district.on_card"}
	}
	// The number and phone are masked: the card photo above shows the
	// number to whoever compares it, and the text cannot be forwarded.
	data := map[string]any{
		"Name": c.Name, "Number": idcard.Mask(c.Number), "Age": c.Age, "Phone": maskPhone(c.Phone), "District": district,
		"Channel": Msg{ID: channel}, "Date": env.Date(c.Submitted), "Count": c.Waiting,
	}
	// Who sent it (a family member) and what to look at twice.
	if c.Helper != "" {
		data["Helper"] = Msg{ID: "family.helper." + c.Helper}
	}
	if c.ContactPerson {
		data["Contact"] = true
	}
	if c.CardForwarded {
		data["Forwarded"] = true
	}
	return append(out, Reply{ID: "staff.case", Data: data, Ephemeral: true, Protect: true, Buttons: [][]Button{
		Row(Btn("staff.btn.approve", "approve")),
		Row(Btn("staff.btn.reject", "reject")),
		Row(Btn("staff.btn.skip", "skip")),
	}})
}

func handleCase(ctx context.Context, s *State, in Input, env *Env) Outcome {
	switch in.Action {
	case "approve":
		return decide(ctx, s, in.User, OutcomeApproved, "", env)
	case "reject":
		if s.ReviewID == "" {
			return Outcome{Goto: StepStaffCase}
		}
		return Outcome{Goto: StepStaffReason}
	case "retry":
		return Outcome{Goto: StepStaffCase}
	case "skip":
		o := Outcome{Say: []Reply{Say("staff.skipped", nil)}, ClearEphemeral: true, Goto: StepMenu}
		if s.ReviewID != "" {
			if err := env.Desk.Release(ctx, s.ReviewID, in.User); err != nil {
				// The case stays with this staff member until the claim
				// lapses, and then goes back to the queue by itself:
				// nothing for them to do, but the operator should know.
				o.Note = "put a case back: " + err.Error()
			}
		}
		s.ReviewID = ""
		return o
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func showReason(*State, *Env) []Reply {
	var rows [][]Button
	for _, r := range Reasons {
		rows = append(rows, Row(Btn("staff.reason."+r, "reason:"+r)))
	}
	rows = append(rows, Row(Btn("btn.back", "back")))
	return []Reply{{ID: "staff.reason.ask", Buttons: rows}}
}

func handleReason(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if in.Action == "back" {
		return Outcome{Goto: StepStaffCase}
	}
	if r, ok := strings.CutPrefix(in.Action, "reason:"); ok && slices.Contains(Reasons, r) {
		return decide(ctx, s, in.User, OutcomeRejected, r, env)
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

// decide records the staff member's decision and sends it to the person;
// then the next case comes.
func decide(ctx context.Context, s *State, staff int64, outcome, reason string, env *Env) Outcome {
	if s.ReviewID == "" {
		return Outcome{Goto: StepStaffCase}
	}
	d, user, err := env.Desk.Decide(ctx, s.ReviewID, staff, outcome, reason)
	s.ReviewID = ""
	if err != nil {
		// Taken over after the claim expired, or decided already.
		return Outcome{Say: []Reply{Say("staff.decide_failed", nil)}, Goto: StepStaffCase, Note: "staff decision refused: " + err.Error()}
	}
	return Outcome{
		Say:  []Reply{Say("staff.decided."+outcome, nil)},
		Tell: []Notice{{User: user, Decision: &d}},
		// The case's photos and details leave the staff member's chat.
		ClearEphemeral: true,
		Goto:           StepStaffCase,
	}
}
