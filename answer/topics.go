// Package answer answers free-form questions about the pension certification
// and the procedures around it, in the person's language.
//
// Two implementations of flows.Answerer live here:
//
//   - FAQ matches the question against the bot's own FAQ knowledge (the faq.*
//     messages in package locales). It is offline, deterministic and fast, and
//     it is always available.
//   - LLM asks an OpenAI-compatible chat model, grounded only in the bot's own
//     texts (faq.* and guide.*), and falls back to another Answerer (normally
//     the FAQ) on timeout, HTTP error or an answer that does not validate.
package answer

// Topics lists the FAQ topic ids, in the order they are shown and tried.
// For each topic T the locale files hold faq.T.q (the question), faq.T.a (the
// answer) and faq.T.kw (matcher keywords).
var Topics = []string{
	"certification", // what the certification is, why every year
	"howto",         // how to certify: this bot or the official apps
	"late",          // certified late, pension stopped, back pay
	"face",          // face recognition fails
	"family",        // certifying for a relative
	"priority",      // green channel for very old or disabled people
	"homevisit",     // home visit for bed-ridden people
	"payment",       // paying social-insurance premiums in person
	"card",          // social-security card
	"law",           // Social Insurance Law: who pays what
	"minyears",      // minimum contribution years
	"privacy",       // what the bot keeps, /forget
	"scam",          // what the bot never asks for
	"status",        // checking the certification status
}

// Menu entries that MenuAction returns.
const (
	MenuCertify = "certify"
	MenuStatus  = "status"
	MenuPayment = "payment"
	MenuCard    = "card"
	MenuLaw     = "law"
	MenuPrivacy = "privacy"
	MenuFamily  = "family"
)

var menuActions = map[string]string{
	"certification": MenuCertify,
	"howto":         MenuCertify,
	"late":          MenuCertify, // certifying now restarts the payments
	"face":          MenuCertify,
	"family":        MenuFamily, // family help: add a relative, certify for them
	"priority":      MenuCertify,
	"homevisit":     "", // arranged by phone (12333) or at the local agency
	"payment":       MenuPayment,
	"card":          MenuCard,
	"law":           MenuLaw,
	"minyears":      MenuLaw, // Article 16 sits in the law guide
	"privacy":       MenuPrivacy,
	"scam":          MenuPrivacy, // the privacy page says what the bot never asks for
	"status":        MenuStatus,
}

// MenuAction maps a topic to the menu entry that helps with it: one of
// "certify", "status", "family", "payment", "card", "law", "privacy", or "" when no
// menu entry helps (and for unknown topics).
func MenuAction(topic string) string { return menuActions[topic] }

// IsTopic reports whether topic is one of Topics.
func IsTopic(topic string) bool {
	_, ok := menuActions[topic]
	return ok
}
