package sendivent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/sendivent/sendivent-go/internal/clock"
	"github.com/sendivent/sendivent-go/internal/clocktest"
)

// ---- test harness shared by the package's tests ----

// withClock and withJitter let the package's tests run retries and polls
// without sleeping, and choose the jitter.
func withClock(k clock.Clock) Option     { return func(c *config) { c.clock = k } }
func withJitter(f func() float64) Option { return func(c *config) { c.jitter = f } }

// mockHarness is a client whose inner http.Client talks to an httpmock
// transport, so that retryablehttp's loop really runs, on a fake clock.
type mockHarness struct {
	t    *testing.T
	c    *Client
	fake *clocktest.Fake
	mt   *httpmock.MockTransport

	mu   sync.Mutex
	reqs []seenRequest
}

// seenRequest is what one attempt sent.
type seenRequest struct {
	Method      string
	Path        string // decoded
	EscapedPath string
	RawQuery    string
	Header      http.Header
	Body        []byte
}

const testKey = "test_key"

func newMockHarness(t *testing.T, opts ...Option) *mockHarness {
	t.Helper()
	return newMockHarnessKey(t, testKey, opts...)
}

func newMockHarnessKey(t *testing.T, key string, opts ...Option) *mockHarness {
	t.Helper()
	fake := clocktest.NewFake(time.Now())
	mt := httpmock.NewMockTransport()
	all := append([]Option{
		WithBaseURL("https://api.test"),
		WithHTTPClient(&http.Client{Transport: mt}),
		withClock(fake),
		withJitter(func() float64 { return 0 }),
	}, opts...)
	c, err := NewClient(key, all...)
	require.NoError(t, err)
	return &mockHarness{t: t, c: c, fake: fake, mt: mt}
}

// script answers every request with the next responder; the last repeats.
// Each request is recorded.
func (h *mockHarness) script(rs ...httpmock.Responder) {
	h.mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
		}
		h.mu.Lock()
		h.reqs = append(h.reqs, seenRequest{
			Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(),
			RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body,
		})
		i := min(len(h.reqs), len(rs)) - 1
		h.mu.Unlock()
		return rs[i](r)
	})
}

func (h *mockHarness) requests() []seenRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]seenRequest(nil), h.reqs...)
}

func (h *mockHarness) last() seenRequest {
	h.t.Helper()
	rs := h.requests()
	require.NotEmpty(h.t, rs, "no request was made")
	return rs[len(rs)-1]
}

// reply answers with status, body and header pairs.
func reply(status int, body string, headerKV ...string) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, body)
		for i := 0; i+1 < len(headerKV); i += 2 {
			resp.Header.Set(headerKV[i], headerKV[i+1])
		}
		resp.Request = r
		return resp, nil
	}
}

