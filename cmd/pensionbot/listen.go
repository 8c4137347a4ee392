package main

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpLimits bound what clients can hold of an HTTP server. The webhook
// listens on the network: without them anyone who reaches the port can
// keep connections open for ever without sending a byte (a test held 300
// idle connections), and every one costs a goroutine and a descriptor.
type httpLimits struct {
	// ReadHeader and Read bound reading a request (Telegram sends small
	// JSON updates at once); Write bounds the whole answer, which waits
	// until the update is applied (a model's answer may take a while);
	// Idle closes a kept-alive connection that sends nothing more.
	ReadHeader, Read, Write, Idle time.Duration
	// MaxConns is how many connections are served at once; more wait in
	// the kernel's backlog until one closes. Telegram opens at most 40 per
	// bot by default (setWebhook's max_connections, at most 100).
	MaxConns int
}

// The limits of the two servers; tests shorten them.
var (
	webhookLimits = httpLimits{ReadHeader: 5 * time.Second, Read: 15 * time.Second, Write: 2 * time.Minute, Idle: time.Minute, MaxConns: 128}
	adminLimits   = httpLimits{ReadHeader: 5 * time.Second, Read: 10 * time.Second, Write: 30 * time.Second, Idle: time.Minute, MaxConns: 16}
)

func (l httpLimits) server(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeader,
		ReadTimeout:       l.Read,
		WriteTimeout:      l.Write,
		IdleTimeout:       l.Idle,
		MaxHeaderBytes:    16 << 10,
	}
}

// limitListener accepts at most n connections at a time: Accept waits for
// one of them to close (as golang.org/x/net/netutil.LimitListener does;
// ours also counts the open connections for /metrics).
type limitListener struct {
	net.Listener
	slots chan struct{}
	open  prometheus.Gauge
	done  chan struct{}
	once  sync.Once
}

func newLimitListener(l net.Listener, n int, open prometheus.Gauge) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, n), open: open, done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		// Closed while every slot was taken: Serve must return.
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	l.open.Inc()
	return &limitedConn{Conn: c, release: func() { l.open.Dec(); <-l.slots }}, nil
}

// Close stops accepting, also an Accept waiting for a free slot.
func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
