package sendivent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/internal/clocktest"
)

func TestTransportHidesCloseIdleConnections(t *testing.T) {
	t.Parallel()
	var rt http.RoundTripper = &transport{base: http.DefaultTransport}
	_, ok := rt.(interface{ CloseIdleConnections() })
	assert.False(t, ok)
}

func TestRateLimiterWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(reply(200, `{"id":"n1","status":"running"}`))
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithRateLimit(0.001, 1), WithHTTPClient(&http.Client{Transport: mt}))
	require.NoError(t, err)

	_, err = c.GetNotification(context.Background(), "n1") // takes the one token
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = c.GetNotification(ctx, "n1")
	require.Error(t, err)
	assert.Less(t, time.Since(start), time.Second)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Empty(t, te.Attempts, "a refusal of the limiter is not an attempt")
	assert.Contains(t, err.Error(), "rate limiter")
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestRedirectDropsKeyAcrossOrigins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, location string
		keepsKey       bool
	}{
		{"same origin", "https://api.test/v1/notifications/n2", true},
		{"other host", "https://elsewhere.test/v1/notifications/n2", false},
		{"other port", "https://api.test:8443/v1/notifications/n2", false},
		{"down to http", "http://api.test/v1/notifications/n2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(http.StatusFound, "", "Location", tt.location), reply(200, `{"id":"n2","status":"running"}`))
			n, err := h.c.GetNotification(context.Background(), "n1")
			require.NoError(t, err)
			assert.Equal(t, "n2", n.ID)
			rs := h.requests()
			require.Len(t, rs, 2)
			assert.Equal(t, "Bearer test_key", rs[0].Header.Get("Authorization"))
			if tt.keepsKey {
				assert.Equal(t, "Bearer test_key", rs[1].Header.Get("Authorization"))
			} else {
				assert.Empty(t, rs[1].Header.Get("Authorization"))
			}
		})
	}

	t.Run("redirect loop", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t)
		h.script(reply(http.StatusFound, "", "Location", "https://api.test/v1/notifications/n1"))
		_, err := h.c.GetNotification(context.Background(), "n1")
		var te *TransportError
		require.ErrorAs(t, err, &te)
		assert.Contains(t, err.Error(), "stopped after 10 redirects")
		assert.Len(t, h.requests(), 10, "a redirect loop is not retried")
	})

	t.Run("the caller's policy is kept", func(t *testing.T) {
		t.Parallel()
		called := false
		mt := httpmock.NewMockTransport()
		mt.RegisterNoResponder(reply(http.StatusFound, `{}`, "Location", "https://elsewhere.test/"))
		hc := &http.Client{Transport: mt, CheckRedirect: func(*http.Request, []*http.Request) error { called = true; return http.ErrUseLastResponse }}
		c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(hc))
		require.NoError(t, err)
		_, err = c.GetNotification(context.Background(), "n1")
		require.Error(t, err)
		assert.True(t, called)
	})
}

