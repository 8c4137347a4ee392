package telegramtest

// Helpers for tests that reach many people at once (broadcasts,
// reminders): people who talked to the bot long ago, and what became of
// them since, without updates the bot would have to process.

// AddChat makes a person's private chat known, as if they had written to
// the bot before: the bot may send to it. No update is enqueued.
func (s *Server) AddChat(u User) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatOfLocked(u)
}

// BlockQuietly is the person blocking the bot while the bot was not
// listening (its my_chat_member update long gone): sends answer 403
// "Forbidden: bot was blocked by the user".
func (s *Server) BlockQuietly(u User) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatOfLocked(u).blocked = true
}

// Deactivate is the person deleting their Telegram account: sends answer
// 403 "Forbidden: user is deactivated".
func (s *Server) Deactivate(u User) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatOfLocked(u).deactivated = true
}

// SentTo counts the messages the bot sent to a chat (deleted ones too).
func (s *Server) SentTo(chat int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chat]; c != nil {
		return len(c.bot)
	}
	return 0
}
