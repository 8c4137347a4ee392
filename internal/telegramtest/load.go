package telegramtest

// Hooks for load generators (see cmd/pensionbot's BenchmarkSideBySide):
// they time replies and count connections without polling the fake.

// OnSend calls f with the chat of every message the bot sends (sendMessage
// and sendPhoto), while the fake's lock is held: f must be quick and must
// not call the fake. Load generators use it to time replies without
// polling.
func (s *Server) OnSend(f func(chat int64)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onSend = f
}

// sentLocked records that the bot sent a message to chat.
func (s *Server) sentLocked(chat int64) {
	s.notifyLocked()
	if s.onSend != nil {
		s.onSend(chat)
	}
}

// Connections is how many connections clients opened to the fake so far: a
// bot that reuses its connections opens few, however many calls it makes.
func (s *Server) Connections() int64 { return s.conns.Load() }

// RawUpdate returns an update's wire JSON exactly as the fake delivers it,
// or nil for an unknown ID.
func (s *Server) RawUpdate(id int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.updates[id]...)
}
