package sendivent

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// checkRedirect is net/http's default redirect policy, except that the key
// does not follow a redirect to another origin: net/http keeps the
// Authorization header when only the port or the scheme changes (to
// http://same-host:other-port, or from https down to http).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if o := via[0].URL; req.URL.Scheme != o.Scheme || req.URL.Host != o.Host {
		req.Header.Del("Authorization")
	}
	return nil
}

func defaultTransport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &deadlineConn{Conn: conn, timeout: timeout}, nil
	}
	t.TLSHandshakeTimeout = min(timeout, 10*time.Second)
	// Keep a connection per concurrent caller: the default of 2 idle
	// connections per host makes a busy client dial again and again.
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = DefaultMaxConnsPerHost
	// Past this, requests queue for a free connection instead of dialing:
	// it also stops net/http from dialing spares when many callers start
	// at once. The service's own rate limit makes more pointless.
	t.MaxConnsPerHost = DefaultMaxConnsPerHost
	return t
}

// rateMargin keeps pacing a little under the limit: requests spaced exactly
// 1/rps apart reach the server with network jitter, and a server counting
// arrivals in a sliding window would see rps+1 in some second.
const rateMargin = 0.98

func newLimiter(rps float64, burst int) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(rps*rateMargin), burst)
}

type transport struct {
	base    http.RoundTripper
	limiter *rate.Limiter
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.limiter != nil {
		if err := t.limiter.Wait(r.Context()); err != nil {
			return nil, err
		}
	}
	return t.base.RoundTrip(r)
}

// deadlineConn is how the default transport bounds an attempt: every write
// gives the peer timeout to answer, and every read timeout more to go on, so
// a server that stops answering (before or in the middle of its answer)
// fails the attempt after timeout. Deadlines cost no allocation, unlike a
// timer per request, and are moved at most every timeout/16 (a busy
// connection would otherwise move them on every read), so the bound is
// between 15/16 of timeout and timeout. A connection idle in the pool for
// timeout is closed.
type deadlineConn struct {
	net.Conn
	timeout           time.Duration
	readSet, writeSet atomic.Int64 // when each deadline was last moved, in Unix ns
}

func (c *deadlineConn) Read(p []byte) (int, error) {
	if now := time.Now(); c.stale(&c.readSet, now) {
		if err := c.Conn.SetReadDeadline(now.Add(c.timeout)); err != nil {
			return 0, err
		}
	}
	return c.Conn.Read(p)
}

func (c *deadlineConn) Write(p []byte) (int, error) {
	// The read deadline moves too: the read waiting for the answer started
	// before this request was written, when the connection went idle.
	if now := time.Now(); c.stale(&c.writeSet, now) {
		c.readSet.Store(now.UnixNano())
		if err := c.Conn.SetDeadline(now.Add(c.timeout)); err != nil {
			return 0, err
		}
	} else if c.stale(&c.readSet, now) {
		if err := c.Conn.SetReadDeadline(now.Add(c.timeout)); err != nil {
			return 0, err
		}
	}
	return c.Conn.Write(p)
}

// stale reports whether the deadline last moved at *set is due to move
// again, and if so records now as its new time.
func (c *deadlineConn) stale(set *atomic.Int64, now time.Time) bool {
	n := now.UnixNano()
	last := set.Load()
	if n-last < int64(c.timeout/16) {
		return false
	}
	return set.CompareAndSwap(last, n)
}
