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
//
// There is no write timeout: a latency fault, or POST
// /_fake/webhooks/wait, holds its answer as long as it was told to.
type portLimits struct {
	readHeader time.Duration // to read a request's header
	read       time.Duration // to read a whole request, its body included
	idle       time.Duration // a keep-alive connection idle this long closes
	maxConns   int           // open at once; more wait to be accepted
}

var defaultPortLimits = portLimits{
	readHeader: 10 * time.Second,
	read:       60 * time.Second,
	idle:       60 * time.Second,
	maxConns:   512,
}

// withPortLimits replaces the limits of a server on a port, for tests.
func withPortLimits(l portLimits) Option { return func(c *config) { c.port = &l } }

// servePort sets the timeouts of a server on a port and caps its
// connections; call it before ts.Start.
func servePort(ts *httptest.Server, l *portLimits) {
	if l == nil {
		l = &defaultPortLimits
	}
	cfg := ts.Config
	cfg.ReadHeaderTimeout = l.readHeader
	cfg.ReadTimeout = l.read
	cfg.IdleTimeout = l.idle
	ts.Listener = &limitListener{Listener: ts.Listener, sem: make(chan struct{}, l.maxConns), done: make(chan struct{})}
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
