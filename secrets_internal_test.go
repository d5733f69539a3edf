package sendivent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReviewKeyIn101StatusText: the reason phrase of a 101 is the server's
// text; a hostile server can put the key there. handle stores that text in
// Attempt.Err unscrubbed (the TransportError's own Err is scrubbed, its
// Attempts are not).
func TestKeyIn101StatusText(t *testing.T) {
	t.Parallel()
	const key = "test_Zq9vXw2S3cr3tK3yAbCdEfGh1234"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		req, err := http.ReadRequest(bufio.NewReader(conn))
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		auth := strings.TrimPrefix(req.Header.Get("Authorization"), "Bearer ")
		_, _ = io.WriteString(conn, "HTTP/1.1 101 "+auth+"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		_, _ = io.Copy(io.Discard, conn) // until the SDK closes it
	}()
	c, err := NewClient(key, WithBaseURL("http://"+ln.Addr().String()))
	require.NoError(t, err)
	_, err = c.GetNotification(context.Background(), "n1")
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.NotContains(t, te.Error(), key[5:13])
	require.Len(t, te.Attempts, 1)
	require.Error(t, te.Attempts[0].Err)
	var pieces []string
	for i := 0; i+8 <= len(key); i++ {
		if s := te.Attempts[0].Err.Error(); strings.Contains(s, key[i:i+8]) {
			pieces = append(pieces, key[i:i+8])
		}
	}
	assert.Empty(t, pieces, "pieces of the key in Attempts[0].Err: %s", te.Attempts[0].Err)
	c.CloseIdleConnections()
}

// TestReviewUnknownPrefixKeyPiece: the error for a key with an unknown
// prefix shows it through redact.Key, which keeps everything up to a '_'
// at index 7: 8 characters of the key, the length the issue calls a leak.
func TestUnknownPrefixKeyPiece(t *testing.T) {
	t.Parallel()
	const key = "abcdefg_0123456789secret"
	_, err := NewClient(key)
	require.Error(t, err)
	for i := 0; i+8 <= len(key); i++ {
		if strings.Contains(err.Error(), key[i:i+8]) {
			t.Errorf("%q holds %q, 8 characters of the key", err.Error(), key[i:i+8])
		}
	}
}

// TestReviewKeyCutInsideTheKey strengthens TestKeyPiecesScrubbed for hole
// 3(a): there the key sits at bytes 59–92 of the quoted message and the
// server cuts at 100–140, so every cut keeps the whole key and a scrub of
// the whole key passes. Here the cut falls inside the key, and the quote
// is long enough that the SDK's own 120-byte excerpt cuts it too.
func TestKeyCutInsideTheKey(t *testing.T) {
	t.Parallel()
	const key = "test_Zq9vXw2S3cr3tK3yAbCdEfGh1234"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cut, _ := strconv.Atoi(r.URL.Query().Get("cut"))
		pad := r.URL.Query().Get("pad")
		msg := pad + "you sent Authorization: " + r.Header.Get("Authorization") + " which we refuse"
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, msg[:min(cut, len(msg))])
	}))
	defer srv.Close()
	for _, tt := range []struct{ cut, pad int }{{45, 0}, {50, 0}, {60, 0}, {1000, 75}, {1000, 80}} {
		rt := httpRewrite{base: http.DefaultTransport, query: fmt.Sprintf("cut=%d&pad=%s", tt.cut, strings.Repeat("x", tt.pad))}
		c, err := NewClient(key, WithBaseURL(srv.URL), WithMaxRetries(0), WithHTTPClient(&http.Client{Transport: rt}))
		require.NoError(t, err)
		_, err = c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{Address("a@example.com")}})
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		for _, s := range []string{err.Error(), apiErr.Message, string(apiErr.Body)} {
			for i := 0; i+8 <= len(key); i++ {
				if strings.Contains(s, key[i:i+8]) {
					t.Errorf("cut %d, pad %d: %q holds %q", tt.cut, tt.pad, s, key[i:i+8])
					break
				}
			}
		}
	}
}

// httpRewrite adds a query to each request: the test server reads its cut
// from there.
type httpRewrite struct {
	base  http.RoundTripper
	query string
}

func (h httpRewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.RawQuery = h.query
	return h.base.RoundTrip(r)
}
