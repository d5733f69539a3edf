package sendivent_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"go.uber.org/goleak"

	"github.com/sendivent/sendivent-go"
)

// TestAttackHangingPeers: peers that never finish an answer (slowloris
// bodies and status lines, 1xx storms, HTTP/1.0 without a length, a length
// that is never met, headers that never end). Property: every attempt ends
// within WithTimeout (200 ms), the call within its retries, with a
// *TransportError (or the *APIError of the status that did come) matching
// context.DeadlineExceeded; every attempt carries the same idempotency key;
// Wait ends at its context's deadline with a *WaitTimeoutError; nothing is
// left running afterwards. Not parallel, for the leak check.
//
// Each case's Wait runs against a server of its own, beside the send and
// under a 300 ms deadline; with SENDIVENT_LONG_TESTS it runs after the send,
// under a 1.5 s one, so that several of its polls meet the hanging peer.
func TestAttackHangingPeers(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	waitFor := 300 * time.Millisecond
	if long() {
		waitFor = 1500 * time.Millisecond
	}
	drip := func(head string, body string) func(*atkRaw, net.Conn, *http.Request) {
		return func(s *atkRaw, conn net.Conn, _ *http.Request) {
			_, _ = io.WriteString(conn, head)
			for i := 0; i < len(body) && s.sleep(time.Second); i++ {
				if _, err := conn.Write([]byte{body[i]}); err != nil {
					return
				}
			}
			s.hang()
		}
	}
	every := func(d time.Duration, head, chunk string) func(*atkRaw, net.Conn, *http.Request) {
		return func(s *atkRaw, conn net.Conn, _ *http.Request) {
			_, _ = io.WriteString(conn, head)
			for s.sleep(d) {
				if _, err := io.WriteString(conn, chunk); err != nil {
					return
				}
			}
		}
	}
	tests := []struct {
		name   string
		answer func(*atkRaw, net.Conn, *http.Request)
		status int // the status the SDK sees, 0 for none
	}{
		{"never answers", func(s *atkRaw, _ net.Conn, _ *http.Request) { s.hang() }, 0},
		{"status line 1 byte a second", drip("", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"), 0},
		{"body 1 byte a second", drip("HTTP/1.1 200 OK\r\nContent-Length: 83\r\n\r\n", atkAccepted), 200},
		{"503 body 1 byte a second", drip("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 83\r\n\r\n", atkAccepted), 503},
		{"HTTP/1.0 without length, then hang", drip("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"id\":\"", ""), 200},
		{"Content-Length bigger, then hang", drip("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"+atkAccepted, ""), 200},
		{"chunked, last chunk never comes", drip("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"id\"\r\n", ""), 200},
		{"100 Continue every 10 ms", every(10*time.Millisecond, "", "HTTP/1.1 100 Continue\r\n\r\n"), 0},
		{"103 Early Hints storm", every(time.Millisecond, "", "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"), 0},
		{"headers never end", every(5*time.Millisecond, "HTTP/1.1 200 OK\r\n", "X-Slow: a\r\n"), 0},
	}
	t.Run("group", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				send := func(c *sendivent.Client, srv *atkRaw) {
					took, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
					atkTyped(t, err)
					atkNoKeyInErr(t, err)
					assert.Less(t, took, 5*time.Second, "two attempts of 200 ms and one backoff")
					var ae *sendivent.APIError
					if !errors.As(err, &ae) { // an error answer is judged by its status, even cut short
						assert.ErrorIs(t, err, context.DeadlineExceeded, "an attempt cut by its bound")
					}
					assert.Equal(t, 2, atkAttempts(err), "one retry")
					assert.Equal(t, 1, srv.distinctKeys(), "every attempt of one send carries one key")
					if tt.status != 0 {
						var te *sendivent.TransportError
						if errors.As(err, &ae) {
							assert.Equal(t, tt.status, ae.StatusCode)
						} else if assert.ErrorAs(t, err, &te) {
							assert.Equal(t, tt.status, te.StatusCode)
						}
					}
				}
				wait := func(c *sendivent.Client) {
					took, err := atkCall(t, waitFor, func(ctx context.Context) error { _, err := c.Wait(ctx, "n1"); return err })
					var we *sendivent.WaitTimeoutError
					assert.ErrorAs(t, err, &we)
					assert.ErrorIs(t, err, context.DeadlineExceeded)
					assert.Less(t, took, waitFor+2500*time.Millisecond, "Wait ends at its context's deadline")
					atkNoKeyInErr(t, err)
				}

				srv := atkRawServer(t, tt.answer)
				c := atkClient(t, srv.url)
				if long() {
					send(c, srv)
					wait(c)
					return
				}
				waitSrv := atkRawServer(t, tt.answer) // its GETs carry no idempotency key
				waitClient := atkClient(t, waitSrv.url)
				var wg sync.WaitGroup
				wg.Add(1)
				go func() { defer wg.Done(); wait(waitClient) }()
				send(c, srv)
				wg.Wait()
			})
		}
	})
}