const acceptedJSON = `{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// ---- NewClient ----

// clearEnv empties the variables NewClient reads, so that the machine's
// environment cannot change what a test sees. Not for parallel tests.
func clearEnv(t *testing.T) {
	t.Setenv("SENDIVENT_API_KEY", "")
	t.Setenv("SENDIVENT_API_URL", "")
}

func TestNewClientKeyAndBaseURL(t *testing.T) { // not parallel: t.Setenv
	tests := []struct {
		name    string
		key     string
		envKey  string
		envURL  string
		opts    []Option
		base    string
		wantKey string
		errHas  string
	}{
		{name: "live key", key: "live_abc", base: ProductionURL, wantKey: "live_abc"},
		{name: "test key", key: "test_abc", base: SandboxURL, wantKey: "test_abc"},
		{name: "empty key reads env", envKey: "live_fromenv", base: ProductionURL, wantKey: "live_fromenv"},
		{name: "argument beats env key", key: "test_arg", envKey: "live_fromenv", base: SandboxURL, wantKey: "test_arg"},
		{name: "env URL overrides prefix", key: "live_abc", envURL: "https://proxy.example/", base: "https://proxy.example"},
		{name: "WithBaseURL overrides env URL", key: "live_abc", envURL: "https://proxy.example",
			opts: []Option{WithBaseURL("https://other.example/base/")}, base: "https://other.example/base"},
		{name: "unknown prefix with base URL", key: "sk_abc", opts: []Option{WithBaseURL("https://api.test")}, base: "https://api.test"},
		{name: "unknown prefix with env URL", key: "sk_abc", envURL: "https://api.test", base: "https://api.test"},
		{name: "unknown prefix", key: "sk_supersecret", errHas: "neither live_ nor test_"},
		{name: "no key", errHas: "no API key"},
		{name: "bad env URL", key: "test_abc", envURL: "ftp://x", errHas: "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			if tt.envKey != "" {
				t.Setenv("SENDIVENT_API_KEY", tt.envKey)
			}
			if tt.envURL != "" {
				t.Setenv("SENDIVENT_API_URL", tt.envURL)
			}
			c, err := NewClient(tt.key, tt.opts...)
			if tt.errHas != "" {
				require.Error(t, err)
				assert.Nil(t, c)
				assert.Contains(t, err.Error(), tt.errHas)
				if tt.key != "" {
					assert.NotContains(t, err.Error(), tt.key)
				}
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.base, c.base)
			if tt.wantKey != "" {
				assert.Equal(t, tt.wantKey, c.cred.key)
				assert.Equal(t, "Bearer "+tt.wantKey, c.cred.auth)
			}
		})
	}
}

func TestNewClientDefaultRateLimit(t *testing.T) { // not parallel: t.Setenv
	tests := []struct {
		name  string
		key   string
		opts  []Option
		rps   float64 // 0: no limiter
		burst int
	}{
		{name: "sandbox", key: "test_abc", rps: 10, burst: 1},
		{name: "production", key: "live_abc", rps: 100, burst: 1},
		{name: "official URL given explicitly", key: "test_abc", opts: []Option{WithBaseURL(SandboxURL + "/")}, rps: 10, burst: 1},
		{name: "other base URL", key: "test_abc", opts: []Option{WithBaseURL("https://api.test")}},
		{name: "turned off", key: "live_abc", opts: []Option{WithRateLimit(0, 0)}},
		{name: "explicit on other URL", key: "test_abc", opts: []Option{WithBaseURL("https://api.test"), WithRateLimit(5, 2)}, rps: 5, burst: 2},
		{name: "explicit on official URL", key: "live_abc", opts: []Option{WithRateLimit(1000, 50)}, rps: 1000, burst: 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			c, err := NewClient(tt.key, tt.opts...)
			require.NoError(t, err)
			tr, ok := c.hc.Transport.(*transport)
			require.True(t, ok, "the SDK wraps its transport")
			if tt.rps == 0 {
				assert.Nil(t, tr.limiter)
				return
			}
			lim, ok := tr.limiter.(*rate.Limiter)
			require.True(t, ok)
			// Paced a little under the limit, never over it.
			assert.LessOrEqual(t, float64(lim.Limit()), tt.rps)
			assert.InEpsilon(t, tt.rps, float64(lim.Limit()), 0.05)
			assert.Equal(t, tt.burst, lim.Burst())
		})
	}
}

func TestNewClientBadOptions(t *testing.T) {
	t.Parallel()
	const key = "test_verysecretkey123"
	tests := []struct {
		name   string
		opts   []Option
		errHas string
	}{
		{"negative retries", []Option{WithMaxRetries(-1)}, "WithMaxRetries"},
		{"zero timeout", []Option{WithTimeout(0)}, "WithTimeout"},
		{"negative timeout", []Option{WithTimeout(-time.Second)}, "WithTimeout"},
		{"negative retry wait", []Option{WithMaxRetryWait(-time.Second)}, "WithMaxRetryWait"},
		{"zero response cap", []Option{WithMaxResponseBytes(0)}, "WithMaxResponseBytes"},
		{"nil http client", []Option{WithHTTPClient(nil)}, "WithHTTPClient"},
		{"negative rps", []Option{WithRateLimit(-1, 1)}, "WithRateLimit"},
		{"rps without burst", []Option{WithRateLimit(10, 0)}, "WithRateLimit"},
		{"negative burst", []Option{WithRateLimit(0, -1)}, "WithRateLimit"},
		{"two bad options", []Option{WithMaxRetries(-1), WithTimeout(0)}, "WithTimeout"},
		{"not http", []Option{WithBaseURL("ftp://api.test")}, "base URL"},
		{"no host", []Option{WithBaseURL("https://")}, "base URL"},
		{"user info", []Option{WithBaseURL("https://user:pw@api.test")}, "base URL"},
		{"query", []Option{WithBaseURL("https://api.test/?a=1")}, "base URL"},
		{"fragment", []Option{WithBaseURL("https://api.test/#x")}, "base URL"},
		{"empty query", []Option{WithBaseURL("https://api.test/?")}, "base URL"},
		{"unparsable", []Option{WithBaseURL("://nope")}, "base URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(key, tt.opts...)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tt.errHas)
			assert.NotContains(t, err.Error(), key)
			assert.NotContains(t, err.Error(), "verysecret")
		})
	}
}

func TestNewClientKeyWithWhiteSpace(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"test_a b", "test_ab\n", "test_\tab", "test_ab\r"} {
		_, err := NewClient(key, WithBaseURL("https://api.test"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "white space")
		assert.NotContains(t, err.Error(), key)
	}
}

func TestNewClientLiveKeyOverPlainHTTP(t *testing.T) {
	t.Parallel()
	const live = "live_topsecret999"
	tests := []struct {
		key, url string
		ok       bool
	}{
		{live, "http://api.example.com", false},
		{live, "http://10.0.0.1:8080", false},
		{live, "http://127.0.0.1:8080", true},
		{live, "http://localhost:9999", true},
		{live, "http://[::1]:80", true},
		{live, "http://fake.localhost", false}, // a name, resolved by DNS and sent to proxies
		{live, "http://localhost.", false},
		{live, "http://127.0.0.1.nip.io", false},
		{live, "https://api.example.com", true},
		{"test_abc", "http://api.example.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tt.key, WithBaseURL(tt.url))
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, tt.url, c.base)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "plain http")
			assert.NotContains(t, err.Error(), tt.key)
		})
	}
}

type countingRT struct {
	mu sync.Mutex
	n  int
	rt http.RoundTripper
}

func (c *countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.rt.RoundTrip(r)
}

func TestWithHTTPClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		hcTimeout   time.Duration
		opts        []Option
		before      bool // the options go before WithHTTPClient
		wantTimeout time.Duration
	}{
		{name: "its shorter timeout is kept", hcTimeout: 7 * time.Second, wantTimeout: 7 * time.Second},
		{name: "a longer one is cut to the attempt timeout", hcTimeout: time.Hour, wantTimeout: DefaultTimeout},
		{name: "no timeout gets the default attempt timeout", wantTimeout: DefaultTimeout},
		{name: "WithTimeout sets the attempt timeout", hcTimeout: 7 * time.Second, opts: []Option{WithTimeout(3 * time.Second)}, wantTimeout: 3 * time.Second},
		{name: "WithTimeout before WithHTTPClient too", hcTimeout: 7 * time.Second, opts: []Option{WithTimeout(2 * time.Second)}, before: true, wantTimeout: 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			var deadline time.Time
			mt.RegisterResponder("GET", "https://api.test/v1/notifications/n1", func(r *http.Request) (*http.Response, error) {
				deadline, _ = r.Context().Deadline()
				return reply(200, `{"id":"n1","status":"running"}`)(r)
			})
			rt := &countingRT{rt: mt}
			hc := &http.Client{Transport: rt, Timeout: tt.hcTimeout}
			opts := append([]Option{WithBaseURL("https://api.test"), WithHTTPClient(hc)}, tt.opts...)
			if tt.before {
				opts = append(append([]Option{WithBaseURL("https://api.test")}, tt.opts...), WithHTTPClient(hc))
			}
			c, err := NewClient(testKey, opts...)
			require.NoError(t, err)

			assert.Same(t, rt, hc.Transport, "the caller's client is not changed")
			assert.Equal(t, tt.hcTimeout, hc.Timeout, "the caller's client is not changed")
			assert.Nil(t, hc.CheckRedirect, "the caller's client is not changed")

			start := time.Now()
			n, err := c.GetNotification(context.Background(), "n1")
			require.NoError(t, err)
			assert.Equal(t, "n1", n.ID)
			assert.Equal(t, 1, rt.n, "requests go through the caller's transport")
			assert.WithinDuration(t, start.Add(tt.wantTimeout), deadline, time.Second,
				"the attempt reaches the caller's transport with the attempt's deadline")
		})
	}
}

func TestWithHTTPClientNilTransport(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{}))
	require.NoError(t, err)
	tr := c.hc.Transport.(*transport)
	base, ok := tr.base.(*http.Transport)
	require.True(t, ok)
	assert.NotSame(t, http.DefaultTransport, base, "the SDK's default, whose proxy never sees a loopback host")
	assert.Equal(t, DefaultMaxConnsPerHost, base.MaxConnsPerHost)
	r, _ := http.NewRequest("GET", "http://LOCALHOST:8787/", nil)
	u, err := base.Proxy(r)
	require.NoError(t, err)
	assert.Nil(t, u)
}

func TestWithTimeout(t *testing.T) {
	t.Parallel()
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithTimeout(5*time.Second))
	require.NoError(t, err)
	tr := c.hc.Transport.(*transport)
	base := tr.base.(*http.Transport)
	assert.Equal(t, 5*time.Second, tr.timeout, "each attempt is bounded")
	assert.Zero(t, c.hc.Timeout, "by a context.WithTimeout, not the http.Client's Timeout")
	assert.Equal(t, 5*time.Second, base.TLSHandshakeTimeout)
	assert.Zero(t, base.ResponseHeaderTimeout, "the attempt's bound covers it")

	c, err = NewClient(testKey, WithBaseURL("https://api.test"))
	require.NoError(t, err)
	assert.Equal(t, DefaultTimeout, c.hc.Transport.(*transport).timeout)
	assert.Equal(t, DefaultMaxRetries, c.maxRetries)
	assert.Equal(t, DefaultMaxRetryWait, c.maxRetryWait)
	assert.Equal(t, int64(DefaultMaxResponseBytes), c.maxBody)
}

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t, WithUserAgent("billing-service/2.1"))
	h.script(reply(200, acceptedJSON))
	res, err := h.c.Event("welcome").To(Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)

	r := h.last()
	assert.Equal(t, "POST", r.Method)
	assert.Equal(t, "Bearer test_key", r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	ua := r.Header.Get("User-Agent")
	assert.True(t, strings.HasPrefix(ua, "Sendivent-Go/"+Version+" "), ua)
	assert.Contains(t, ua, "(go")
	assert.Contains(t, ua, "billing-service/2.1")
	key := r.Header.Get("X-Idempotency-Key")
	assert.Regexp(t, uuidV4, key)
	assert.Equal(t, key, res.IdempotencyKey)

	// GET carries no body, so no Content-Type and no idempotency key.
	h2 := newMockHarness(t)
	h2.script(reply(200, `{"id":"n1","status":"running"}`))
	_, err = h2.c.GetNotification(context.Background(), "n1")
	require.NoError(t, err)
	g := h2.last()
	assert.Equal(t, "GET", g.Method)
	assert.Empty(t, g.Header.Get("Content-Type"))
	assert.Empty(t, g.Header.Get("X-Idempotency-Key"))
	assert.Equal(t, "Bearer test_key", g.Header.Get("Authorization"))
	assert.Empty(t, g.Body)
}

func TestUserAgentDropsControlCharacters(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, suffix string }{
		{"", ""},
		{"svc/1", " svc/1"},
		{"svc\r\nX-Evil: 1", " svcX-Evil: 1"},
		{"\x00\x7f", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, "Sendivent-Go/"+Version+" ("+runtime.Version()+"; "+runtime.GOOS+"/"+runtime.GOARCH+")"+tt.suffix, userAgent(tt.in))
	}
}

func TestClientFormatHidesKey(t *testing.T) {
	t.Parallel()
	const key = "live_sosecret_42"
	c, err := NewClient(key, WithBaseURL("https://api.test"))
	require.NoError(t, err)
	s := fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c)
	assert.NotContains(t, s, key)
	assert.NotContains(t, s, "sosecret")
	assert.Contains(t, s, "https://api.test")
	assert.Contains(t, s, "live_****")

	var nilClient *Client
	assert.Equal(t, "sendivent.Client(nil)", fmt.Sprint(nilClient))

	// Options are functions: printing them shows nothing of the key.
	opt := WithBaseURL("https://api.test")
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", opt, opt, opt), key)
}

func TestTransportHidesCloseIdleConnections(t *testing.T) {
	t.Parallel()
	var rt http.RoundTripper = &transport{base: http.DefaultTransport}
	_, ok := rt.(interface{ CloseIdleConnections() })
	assert.False(t, ok)
}

// TestRealServer goes through the SDK's own transport wrapper and a real
// HTTP connection.
func TestRealServer(t *testing.T) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []*http.Request
		body [][]byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		seen = append(seen, r.Clone(context.Background()))
		body = append(body, b)
		n := len(seen)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-1")
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"error":"busy"}`)
			return
		}
		_, _ = io.WriteString(w, `{"id":"n1","event":"order/shipped","status":"accepted"}`)
	}))
	t.Cleanup(srv.Close)

	fake := clocktest.NewFake(time.Now())
	c, err := NewClient("live_key123", WithBaseURL(srv.URL), withClock(fake),
		withJitter(func() float64 { return 0 }), WithRateLimit(1000, 10))
	require.NoError(t, err)
	tr := c.hc.Transport.(*transport)
	require.NotNil(t, tr.limiter)
	t.Cleanup(tr.base.(*http.Transport).CloseIdleConnections)

	res, err := c.Event("order/shipped").To(Address("+46701234567")).Channel(ChannelSMS).Send(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "n1", res.ID)
	assert.Equal(t, []time.Duration{500 * time.Millisecond}, fake.Sleeps())

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 2)
	for i, r := range seen {
		assert.Equal(t, "/v1/send/order%2Fshipped/sms", r.URL.EscapedPath())
		assert.Equal(t, "Bearer live_key123", r.Header.Get("Authorization"))
		assert.JSONEq(t, `{"to":"+46701234567","payload":{}}`, string(body[i]))
	}
	assert.Equal(t, seen[0].Header.Get("X-Idempotency-Key"), seen[1].Header.Get("X-Idempotency-Key"))
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

