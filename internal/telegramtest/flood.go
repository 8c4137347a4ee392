package telegramtest

import (
	"fmt"
	"math"
	"net/http"
	"time"
)

// Flood control as Telegram applies it to sending: about 30 messages a
// second across all chats (up to 1,000 with allow_paid_broadcast, paid in
// Stars) and about one a second in one chat, short bursts allowed. A send
// beyond it is refused with 429 and a retry_after. It is off unless a
// test turns it on (FloodControl): load tests drive the fake far beyond
// what Telegram would take from one bot, on purpose.

// paidRate is what allow_paid_broadcast allows across chats.
const paidRate = 1000

// bucket is a token bucket: rate tokens a second, at most burst.
type bucket struct {
	tokens, rate, burst float64
	last                time.Time
}

// take takes one token, or says how long until one is there.
func (b *bucket) take(now time.Time) (time.Duration, bool) {
	if !b.last.IsZero() {
		b.tokens = math.Min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	} else {
		b.tokens = b.burst
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second)), false
}

type flood struct {
	global, paid *bucket
	perChat      float64
	burst        float64
	chats        map[string]*bucket
	refused      []string // the chats of the sends refused
}

// FloodControl turns flood control on: global messages a second across
// chats, perChat a second in one chat with bursts of up to burst.
func (s *Server) FloodControl(global, perChat float64, burst int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flood = &flood{
		global:  &bucket{rate: global, burst: global},
		paid:    &bucket{rate: paidRate, burst: paidRate},
		perChat: perChat, burst: float64(burst),
		chats: map[string]*bucket{},
	}
}

// Floods lists the chats of the sends flood control refused, in order.
func (s *Server) Floods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flood == nil {
		return nil
	}
	return append([]string(nil), s.flood.refused...)
}

// floodLocked applies flood control to a call; nil lets it through.
func (s *Server) floodLocked(method string, params map[string]string, now time.Time) *apiError {
	f := s.flood
	if f == nil {
		return nil
	}
	switch method {
	case "sendMessage", "sendPhoto":
	default:
		return nil
	}
	chat := params["chat_id"]
	cb := f.chats[chat]
	if cb == nil {
		cb = &bucket{rate: f.perChat, burst: f.burst}
		f.chats[chat] = cb
	}
	across := f.global
	if params["allow_paid_broadcast"] == "true" {
		across = f.paid
	}
	wait, ok := cb.take(now)
	if ok {
		if wait, ok = across.take(now); !ok {
			cb.tokens++ // not sent: the chat keeps its token
		}
	}
	if ok {
		return nil
	}
	f.refused = append(f.refused, chat)
	secs := int(math.Ceil(wait.Seconds()))
	return &apiError{Code: http.StatusTooManyRequests, Description: fmt.Sprintf("Too Many Requests: retry after %d", secs), RetryAfter: secs}
}