// TestAttackWireAnswers: answers that end, but are broken at the HTTP
// level: length lies, chunked encoding errors, odd status lines, a key in
// the status line, a connection closed or reset after the request.
// Property: a typed error, at most the retries' attempts, one idempotency
// key for all of them, no piece of the key, no panic.
func TestAttackWireAnswers(t *testing.T) {
	t.Parallel()
	reset := func(_ *atkRaw, conn net.Conn, _ *http.Request) {
		if tc, ok := conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // Close sends RST
		}
		conn.Close()
	}
	tests := []struct {
		name   string
		answer func(*atkRaw, net.Conn, *http.Request)
		ok     bool  // the send is accepted
		is     error // a sentinel the error must match
	}{
		{"Content-Length 2^62, short body", atkWrite("HTTP/1.1 200 OK\r\nContent-Length: 4611686018427387904\r\n\r\n{}"), false, nil},
		{"Content-Length smaller than the body", atkWrite("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n" + atkAccepted), false, sendivent.ErrMalformed},
		{"two Content-Lengths", atkWrite("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nContent-Length: 83\r\n\r\n" + atkAccepted), false, nil},
		{"negative Content-Length", atkWrite("HTTP/1.1 200 OK\r\nContent-Length: -85\r\n\r\n" + atkAccepted), false, nil},
		{"chunk size not hex", atkWrite("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"), false, nil},
		{"chunk size overflows", atkWrite("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\nabc\r\n0\r\n\r\n"), false, nil},
		{"chunk without its CRLF", atkWrite("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n"), false, nil},
		{"chunked, closed before the last chunk", atkWrite("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n"), false, nil},
		{"unknown transfer coding", atkWrite("HTTP/1.1 200 OK\r\nTransfer-Encoding: rot13, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"), false, nil},
		{"gzip that is not", atkWrite("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 83\r\n\r\n" + atkAccepted), false, nil},
		{"chunked and a Content-Length", atkWrite("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n53\r\n" + atkAccepted + "\r\n0\r\n\r\n"), true, nil},
		{"no reason phrase", atkWrite("HTTP/1.1 200\r\nContent-Length: 83\r\n\r\n" + atkAccepted), true, nil},
		{"status 099", atkWrite("HTTP/1.1 099 Low\r\nContent-Length: 0\r\n\r\n"), false, nil},
		{"status 000", atkWrite("HTTP/1.1 000 Zero\r\nContent-Length: 0\r\n\r\n"), false, nil},
		{"status 600", atkWrite("HTTP/1.1 600 High\r\nContent-Length: 0\r\n\r\n"), false, sendivent.ErrServer},
		{"status 999", atkWrite("HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n"), false, sendivent.ErrServer},
		{"status 2000", atkWrite("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n"), false, nil},
		{"HTTP/9.9 (net/http takes it)", atkWrite("HTTP/9.9 200 OK\r\nContent-Length: 83\r\n\r\n" + atkAccepted), true, nil},
		{"not HTTP", atkWrite("SSH-2.0-OpenSSH_9.6\r\n\r\n"), false, nil},
		{"the key as status line", atkWrite("HTTP/1.1 " + atkKey + "\r\n\r\n"), false, nil},
		{"the key as a header name", atkWrite("HTTP/1.1 200 OK\r\n" + atkKey + " x: y\r\n\r\n"), false, nil},
		{"empty answer", atkWrite(""), false, nil},
		{"closed after the request", func(*atkRaw, net.Conn, *http.Request) {}, false, nil},
		{"reset after the request", reset, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := atkRawServer(t, tt.answer)
			c := atkClient(t, srv.url, sendivent.WithLogger(nil))
			var res *sendivent.SendResponse
			took, err := atkCall(t, 10*time.Second, func(ctx context.Context) (err error) { res, err = atkSend(ctx, c); return err })
			assert.Less(t, took, 5*time.Second)
			assert.Equal(t, 1, srv.distinctKeys(), "one key for every attempt")
			if tt.ok {
				assert.NoError(t, err)
				if assert.NotNil(t, res) {
					assert.NotEmpty(t, res.ID)
				}
				return
			}
			atkTyped(t, err)
			atkNoKeyInErr(t, err)
			assert.Nil(t, res, "no response with a transport failure")
			assert.LessOrEqual(t, atkAttempts(err), 2)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			t.Logf("%d attempts: %v", atkAttempts(err), err)
		})
	}
}