// TestTimeoutBoundsEachAttempt: with the default transport, a server that
// stops answering, before its headers or in the middle of its body, fails
// the attempt after the timeout, and the next attempt gets a fresh one. A
// loaded machine may push a good attempt past the 100 ms bound too: then it
// is retried as well, so the test counts attempts, at least two, and asks
// only that the call ends well. A timeout that bounded the whole call
// instead would fail every attempt after the first.
func TestTimeoutBoundsEachAttempt(t *testing.T) {
	t.Parallel()
	const bound = 100 * time.Millisecond
	tests := []struct {
		name  string
		stall func(w http.ResponseWriter)
	}{
		{"no headers", func(http.ResponseWriter) {}},
		{"half a body", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"id":"n1",`))
			w.(http.Flusher).Flush()
		}},
		{"late headers, then a slow body: each phase under the bound, not the sum", func(w http.ResponseWriter) {
			time.Sleep(bound * 6 / 10)
			w.Header().Set("Content-Length", strconv.Itoa(len(acceptedJSON)))
			w.WriteHeader(200)
			_, _ = w.Write([]byte(acceptedJSON[:10]))
			w.(http.Flusher).Flush()
			time.Sleep(bound * 8 / 10)
			_, _ = w.Write([]byte(acceptedJSON[10:]))
			w.(http.Flusher).Flush()
		}},
		{"a byte at a time", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(200)
			for i := 0; i < 100; i++ { // 2 s in all, 20 ms apart: never silent for the bound
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				w.(http.Flusher).Flush()
				time.Sleep(20 * time.Millisecond)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The default transport; a caller's; a caller's with a Timeout,
			// which wraps the request's context in one of its own. Each
			// against a server of its own, all at once.
			var wg sync.WaitGroup
			for _, own := range []time.Duration{-1, 0, time.Minute} {
				release := make(chan struct{})
				var calls atomic.Int32
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if calls.Add(1) == 1 {
						tt.stall(w)
						select {
						case <-release:
						case <-r.Context().Done():
						}
						return
					}
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(acceptedJSON))
				}))
				defer srv.Close()
				defer close(release)
				opts := []Option{WithBaseURL(srv.URL), WithTimeout(bound), WithMaxRetries(5),
					withJitter(func() float64 { return 0 }), withClock(clocktest.NewFake(time.Now()))}
				if own >= 0 {
					opts = append(opts, WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: own}))
				}
				c, err := NewClient(testKey, opts...)
				require.NoError(t, err)
				defer c.CloseIdleConnections()
				wg.Add(1)
				go func() {
					defer wg.Done()
					start := time.Now()
					res, err := c.Event("welcome").To(Address("alice@example.com")).Send(context.Background())
					if assert.NoError(t, err, "caller's client: %v", own) {
						assert.Equal(t, "550e8400-e29b-41d4-a716-446655440000", res.ID)
					}
					assert.Less(t, time.Since(start), 5*time.Second)
					assert.GreaterOrEqual(t, calls.Load(), int32(2), "the stalled attempt was retried")
				}()
			}
			wg.Wait()
		})
	}
}

// TestTimeoutIsNotResentSilently: net/http resends a request whose reused
// connection fails to answer; a timed-out attempt must not be, or the
// timeout would not hold and attempts would go uncounted. A client with no
// tight bound warms the connection up, so that a loaded machine cannot time
// that request out; the client under test shares its transport.
func TestTimeoutIsNotResentSilently(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 { // the first request warms the connection up
			_, _ = w.Write([]byte(acceptedJSON))
			return
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	warm, err := NewClient(testKey, WithBaseURL(srv.URL), WithHTTPClient(&http.Client{Transport: tr}), WithMaxRetries(0))
	require.NoError(t, err)
	c, err := NewClient(testKey, WithBaseURL(srv.URL), WithHTTPClient(&http.Client{Transport: tr}),
		WithTimeout(100*time.Millisecond), WithMaxRetries(0))
	require.NoError(t, err)
	send := func(c *Client) error {
		_, err := c.Event("welcome").To(Address("alice@example.com")).Send(context.Background())
		return err
	}
	require.NoError(t, send(warm))
	start := time.Now()
	err = send(c)
	elapsed := time.Since(start)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	var timeout interface{ Timeout() bool }
	require.ErrorAs(t, err, &timeout)
	assert.True(t, timeout.Timeout(), "the error says it is a timeout: %v", err)
	assert.Len(t, te.Attempts, 1)
	assert.Less(t, elapsed, 5*time.Second, "the timeout holds")
	assert.Equal(t, int32(2), calls.Load(), "the timed-out request was not resent behind the SDK's back")
}

// A base URL the SDK treats as loopback (the only plain-http URL a live_
// key may use) never goes through a proxy, whatever the environment says
// and however the host is written.

const proxyChildEnv = "SENDIVENT_TEST_PROXY_CHILD"

// liveProxyKey is the key the child sends; the proxy must never see it.
const liveProxyKey = "live_proxytest0123456789"

// recorder is an HTTP server that counts what reaches it.
type recorder struct {
	mu   sync.Mutex
	seen []string // "<host> <authorization>"
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.mu.Lock()
	rc.seen = append(rc.seen, r.Host+" "+r.Header.Get("Authorization"))
	rc.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id":"n-1","event":"welcome","status":"accepted"}`))
}

