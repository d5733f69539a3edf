package sendivent

import (
	"errors"
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

// defaultTransport is net/http's default with bounds on dialing and the
// TLS handshake, which go on in the background after the attempt that
// started them has ended.
func defaultTransport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = min(timeout, 10*time.Second)
	// Keep a connection per concurrent caller: the default of 2 idle
	// connections per host makes a busy client dial again and again.
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = DefaultMaxConnsPerHost
	// Past this, requests queue for a free connection instead of dialing;
	// the service's own rate limit makes more pointless.
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

// transport wraps the client's transport: it paces requests, bounds each
// attempt, and hides CloseIdleConnections, which retryablehttp calls each
// time it gives up on a request and which would throw away every pooled
// connection of a busy client because one request failed.
type transport struct {
	base    http.RoundTripper
	limiter Limiter       // nil: no pacing
	timeout time.Duration // per attempt
}

// RoundTrip waits for the request's turn, then starts an attempt bounded by
// the timeout, reading of the answer included (see call). A context ending
// is the one thing net/http never answers by silently sending the request
// again on a new connection, which it does when a reused connection fails.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.limiter != nil {
		if err := t.limiter.Wait(r.Context()); err != nil {
			return nil, err
		}
	}
	// Found by Value: an http.Client with a Timeout wraps the call's context.
	cl, _ := r.Context().Value(callKey{}).(*call)
	if cl == nil { // not a request made by do
		return t.base.RoundTrip(r)
	}
	cl.startAttempt(t.timeout)
	return t.base.RoundTrip(r) // checkRetry, which runs next, ends the attempt
}

// CloseIdleConnections closes the connections the client keeps for reuse,
// if its transport can. A client that is no longer needed can call it; the
// connections otherwise close themselves after 90 idle seconds.
func (c *Client) CloseIdleConnections() {
	if ci, ok := c.http.HTTPClient.Transport.(*transport).base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
