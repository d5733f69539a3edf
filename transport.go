package sendivent

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
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

// defaultTransport bounds each phase of an attempt by timeout: dialing, the
// TLS handshake, and the wait for the answer's headers (checkRetry bounds
// the reading of the body). These cost a timer or none per request, where a
// context per attempt costs a timer, a context tree and a copy of the
// request, and makes net/http take its slower path.
func defaultTransport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = min(timeout, 10*time.Second)
	t.ResponseHeaderTimeout = timeout
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

// transport wraps the client's transport: it paces requests, gives each
// attempt its own timeout, and hides CloseIdleConnections, which
// retryablehttp calls each time it gives up on a request and which would
// throw away every pooled connection of a busy client because one request
// failed.
type transport struct {
	base    http.RoundTripper
	limiter *rate.Limiter // nil: no pacing
	timeout time.Duration // per attempt; 0 when the base transport bounds attempts itself
}

// RoundTrip bounds the attempt on a caller's transport, the reading of its
// answer included, with a context of its own. (Connection deadlines would
// not do: net/http silently resends a request whose reused connection fails
// to answer, but never one whose context ended.) A caller's deadline that
// comes first bounds the attempt already, and saves the timer.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.limiter != nil {
		if err := t.limiter.Wait(r.Context()); err != nil {
			return nil, err
		}
	}
	if t.timeout == 0 {
		return t.base.RoundTrip(r)
	}
	if dl, ok := r.Context().Deadline(); ok && time.Until(dl) <= t.timeout {
		return t.base.RoundTrip(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), t.timeout)
	resp, err := t.base.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &attemptBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// attemptBody ends its attempt's context when the body is closed.
type attemptBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// CloseIdleConnections closes the connections the client keeps for reuse,
// if its transport can. A client that is no longer needed can call it; the
// connections otherwise close themselves after 90 idle seconds.
func (c *Client) CloseIdleConnections() {
	if ci, ok := c.http.HTTPClient.Transport.(*transport).base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