func (rc *recorder) requests() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.seen...)
}

// listen serves h on addr; false when the machine has no such address.
func listen(t *testing.T, addr string, h http.Handler) (string, bool) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", false
	}
	srv := &http.Server{Handler: h}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return l.Addr().String(), true
}

// proxyAnswer is the proxy: it records every request it gets and answers
// 502 (net/http's client sends plain-http requests to a proxy as they are,
// with the Authorization header).
type proxyAnswer struct{ recorder }

func (p *proxyAnswer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	p.seen = append(p.seen, r.Method+" "+r.URL.String()+" "+r.Header.Get("Authorization"))
	p.mu.Unlock()
	w.WriteHeader(http.StatusBadGateway)
}

// TestLoopbackNeverProxied runs the sends in a child process whose
// environment names a proxy (net/http reads the environment once per
// process, and a parallel test must not change this one's): every way of
// writing a loopback host reaches the API server directly, through the
// SDK's transport and through a caller's http.Client without a Transport,
// while a send to another host does reach the proxy, which shows the
// proxy is in force.
func TestLoopbackNeverProxied(t *testing.T) {
	if os.Getenv(proxyChildEnv) != "" {
		proxyChild(t)
		return
	}
	t.Parallel()
	api := &recorder{}
	proxy := &proxyAnswer{}
	proxyAddr, _ := listen(t, "127.0.0.1:0", proxy)
	a1, _ := listen(t, "127.0.0.1:0", api)
	_, p1, _ := net.SplitHostPort(a1)
	bases := []string{
		"http://LOCALHOST:" + p1, "http://LocalHost:" + p1, "http://localhost:" + p1,
		"http://127.0.0.1:" + p1, "http://[::ffff:127.0.0.1]:" + p1,
	}
	if a2, ok := listen(t, "127.0.0.2:0", api); ok {
		bases = append(bases, "http://"+a2)
	}
	if a3, ok := listen(t, "[::1]:0", api); ok {
		bases = append(bases, "http://"+a3)
	}

	cmd := exec.Command(os.Args[0], "-test.run=^TestLoopbackNeverProxied$", "-test.count=1")
	cmd.Env = append(os.Environ(),
		proxyChildEnv+"="+strings.Join(bases, ","),
		"HTTP_PROXY=http://"+proxyAddr, "http_proxy=http://"+proxyAddr,
		"HTTPS_PROXY=http://"+proxyAddr, "https_proxy=http://"+proxyAddr,
		"NO_PROXY=", "no_proxy=", "SENDIVENT_API_URL=", "SENDIVENT_API_KEY=",
	)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child:\n%s", out)

	for _, p := range proxy.requests() {
		assert.NotContains(t, p, liveProxyKey, "the proxy saw the live key")
	}
	assert.Equal(t, []string{"POST http://control.sendivent.invalid/v1/send/welcome Bearer test_control"}, proxy.requests(),
		"only the control send went to the proxy\nchild:\n%s", out)
	assert.Len(t, api.requests(), 2*len(bases), "every loopback send reached the server directly\nchild:\n%s", out)
}

// proxyChild sends to each base URL of the environment with a live key,
// through the SDK's transport and through a caller's client that has no
// Transport, then once to a non-loopback host, which must use the proxy.
func proxyChild(t *testing.T) {
	ctx := context.Background()
	send := func(c *Client) error {
		_, err := c.Send(ctx, "welcome", SendRequest{To: []Recipient{Address("alice@example.com")}})
		c.CloseIdleConnections()
		return err
	}
	for _, base := range strings.Split(os.Getenv(proxyChildEnv), ",") {
		for name, opts := range map[string][]Option{
			"default transport":        {WithBaseURL(base), WithMaxRetries(0)},
			"client with no Transport": {WithBaseURL(base), WithMaxRetries(0), WithHTTPClient(&http.Client{})},
		} {
			c, err := NewClient(liveProxyKey, opts...)
			require.NoError(t, err, base)
			assert.NoError(t, send(c), "%s, %s", base, name)
		}
	}
	c, err := NewClient("test_control", WithBaseURL("http://control.sendivent.invalid"), WithMaxRetries(0))
	require.NoError(t, err)
	var ae *APIError
	require.ErrorAs(t, send(c), &ae, "the control send goes to the proxy, which answers 502")
	assert.Equal(t, http.StatusBadGateway, ae.StatusCode)
}

