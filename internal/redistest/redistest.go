// Package redistest starts a real redis-server for tests, on a free port
// with its own temporary directory, so that test packages running in
// parallel never share a database. Tests never use a mock of Redis.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/internal/proctest"
)

// Server is a running redis-server.
type Server struct {
	Addr  string
	dir   string
	port  int
	extra []string
	conf  string // a config file to start from (Sentinel)
	cmd   *exec.Cmd
	// release lets go of the thread that started cmd (proctest.StartTied),
	// once cmd has stopped.
	release func()
}

// ErrNoRedis means redis-server is not installed.
var ErrNoRedis = errors.New("redis-server not found on PATH (install the Debian package redis-server, or run `make test`)")

// Start starts a server. Callers own it and must Close it.
func Start() (*Server, error) { return startWith() }

// startWith starts a server with extra arguments.
func startWith(extra ...string) (*Server, error) {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return nil, ErrNoRedis
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, port: port, Addr: "127.0.0.1:" + strconv.Itoa(port), extra: extra}
	if err := s.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// MustStart starts a server for a test and closes it when the test ends.
// With CI=true a missing redis-server fails the test instead of skipping.
func MustStart(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	if errors.Is(err, ErrNoRedis) && os.Getenv("CI") != "true" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Main runs a test binary's tests with one server shared by the package,
// for TestMain. It exits non-zero when the server cannot start in CI.
func Main(m *testing.M, s **Server) {
	srv, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redistest:", err)
		if os.Getenv("CI") == "true" || !errors.Is(err, ErrNoRedis) {
			os.Exit(1)
		}
		os.Exit(0)
	}
	*s = srv
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

func (s *Server) start() error {
	args := []string{"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--dir", s.dir, "--save", "", "--appendonly", "no",
		"--logfile", filepath.Join(s.dir, "redis.log"), "--databases", "64"}
	if s.conf != "" {
		args = []string{s.conf, "--sentinel"}
	}
	s.cmd = exec.Command("redis-server", append(args, s.extra...)...)
	release, err := proctest.StartTied(s.cmd)
	if err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.release = release
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	return fmt.Errorf("redis-server did not listen on %s: %s", s.Addr, log)
}

// URL is the server's address as a REDIS_URL with database db.
func (s *Server) URL(db int) string { return fmt.Sprintf("redis://%s/%d", s.Addr, db) }

// Client returns a client for database db, closed with the test.
func (s *Server) Client(t testing.TB, db int) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr, DB: db})
	t.Cleanup(func() { c.Close() })
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		t.Fatalf("flush db %d: %v", db, err)
	}
	return c
}

// Stop kills the server, to test how callers cope with Redis being down.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.release()
		s.cmd = nil
	}
}

// Restart starts a stopped server again on the same port (empty: it keeps
// nothing on disk).
func (s *Server) Restart() error { s.Stop(); return s.start() }

// Close stops the server and removes its directory.
func (s *Server) Close() {
	s.Stop()
	os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
