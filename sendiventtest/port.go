package sendiventtest

import (
	"net"
	"net/http/httptest"
	"sync"
	"time"
)

// A fake that serves a port (WithAddr, sendivent fake) may meet any
// client for days: its server has timeouts and a cap on connections, so
// that slow or idle clients cannot hold it for ever or pile up. (An
// in-process fake's clients are the test's own.) Every fake caps a
// request's header at 64 KiB and its body at 1 MiB.
const (
	// portReadHeaderTimeout bounds reading a request's header.
	portReadHeaderTimeout = 10 * time.Second
	// portReadTimeout bounds reading a whole request, its body included.
	portReadTimeout = 60 * time.Second
	// portIdleTimeout closes a keep-alive connection idle for this long.
	portIdleTimeout = 60 * time.Second
	// portMaxConns is how many connections are open at once; more wait
	// to be accepted.
	portMaxConns = 512
)

// There is no write timeout: a latency fault, or POST
// /_fake/webhooks/wait, holds its answer as long as it was told to.

// servePort sets the timeouts of a server on a port and caps its
// connections; call it before ts.Start.
func servePort(ts *httptest.Server) {
	cfg := ts.Config
	cfg.ReadHeaderTimeout = portReadHeaderTimeout
	cfg.ReadTimeout = portReadTimeout
	cfg.IdleTimeout = portIdleTimeout
	ts.Listener = &limitListener{Listener: ts.Listener, sem: make(chan struct{}, portMaxConns), done: make(chan struct{})}
}

// limitListener accepts a connection only while fewer than cap(sem) are
// open.
type limitListener struct {
	net.Listener
	sem       chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.sem <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.sem
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.sem }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its place back when it closes, once.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
