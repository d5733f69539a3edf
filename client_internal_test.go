package sendivent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/sendivent/sendivent-go/internal/clocktest"
)

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
