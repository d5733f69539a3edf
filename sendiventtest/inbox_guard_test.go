package sendiventtest_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// What another site's web page could make the developer's browser send to
// the fake, written as raw HTTP: none of it reads the page's data or
// drives a control. Programs (no Origin, no Sec-Fetch-*) are unaffected.

// raw sends one request, written as is (Host and Connection: close are
// added), and returns the answer.
func raw(t *testing.T, srv *sendiventtest.Server, host, request string) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(srv.URL, "http://"), inboxBound)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(inboxBound))
	line, rest, _ := strings.Cut(request, "\r\n")
	_, err = fmt.Fprintf(c, "%s\r\nHost: %s\r\nConnection: close\r\n%s", line, host, rest)
	require.NoError(t, err)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(body)
}

func TestInboxGuardRefusesOtherSitesPages(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	id := sendTo(t, srv.Client(), "welcome", sendivent.Address("a@example.com"), nil)
	self := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := strings.Cut(self, ":")
	post := func(path, headers, body string) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s", path, headers, len(body), body)
	}
	getReq := func(path, headers string) string { return "GET " + path + " HTTP/1.1\r\n" + headers + "\r\n" }

	tests := []struct {
		name, host, req string
		status          int
		code            string
	}{
		// DNS rebinding: the attacker's name, resolved to 127.0.0.1.
		{"rebinding: the page", "rebind.attacker.example:" + port, getReq("/", ""), 403, "FORBIDDEN"},
		{"rebinding: its data", "rebind.attacker.example:" + port, getReq("/_inbox/notifications", ""), 403, "FORBIDDEN"},
		{"rebinding: the stream", "rebind.attacker.example:" + port, getReq("/_inbox/stream", ""), 403, "FORBIDDEN"},
		{"rebinding: a control's JSON", "rebind.attacker.example:" + port, getReq("/_fake/notifications", ""), 403, "FORBIDDEN"},
		{"rebinding: a control", "rebind.attacker.example", post("/_fake/reset", "Content-Type: application/json\r\n", "{}"), 403, "FORBIDDEN"},
		{"rebinding: an address that is not loopback", "192.168.1.20:" + port, getReq("/_fake/requests", ""), 403, "FORBIDDEN"},
		// A cross-origin form or fetch: an Origin that is not the fake's.
		{"a form's POST", self, post("/_fake/reset", "Origin: https://attacker.example\r\nContent-Type: application/x-www-form-urlencoded\r\n", "a=b"), 403, "FORBIDDEN"},
		{"a no-cors fetch", self, post("/_fake/notifications/"+id+"/fail", "Origin: https://attacker.example\r\nSec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: no-cors\r\n", ""), 403, "FORBIDDEN"},
		{"another port of localhost", self, post("/_fake/faults", "Origin: http://127.0.0.1:3000\r\nSec-Fetch-Site: same-site\r\nContent-Type: application/json\r\n", `{"status":503}`), 403, "FORBIDDEN"},
		{"a sandboxed frame", self, post("/_fake/advance", "Origin: null\r\n", ""), 403, "FORBIDDEN"},
		{"another site reading data", self, getReq("/_fake/notifications", "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: cors\r\n"), 403, "FORBIDDEN"},
		{"another site loading the stream", self, getReq("/_inbox/stream", "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: cors\r\n"), 403, "FORBIDDEN"},
		{"another site framing an email", self, getReq("/_inbox/notifications/"+id, "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Dest: iframe\r\nSec-Fetch-Mode: navigate\r\n"), 403, "FORBIDDEN"},
		// A simple request without Origin still has a body type a page can send.
		{"text/plain", self, post("/_fake/reset", "Content-Type: text/plain\r\n", "{}"), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"a form's type", self, post("/_fake/reset", "Content-Type: application/x-www-form-urlencoded\r\n", "{}"), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"multipart", self, post("/_fake/faults", "Content-Type: multipart/form-data; boundary=x\r\n", "--x--"), 415, "UNSUPPORTED_MEDIA_TYPE"},
		{"no valid type", self, post("/_fake/reset", "Content-Type: ;;\r\n", "{}"), 415, "UNSUPPORTED_MEDIA_TYPE"},
	}
	for _, tt := range tests {
		resp, body := raw(t, srv, tt.host, tt.req)
		assert.Equal(t, tt.status, resp.StatusCode, "%s: %s", tt.name, body)
		assert.Contains(t, body, `"code":"`+tt.code+`"`, tt.name)
		assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"), tt.name)
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), tt.name)
	}
	n, ok := srv.Notification(id)
	require.True(t, ok, "not reset")
	assert.Equal(t, sendivent.StatusRunning, n.Status, "not failed")
	assert.Empty(t, srv.PendingFaults(), "no fault queued")

	// What the page itself, and programs, send.
	allowed := []struct{ name, host, req string }{
		{"a visit of the page, typed", "localhost:" + port, getReq("/", "Sec-Fetch-Site: none\r\nSec-Fetch-Mode: navigate\r\n")},
		{"a visit of the page, from a link elsewhere", self, getReq("/", "Sec-Fetch-Site: cross-site\r\nSec-Fetch-Mode: navigate\r\n")},
		{"the page's fetch", self, getReq("/_inbox/notifications", "Sec-Fetch-Site: same-origin\r\nSec-Fetch-Mode: cors\r\n")},
		{"the page's control", "localhost:" + port, post("/_fake/notifications/"+id+"/advance", "Origin: http://localhost:"+port+"\r\nSec-Fetch-Site: same-origin\r\nContent-Type: application/json\r\n", "{}")},
		{"IPv6 loopback", "[::1]:" + port, getReq("/_fake/notifications", "")},
		{"a name under .localhost", "inbox.localhost:" + port, getReq("/_inbox/notifications", "")},
		{"127.0.0.2", "127.0.0.2:" + port, getReq("/", "")},
		{"curl -X POST, no body", self, post("/_fake/notifications/"+id+"/advance", "", "")},
		{"JSON with a charset", self, post("/_fake/advance", "Content-Type: application/json; charset=utf-8\r\n", "{}")},
		{"health, from anywhere", "rebind.attacker.example", getReq("/_fake/health", "Origin: https://attacker.example\r\n")},
	}
	for _, tt := range allowed {
		resp, body := raw(t, srv, tt.host, tt.req)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", tt.name, body)
	}
	n, _ = srv.Notification(id)
	assert.Equal(t, sendivent.StatusCompleted, n.Status, "advanced three times")

	// The API is not the page's: its key guards it, and any Host reaches it.
	resp, body := raw(t, srv, "rebind.attacker.example", getReq("/v1/notifications/"+id, ""))
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, body)
	// No CORS: a preflight is granted nothing.
	resp, _ = raw(t, srv, self, "OPTIONS /_fake/reset HTTP/1.1\r\nOrigin: https://attacker.example\r\nAccess-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: content-type\r\n\r\n")
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Origin"))
	assert.Empty(t, resp.Header.Get("Access-Control-Allow-Methods"))
}

// Every answer of the page, its data and the controls says: do not sniff,
// do not frame, do not share with other origins.
func TestInboxGuardHeaders(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	self := strings.TrimPrefix(srv.URL, "http://")
	for _, path := range []string{"/", "/_inbox/app.js", "/_inbox/notifications", "/_fake/notifications", "/_fake/requests", "/_fake/nothing"} {
		resp, _ := raw(t, srv, self, "GET "+path+" HTTP/1.1\r\n\r\n")
		assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"), path)
		assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"), path)
		assert.Equal(t, "same-origin", resp.Header.Get("Cross-Origin-Resource-Policy"), path)
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'", path)
	}
}
