package sendivent

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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