// TestAttackContentLengthMaxInt64: "Content-Length: 9223372036854775807"
// parses (net/http accepts up to 2⁶³-1), and readBody sizes its buffer as
// ContentLength+1, which overflows. Property: a typed error, no panic.
func TestAttackContentLengthMaxInt64(t *testing.T) {
	t.Parallel()
	srv := atkRawServer(t, atkWrite("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n"+atkAccepted))
	c := atkClient(t, srv.url)
	for name, call := range map[string]func(context.Context) error{
		"send": func(ctx context.Context) error { _, err := atkSend(ctx, c); return err },
		"get":  func(ctx context.Context) error { _, err := c.GetNotification(ctx, "n1"); return err },
	} {
		_, err := atkCall(t, 5*time.Second, call)
		atkTyped(t, err)
		t.Logf("%s: %v", name, err)
	}
}

// TestAttack101KeyInReason: a 101 whose reason phrase is the key. Property:
// no piece of the key in the error, its attempts included.
func TestAttack101KeyInReason(t *testing.T) {
	t.Parallel()
	srv := atkRawServer(t, func(s *atkRaw, conn net.Conn, r *http.Request) {
		_, _ = io.WriteString(conn, "HTTP/1.1 101 "+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")+"\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
		s.hang()
	})
	c := atkClient(t, srv.url)
	took, err := atkCall(t, 5*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	atkTyped(t, err)
	assert.Less(t, took, 2*time.Second)
	atkNoKeyInErr(t, err)
}

// TestAttackHugeHeaders: an answer whose headers run to 12 MB. Property: a
// typed error once net/http's header cap is hit, in bounded time.
func TestAttackHugeHeaders(t *testing.T) {
	t.Parallel()
	srv := atkRawServer(t, func(s *atkRaw, conn net.Conn, _ *http.Request) {
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\n")
		line := "X-Big: " + strings.Repeat("a", 64<<10) + "\r\n"
		for i := 0; i < 12<<4; i++ {
			if _, err := io.WriteString(conn, line); err != nil {
				return
			}
		}
		_, _ = io.WriteString(conn, "Content-Length: 83\r\n\r\n"+atkAccepted)
	})
	c := atkClient(t, srv.url, sendivent.WithTimeout(5*time.Second), sendivent.WithMaxRetries(0))
	took, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	atkTyped(t, err)
	assert.Less(t, took, 6*time.Second)
	t.Logf("%v in %v", err, took)
}