// ---- logging ----

// syncBuffer is an io.Writer safe for the concurrent writes of a log
// handler shared by many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// SyncBuffer is syncBuffer for the package's external tests.
type SyncBuffer = syncBuffer

func TestLoggingMasksAndCarriesAttempts(t *testing.T) {
	t.Parallel()
	const key = "test_logsecret77"
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newMockHarnessKey(t, key, WithLogger(logger))
	h.script(reply(503, `{"error":"busy"}`), reply(200, `[{"id":"n1","status":"accepted"},{"id":"n2","status":"accepted"}]`))

	res, err := h.c.Send(context.Background(), "welcome", SendRequest{
		To: []Recipient{Address("alice@example.com"), Contact{Phone: "+46701234567", Name: "Bob Secretname", Email: "bob@example.org"}},
	})
	require.NoError(t, err)

	out := buf.String()
	for _, secret := range []string{"alice@example.com", "+46701234567", "bob@example.org", "Secretname", key, "logsecret"} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, out, "a***@example.com")
	assert.Contains(t, out, "+46*******67")
	assert.Contains(t, out, "b***@example.org")

	var attempts []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		if m["msg"] == "sendivent request" {
			attempts = append(attempts, m)
		}
	}
	require.Len(t, attempts, 2, "one line per attempt")
	for i, a := range attempts {
		assert.Equal(t, "POST", a["method"])
		assert.Equal(t, "/v1/send/{event}", a["path"])
		assert.Equal(t, float64(i+1), a["attempt"])
		assert.Equal(t, res.IdempotencyKey, a["idempotency_key"])
	}
	assert.Equal(t, float64(503), attempts[0]["status"])
	assert.Equal(t, true, attempts[0]["retrying"])
	assert.Equal(t, float64(500*time.Millisecond), attempts[0]["wait"])
	assert.Equal(t, float64(200), attempts[1]["status"])

	// Printing the client, in any verb, shows no key either.
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v %s", h.c, h.c, h.c, h.c), key)
}

