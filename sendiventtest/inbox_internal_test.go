package sendiventtest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
)

func TestInboxForeignRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		loopback bool
		method   string
		path     string
		host     string
		header   map[string]string
		foreign  bool
	}{
		{"localhost", true, "GET", "/", "localhost:8787", nil, false},
		{"LOCALHOST.", true, "GET", "/", "LOCALHOST.:8787", nil, false},
		{"a name under .localhost", true, "GET", "/", "app.localhost", nil, false},
		{"127.1.2.3", true, "GET", "/", "127.1.2.3:8787", nil, false},
		{"::1", true, "GET", "/", "[::1]:8787", nil, false},
		{"no Host (HTTP/1.0)", true, "GET", "/", "", nil, false},
		{"a name", true, "GET", "/", "attacker.example:8787", nil, true},
		{"a name that ends like localhost", true, "GET", "/", "notlocalhost:8787", nil, true},
		{"localhost.attacker.example", true, "GET", "/", "localhost.attacker.example", nil, true},
		{"0.0.0.0", true, "GET", "/", "0.0.0.0:8787", nil, true},
		{"a private address", true, "GET", "/", "10.0.0.1:8787", nil, true},
		{"any name, not on loopback", false, "GET", "/_fake/notifications", "fake:8787", nil, false},
		{"same origin", true, "POST", "/_fake/reset", "localhost:8787", map[string]string{"Origin": "http://localhost:8787"}, false},
		{"same origin, port 80", true, "POST", "/_fake/reset", "localhost", map[string]string{"Origin": "http://localhost:80"}, false},
		{"https origin", true, "POST", "/_fake/reset", "localhost:8787", map[string]string{"Origin": "https://localhost:8787"}, true},
		{"other port", true, "POST", "/_fake/reset", "localhost:8787", map[string]string{"Origin": "http://localhost:3000"}, true},
		{"null origin", false, "POST", "/_fake/reset", "fake:8787", map[string]string{"Origin": "null"}, true},
		{"origin with a path", true, "POST", "/_fake/reset", "localhost:8787", map[string]string{"Origin": "http://localhost:8787/x"}, true},
		{"same-site", true, "GET", "/_fake/notifications", "localhost:8787", map[string]string{"Sec-Fetch-Site": "same-site"}, true},
		{"a visit from elsewhere", true, "GET", "/", "localhost:8787", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, false},
		{"a frame of the page from elsewhere", true, "GET", "/", "localhost:8787", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors"}, true},
		{"a POST to the page from elsewhere", true, "POST", "/", "localhost:8787", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &Server{inbox: inboxState{loopback: tt.loopback}}
			r := httptest.NewRequest(tt.method, tt.path, nil)
			r.Host = tt.host
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			msg := s.foreignRequest(r)
			assert.Equal(t, tt.foreign, msg != "", msg)
		})
	}
}

// Secrets are replaced in every string, keys too, and the JSON stays
// JSON, whatever characters the secret has.
func TestInboxRedactJSON(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"test_key0123456789", `ke"y\with<odd>&chars`, "\u2028line", "n"} {
		v := map[string]any{
			"a": "x" + secret + "y", secret: []any{secret, 1.5, nil, true, map[string]any{"deep": secret + secret}},
			"tab": "\t" + secret, "safe": "nothing here",
		}
		out := redactJSON(mustJSON(v), []string{secret})
		got, ok := decodeJSON(out, false).(map[string]any)
		require.True(t, ok, "%q: still JSON: %s", secret, out)
		if secret == "n" {
			continue // a one-letter secret takes letters of other words too, and "[redacted]" has one
		}
		assert.NotContains(t, string(out), jsonString(secret), "%q", secret)
		assert.Equal(t, "x[redacted]y", got["a"])
		assert.Equal(t, []any{"[redacted]", 1.5, nil, true, map[string]any{"deep": "[redacted][redacted]"}}, got["[redacted]"])
		assert.Equal(t, "\t[redacted]", got["tab"])
		assert.Equal(t, "nothing here", got["safe"])
	}
	clean := []byte(`{"a":"b"}`)
	assert.Equal(t, clean, redactJSON(clean, []string{"zzz", ""}), "untouched when there is nothing to redact")
}

// A client that stops reading its stream is dropped after the write
// timeout: nothing queues for it, and Close does not wait on it. Not
// parallel: it shortens inboxWriteTimeout, which parallel tests read.
func TestInboxStreamDropsAClientThatDoesNotRead(t *testing.T) {
	old := inboxWriteTimeout
	inboxWriteTimeout = 300 * time.Millisecond
	defer func() { inboxWriteTimeout = old }()
	var steps []Step
	for range 20 {
		steps = append(steps, Send(sendivent.ChannelEmail), Wait(time.Hour))
	}
	srv := newTestServer(t, WithManualLifecycle(), WithEvent("long", steps...))
	big := strings.Repeat("x", 15<<10)
	to := make([]string, inboxBatch)
	for i := range to {
		to[i] = fmt.Sprintf(`"r%d@example.com"`, i)
	}
	a := do(t, srv, call{path: "/v1/send/long", body: `{"to":[` + strings.Join(to, ",") + `],"payload":{"big":"` + big + `"}}`})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)

	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.(*net.TCPConn).SetReadBuffer(4096))
	_, err = fmt.Fprintf(c, "GET /_inbox/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") // and never read
	require.NoError(t, err)
	streams := func() int {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.inbox.streams
	}
	require.Eventually(t, func() bool { return streams() == 1 }, bound, time.Millisecond)
	// Each step changes the 50 notifications: an update of about 750 KiB,
	// until the connection's buffers are full and a write blocks.
	deadline := time.Now().Add(bound)
	for streams() == 1 {
		require.True(t, time.Now().Before(deadline), "a stream that is not read is still served")
		srv.AdvanceAll()
		time.Sleep(inboxGap + 20*time.Millisecond)
	}
	healthy(t, srv)
}