// TestCallerTransportProxy: the SDK does not change a caller's transport,
// but refuses a live_ key that it would send in clear to a proxy.
func TestCallerTransportProxy(t *testing.T) {
	t.Parallel()
	proxy := &proxyAnswer{}
	proxyAddr, _ := listen(t, "127.0.0.1:0", proxy)
	proxyURL, _ := url.Parse("http://user:pw@" + proxyAddr)
	always := &http.Transport{Proxy: http.ProxyURL(proxyURL)}
	bypass := &http.Transport{Proxy: func(r *http.Request) (*url.URL, error) {
		if r.URL.Hostname() == "127.0.0.1" {
			return nil, nil
		}
		return proxyURL, nil
	}}
	tests := []struct {
		name, key, base string
		rt              http.RoundTripper
		refused         bool
	}{
		{"live key, plain http, proxied", liveProxyKey, "http://127.0.0.1:9", always, true},
		{"live key, LOCALHOST, proxied", liveProxyKey, "http://LOCALHOST:9", always, true},
		{"live key, https: the proxy tunnels TLS", liveProxyKey, "https://127.0.0.1:9", always, false},
		{"live key, a Proxy that leaves loopback out", liveProxyKey, "http://127.0.0.1:9", bypass, false},
		{"live key, no Proxy", liveProxyKey, "http://127.0.0.1:9", &http.Transport{}, false},
		{"test key: the caller's proxy is the caller's choice", "test_abc", "http://127.0.0.1:9", always, false},
		{"a wrapping RoundTripper cannot be looked into", liveProxyKey, "http://127.0.0.1:9", wrapRT{always}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewClient(tt.key, WithBaseURL(tt.base), WithHTTPClient(&http.Client{Transport: tt.rt}))
			if !tt.refused {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "proxy")
			assert.NotContains(t, err.Error(), "pw", "the proxy's password is not quoted")
			assert.NotContains(t, err.Error(), liveProxyKey[5:13])
		})
	}
	assert.Empty(t, proxy.requests(), "nothing was sent")
}

type wrapRT struct{ http.RoundTripper }

// TestLoopbackHosts: what counts as loopback, for a live_ key over plain
// http and for the proxy bypass alike.
func TestLoopbackHosts(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST": true, "LocalHost": true,
		"127.0.0.1": true, "127.0.0.2": true, "127.255.255.254": true, "::1": true, "::ffff:127.0.0.1": true,
		"localhost.":      false, // Go's resolver asks DNS for it
		"foo.localhost":   false,
		"0.0.0.0":         false,
		"::":              false,
		"127.1":           false,
		"10.0.0.1":        false,
		"::ffff:10.0.0.1": false,
		"":                false,
	} {
		assert.Equal(t, want, isLoopback(host), "%q", host)
		r, _ := http.NewRequest("GET", "http://"+bracket(host)+"/", nil)
		if r == nil {
			continue
		}
		u, err := loopbackBypass(func(*http.Request) (*url.URL, error) { return &url.URL{Host: "proxy:1"}, nil })(r)
		require.NoError(t, err)
		assert.Equal(t, want, u == nil, "proxy bypass for %q", host)
	}
}

func bracket(host string) string {
	if strings.Contains(host, ":") {
		return fmt.Sprintf("[%s]", host)
	}
	return host
}

