package redistest

// PID is the server's process ID, for reading its CPU time from /proc.
func (s *Server) PID() int { return s.cmd.Process.Pid }