func TestLoggingOffBelowDebug(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := newMockHarness(t, WithLogger(logger))
	h.script(reply(500, `{}`), reply(200, acceptedJSON))
	_, err := h.c.Event("welcome").To(Contact{Email: "alice@example.com"}).Send(context.Background())
	require.NoError(t, err)
	assert.Empty(t, buf.String())
}

func TestLoggingTransportErrors(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newMockHarness(t, WithLogger(logger), WithMaxRetries(0))
	h.script(httpmock.NewErrorResponder(io.ErrUnexpectedEOF))
	_, err := h.c.GetNotification(context.Background(), "n1")
	require.Error(t, err)
	out := buf.String()
	assert.Contains(t, out, "path=/v1/notifications/{id}")
	assert.Contains(t, out, "status=0")
	assert.Contains(t, out, "error=")
	assert.NotContains(t, out, testKey)
}

// ---- Version ----

var changelogHeading = regexp.MustCompile(`^##\s+\[?v?(\d+\.\d+\.\d+[0-9A-Za-z.+-]*)\]?`)

func TestVersionMatchesChangelog(t *testing.T) {
	t.Parallel()
	f, err := os.Open("CHANGELOG.md")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := changelogHeading.FindStringSubmatch(sc.Text()); m != nil {
			assert.Equal(t, Version, m[1], "the top CHANGELOG.md heading is the released version")
			return
		}
	}
	require.NoError(t, sc.Err())
	t.Fatal("CHANGELOG.md has no version heading")
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
			// The default transport; a caller's; a caller's with a Timeout,
			// which wraps the request's context in one of its own.
			for _, own := range []time.Duration{-1, 0, time.Minute} {
				calls.Store(0)
				opts := []Option{WithBaseURL(srv.URL), WithTimeout(bound), WithMaxRetries(5),
					withJitter(func() float64 { return 0 }), withClock(clocktest.NewFake(time.Now()))}
				if own >= 0 {
					opts = append(opts, WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: own}))
				}
				c, err := NewClient(testKey, opts...)
				require.NoError(t, err)
				start := time.Now()
				res, err := c.Event("welcome").To(Address("alice@example.com")).Send(context.Background())
				require.NoError(t, err, "caller's client: %v", own)
				assert.Equal(t, "550e8400-e29b-41d4-a716-446655440000", res.ID)
				assert.Less(t, time.Since(start), 5*time.Second)
				assert.GreaterOrEqual(t, calls.Load(), int32(2), "the stalled attempt was retried")
				c.CloseIdleConnections()
			}
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