// TestReviewNilResponseBody: net/http accepts a caller's RoundTripper that
// answers with a nil Body (golang.org/issue/38095: it puts an empty one in
// its place). The SDK's transport wraps the nil Body in a non-nil boundBody
// first, so net/http no longer fixes it and the SDK's read panics.
func TestNilResponseBody(t *testing.T) {
	t.Parallel()
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusNoContent, Header: http.Header{}, Request: r}, nil
	})
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}))
	require.NoError(t, err)
	var res *CancelResponse
	func() {
		defer func() {
			if p := recover(); p != nil {
				res, err = nil, fmt.Errorf("Cancel panicked on a nil response body: %v", p)
			}
		}()
		res, err = c.Cancel(context.Background(), "welcome", Address("a@example.com"))
	}()
	if assert.NoError(t, err) {
		assert.True(t, res.Success)
	}
}

// TestReviewLimiterRefusalAfterAnAnswer: a 503, then the limiter refuses the
// retry because its wait would pass the deadline. The caller gets a
// *TransportError with StatusCode 0 that does not match ErrServer: the
// service's answer is lost. When the backoff (not the limiter) finds that
// the retry cannot fit, the same situation returns the *APIError 503 with
// Err matching context.DeadlineExceeded.
func TestLimiterRefusalAfterAnAnswer(t *testing.T) {
	t.Parallel()
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 503, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(`{"error":"busy"}`)), ContentLength: -1, Request: r}, nil
	})
	var mu sync.Mutex
	calls := 0
	lim := limiterFunc(func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls > 1 {
			return errors.New("rate: Wait(n=1) would exceed context deadline")
		}
		return nil
	})
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}),
		WithLimiter(lim), withClock(clocktest.NewFake(time.Now())))
	require.NoError(t, err)
	_, err = c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{Address("a@example.com")}})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, ErrServer, "the 503 the service answered is kept")
	var apiErr *APIError
	if assert.ErrorAs(t, err, &apiErr) {
		assert.Equal(t, 503, apiErr.StatusCode)
		assert.Len(t, apiErr.Attempts, 1)
	}
}

type limiterFunc func(context.Context) error

func (f limiterFunc) Wait(ctx context.Context) error { return f(ctx) }

// closeTracker is a request body that records whether it was closed.
type closeTracker struct {
	io.Reader
	closed bool
}

func (b *closeTracker) Close() error { b.closed = true; return nil }

// TestReviewLimiterRefusalClosesRequestBody: http.RoundTripper's contract
// is that RoundTrip always closes the request body, errors included. The
// SDK's transport returns a limiter's refusal without closing it.
func TestLimiterRefusalClosesRequestBody(t *testing.T) {
	t.Parallel()
	tr := &transport{
		base:    roundTripFunc(func(*http.Request) (*http.Response, error) { panic("not reached") }),
		limiter: limiterFunc(func(context.Context) error { return errors.New("no budget") }),
		timeout: time.Second,
	}
	body := &closeTracker{Reader: strings.NewReader(`{}`)}
	req, err := http.NewRequest("POST", "https://api.test/v1/send/welcome", body)
	require.NoError(t, err)
	_, err = tr.RoundTrip(req)
	require.Error(t, err)
	assert.True(t, body.closed, "RoundTrip must close the request body, also on error")
}

// TestReviewRedirectHopDeadlineWithoutResponseRequest: WithTimeout says a
// redirect is part of its attempt. hopDeadline finds the attempt's deadline
// through r.Response.Request, which a caller's transport need not set
// (net/http's does): then each hop gets a fresh bound.
func TestRedirectHopDeadlineWithoutResponseRequest(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var deadlines []time.Time
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		dl, _ := r.Context().Deadline()
		mu.Lock()
		deadlines = append(deadlines, dl)
		hop := len(deadlines)
		mu.Unlock()
		if hop == 1 {
			time.Sleep(20 * time.Millisecond)
			return &http.Response{StatusCode: http.StatusFound, Header: http.Header{"Location": {"/elsewhere"}},
				Body: http.NoBody}, nil // no Request: a RoundTripper need not set it
		}
		return &http.Response{StatusCode: 200, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(`{"id":"n1","status":"running"}`)), ContentLength: -1}, nil
	})
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}),
		WithTimeout(time.Minute))
	require.NoError(t, err)
	_, err = c.GetNotification(context.Background(), "n1")
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, deadlines, 2)
	assert.Equal(t, deadlines[0], deadlines[1], "the redirect's hop has its attempt's deadline")
}
