// Package domain holds the things the bot's parts talk about, as plain
// data without logic: a certification case (Submission), a verifier's
// Decision, the Record of a certification, a Link between accounts, and
// the names of channels, outcomes and rejection reasons. The dialogue
// (flows), the stores, the verifiers and the bot share them through this
// package rather than through the dialogue package.
package domain

import "time"

// Channels of certification.
const (
	ChannelGreen   = "green"   // priority handling for very old or disabled people
	ChannelGeneral = "general" // adds a liveness photo a reviewer can judge
)

// Outcomes of a verification.
const (
	OutcomePending  = "pending"  // the decision comes later, as an event
	OutcomeApproved = "approved" // certified
	OutcomeRejected = "rejected" // not certified; Reason says why
)

// Rejection reasons a verifier may give. Each has a locale message
// "cert.reason.<reason>" with concrete advice.
const (
	ReasonPhotoUnclear = "photo_unclear"
	ReasonFaceMismatch = "face_mismatch"
	ReasonInfoWrong    = "info_wrong"
	ReasonLiveness     = "liveness"
	ReasonNotInScope   = "not_in_scope"
	ReasonNotPensioner = "not_pensioner" // the face photo must show the pensioner
	ReasonOther        = "other"
)

// Reasons lists the rejection reasons, in the order staff see them.
var Reasons = []string{ReasonPhotoUnclear, ReasonFaceMismatch, ReasonNotPensioner, ReasonInfoWrong, ReasonLiveness, ReasonNotInScope, ReasonOther}

// Submission is a certification case handed to a verifier. It holds
// personal data: verifiers keep it encrypted and only as long as needed.
type Submission struct {
	CaseID       string
	User         int64 // the Telegram user to tell the result
	Name         string
	Number       string // full ID number; show it masked
	Age          int
	Sex          string
	Phone        string
	District     string
	Channel      string
	Card         []byte // JPEG/PNG/WebP of the ID card's front
	Face         []byte
	Liveness     []byte // general channel: a photo holding up LivenessCode
	LivenessCode string
	Submitted    time.Time
	// Helper is set when a family member sent the case for the pensioner:
	// the pensioner's relationship to them (one of flows.Relations), which staff
	// see from the helper's side ("sent by a family member: child").
	Helper string
	// ContactPerson is set when Phone is the helper's, not the pensioner's.
	ContactPerson bool
	// CardForwarded is set when the card photo was forwarded from another
	// chat rather than taken.
	CardForwarded bool
}

// Decision is a verifier's answer.
type Decision struct {
	CaseID  string
	Outcome string
	Reason  string // for rejections
	// By names who decided ("staff", "agency", "vision"), for the record.
	By        string
	DecidedAt time.Time
}

// Record is the result of a certification, kept after everything else is
// deleted: dates, channel, who decided, and the masked ID number.
type Record struct {
	CertifiedOn  time.Time `json:"on"`
	ValidUntil   time.Time `json:"until"`
	Channel      string    `json:"channel"`
	By           string    `json:"by"`
	MaskedNumber string    `json:"number"`
}

// Link is an account linked to another by a deep link: a helper of a
// pensioner who has Telegram, or the pensioner a helper helps.
type Link struct {
	User     int64
	Relation string // the pensioner's relationship to the helper, once told
	Since    time.Time
	// Pending is when the helper sent a certification for the pensioner
	// that is not decided yet (zero: none), so the pensioner's /status
	// says it is under review.
	Pending time.Time
}