// TestBaseURLPathOnTheWire: a base URL with a path (a proxy's prefix, with
// or without a trailing slash, escaped or not) is kept in front of every
// route, and the call's own escapes survive.
func TestBaseURLPathOnTheWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, event string
		wantURL, wantPath string
	}{
		{"no path", "https://api.test", "welcome", "https://api.test/v1/send/welcome", "/v1/send/welcome"},
		{"trailing slash", "https://api.test/", "welcome", "https://api.test/v1/send/welcome", "/v1/send/welcome"},
		{"prefix", "https://proxy.test/sendivent", "welcome", "https://proxy.test/sendivent/v1/send/welcome", "/sendivent/v1/send/welcome"},
		{"prefix with slash", "https://proxy.test/sendivent/", "welcome", "https://proxy.test/sendivent/v1/send/welcome", "/sendivent/v1/send/welcome"},
		{"escaped prefix", "https://proxy.test/send%20ivent", "a/b c", "https://proxy.test/send%20ivent/v1/send/a%2Fb%20c", "/send ivent/v1/send/a/b c"},
		{"port", "http://127.0.0.1:8080/x", "welcome", "http://127.0.0.1:8080/x/v1/send/welcome", "/x/v1/send/welcome"},
		{"empty port", "https://api.test:/x", "welcome", "https://api.test/x/v1/send/welcome", "/x/v1/send/welcome"},
		{"IPv6 and port", "https://[::1]:8443/p/", "welcome", "https://[::1]:8443/p/v1/send/welcome", "/p/v1/send/welcome"},
		{"IPv6, empty port", "https://[::1]:", "welcome", "https://[::1]/v1/send/welcome", "/v1/send/welcome"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			var got *http.Request
			mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
				got = r
				return reply(200, `{"id":"n1","status":"accepted"}`)(r)
			})
			c, err := NewClient(testKey, WithBaseURL(tt.base), WithRateLimit(0, 0), WithHTTPClient(&http.Client{Transport: mt}))
			require.NoError(t, err)
			_, err = c.Send(context.Background(), tt.event, SendRequest{To: []Recipient{Address("a@example.com")}})
			require.NoError(t, err)
			assert.Equal(t, tt.wantURL, got.URL.String())
			assert.Equal(t, tt.wantPath, got.URL.Path)
			assert.Equal(t, got.URL.Host, got.Host)
		})
	}
}
