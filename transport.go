package sendivent

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// Limiter paces requests. Wait blocks until the next request may go, or
// returns an error when it may not go before ctx ends. *rate.Limiter from
// golang.org/x/time/rate satisfies it, and so does package sendiventredis's
// limiter, shared by every process that uses one API key.
type Limiter interface {
	Wait(ctx context.Context) error
}

// redirectPolicy wraps a caller's CheckRedirect (nil: net/http's default of
// 10 redirects) so that the key never follows a redirect to another origin:
// net/http keeps the Authorization header when only the port or the scheme
// changes (to http://same-host:other-port, or from https down to http). It
// is removed before the caller's policy runs, which may not put it back.
func redirectPolicy(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if o := via[0].URL; req.URL.Scheme != o.Scheme || req.URL.Host != o.Host {
			req.Header.Del("Authorization")
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// defaultTransport is net/http's default with a bounded dial and handshake,
// a connection pool sized for a busy client, and a proxy that never sees a
// loopback host (loopbackBypass).
func defaultTransport(timeout time.Duration) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = loopbackBypass(http.ProxyFromEnvironment)
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

// loopbackBypass wraps a Proxy function so that a request to a host
// isLoopback accepts never goes through a proxy, whatever the environment
// says. net/http's own bypass knows "localhost" in lower case only, so
// HTTP_PROXY=… with a base URL of http://LOCALHOST:8787 would hand a live_
// key, in clear, to the proxy.
func loopbackBypass(next func(*http.Request) (*url.URL, error)) func(*http.Request) (*url.URL, error) {
	return func(r *http.Request) (*url.URL, error) {
		if isLoopback(r.URL.Hostname()) {
			return nil, nil
		}
		return next(r)
	}
}

// isLoopback reports whether host is "localhost" (in any letter case) or a
// literal loopback address (127.0.0.0/8, ::1, ::ffff:127.0.0.1). Other
// names, "*.localhost" among them, go to DNS and to proxies; so does
// "localhost." with the root's dot, which Go's resolver sends to DNS rather
// than reading it from the hosts file.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// callerTransport is the transport of a caller's http.Client: its own, or,
// when it has none, the SDK's default rather than net/http's, whose proxy
// would see a loopback host written in capitals.
func callerTransport(rt http.RoundTripper, timeout time.Duration) http.RoundTripper {
	if rt == nil {
		return defaultTransport(timeout)
	}
	return rt
}

// checkCallerProxy refuses a live_ key that a caller's transport would send
// in clear to a proxy: over plain http to a loopback base URL (the only
// plain-http URL a live_ key may use), through an *http.Transport whose
// Proxy picks a proxy for it. The SDK does not change a caller's transport;
// it cannot see inside one that wraps another.
func checkCallerProxy(key, base string, rt http.RoundTripper) error {
	t, ok := rt.(*http.Transport)
	if !ok || t.Proxy == nil || !strings.HasPrefix(key, "live_") || !strings.HasPrefix(base, "http://") {
		return nil
	}
	req, err := http.NewRequest(http.MethodPost, base+"/v1/send/x", nil)
	if err != nil {
		return nil // resolveBaseURL has parsed it
	}
	if u, err := t.Proxy(req); err == nil && u != nil {
		return errors.New("sendivent: refusing a live_ key over plain http through a proxy: the transport given with WithHTTPClient would send it in clear to " +
			u.Redacted() + "; leave loopback hosts out of its Proxy, or use https")
	}
	return nil
}

// rateMargin keeps pacing a little under the limit: requests spaced exactly
// 1/rps apart reach the server with network jitter, and a server counting
// arrivals in a sliding window would see rps+1 in some second.
const rateMargin = 0.98

func newLimiter(rps float64, burst int) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(rps*rateMargin), burst)
}

// transport wraps the client's transport. It paces requests, bounds each
// attempt, and hides CloseIdleConnections, which retryablehttp calls each
// time a request ends in an error and which would throw away every pooled
// connection of a busy client because the service answered one request
// with a 404.
type transport struct {
	base     http.RoundTripper
	limiter  Limiter       // nil: no pacing
	timeout  time.Duration // per attempt
	observed bool          // the client has an Observer: requests may carry an observation
}

// RoundTrip waits for the request's turn, then sends it under the attempt's
// bound: a context.WithTimeout of the caller's context, which the base
// transport sees as the request's context and which ends when the body is
// closed. A redirect's request is part of the attempt that got the
// redirect, under the same deadline.
func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	var ob *observation
	if t.observed {
		ob, _ = r.Context().Value(observationKey{}).(*observation)
	}
	if t.limiter != nil {
		if err := t.pace(r.Context(), ob); err != nil {
			if r.Body != nil {
				r.Body.Close() // a RoundTripper closes the body, even on an error
			}
			return nil, &limiterError{err: err}
		}
	}
	parent := r.Context()
	if ob != nil {
		parent = ob.attemptContext(r)
	}
	var ctx context.Context
	var cancel context.CancelFunc
	if dl, ok := hopDeadline(r); ok {
		ctx, cancel = context.WithDeadline(parent, dl)
	} else {
		ctx, cancel = context.WithTimeout(parent, t.timeout)
	}
	req := r.WithContext(ctx)
	if ob != nil {
		req = ob.withHeaders(req)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp == nil || resp.Body == nil { // net/http's client handles these
		cancel()
		return resp, err
	}
	dl, _ := ctx.Deadline()
	resp.Body = &boundBody{ReadCloser: resp.Body, cancel: cancel, deadline: dl}
	return resp, nil
}

// pace waits for the limiter, and tells ob how long it waited.
func (t *transport) pace(ctx context.Context, ob *observation) error {
	if ob == nil {
		return t.limiter.Wait(ctx)
	}
	start := time.Now()
	err := t.limiter.Wait(ctx)
	ob.limiterWaited(time.Since(start), err != nil)
	return err
}

// hopDeadline is the deadline of the attempt a redirect's request belongs
// to: that of the answer that was the redirect, which this transport
// returned (net/http keeps it in the new request's Response).
func hopDeadline(r *http.Request) (time.Time, bool) {
	if r.Response == nil {
		return time.Time{}, false
	}
	if b, ok := r.Response.Body.(*boundBody); ok {
		return b.deadline, true
	}
	if r.Response.Request != nil { // the body was wrapped again (a caller's http.Client.Timeout)
		return r.Response.Request.Context().Deadline()
	}
	return time.Time{}, false
}

// boundBody ends the attempt's context when the body is closed, as
// net/http's own bound (http.Client.Timeout) does.
type boundBody struct {
	io.ReadCloser
	cancel   context.CancelFunc
	deadline time.Time // the attempt's
}

func (b *boundBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// limiterError is a limiter's refusal: no request went out. It keeps the
// limiter's cause, and matches context.DeadlineExceeded when the limiter
// said the wait would pass the deadline (x/time/rate says so in words only).
type limiterError struct{ err error }

func (e *limiterError) Error() string { return "rate limiter: " + e.err.Error() }
func (e *limiterError) Unwrap() error { return e.err }
func (e *limiterError) Is(target error) bool {
	return target == context.DeadlineExceeded && strings.Contains(e.err.Error(), "would exceed context deadline")
}

// CloseIdleConnections closes the connections the client keeps for reuse,
// if its transport can. A client that is no longer needed can call it; the
// connections otherwise close themselves after 90 idle seconds.
func (c *Client) CloseIdleConnections() {
	if c.usable() != nil {
		return
	}
	if t, ok := c.hc.Transport.(*transport); ok {
		if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
			ci.CloseIdleConnections()
		}
	}
}
