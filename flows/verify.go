package flows

import (
	"context"

	"pensionbot/domain"
)

// The domain types and names, as flows has always called them (they live
// in package domain, which the other packages use).
type (
	Submission = domain.Submission
	Decision   = domain.Decision
	Record     = domain.Record
	Link       = domain.Link
)

// Channels, outcomes and rejection reasons (see package domain).
const (
	ChannelGreen       = domain.ChannelGreen
	ChannelGeneral     = domain.ChannelGeneral
	OutcomePending     = domain.OutcomePending
	OutcomeApproved    = domain.OutcomeApproved
	OutcomeRejected    = domain.OutcomeRejected
	ReasonPhotoUnclear = domain.ReasonPhotoUnclear
	ReasonFaceMismatch = domain.ReasonFaceMismatch
	ReasonInfoWrong    = domain.ReasonInfoWrong
	ReasonLiveness     = domain.ReasonLiveness
	ReasonNotInScope   = domain.ReasonNotInScope
	ReasonNotPensioner = domain.ReasonNotPensioner
	ReasonOther        = domain.ReasonOther
)

// Reasons lists the rejection reasons, in the order staff see them.
var Reasons = domain.Reasons

// Verifier decides certifications, now or later. A pending decision is
// delivered later as an input of KindDecision through the person's inbox.
type Verifier interface {
	Submit(ctx context.Context, s Submission) (Decision, error)
}
