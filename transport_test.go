package sendivent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
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

// TestAttackCallerTransport: a caller's RoundTripper (WithHTTPClient) that
// breaks the contract in the ways net/http itself tolerates or reports.
// Property: a typed error (or the answer), no panic, no piece of the key.
func TestAttackCallerTransport(t *testing.T) {
	t.Parallel()
	resp := func(r *http.Request, status int, body string) *http.Response {
		return &http.Response{StatusCode: status, Status: fmt.Sprint(status), Header: http.Header{}, Request: r,
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	}
	tests := map[string]atkRT{
		"response and an error": func(r *http.Request) (*http.Response, error) { return resp(r, 200, atkAccepted), errors.New("both") },
		"error quoting the key": func(r *http.Request) (*http.Response, error) {
			return nil, fmt.Errorf("proxy refused %s", r.Header.Get("Authorization"))
		},
		"status 0":    func(r *http.Request) (*http.Response, error) { return resp(r, 0, atkAccepted), nil },
		"status -1":   func(r *http.Request) (*http.Response, error) { return resp(r, -1, atkAccepted), nil },
		"status 1000": func(r *http.Request) (*http.Response, error) { return resp(r, 1000, atkAccepted), nil },
		"endless body": func(r *http.Request) (*http.Response, error) {
			rs := resp(r, 200, "")
			rs.Body, rs.ContentLength = io.NopCloser(atkZeros{}), -1
			return rs, nil
		},
	}
	// ContentLength only sizes the buffer: the body is read to its end.
	answered := map[string]atkRT{
		"length -7": func(r *http.Request) (*http.Response, error) {
			rs := resp(r, 200, atkAccepted)
			rs.ContentLength = -7
			return rs, nil
		},
		"length too short": func(r *http.Request) (*http.Response, error) {
			rs := resp(r, 200, atkAccepted)
			rs.ContentLength = 3
			return rs, nil
		},
	}
	for name, rt := range answered {
		c := atkClient(t, "http://127.0.0.1:9", sendivent.WithHTTPClient(&http.Client{Transport: rt}))
		res, err := atkSend(context.Background(), c)
		if assert.NoError(t, err, name) {
			assert.NotEmpty(t, res.ID)
		}
	}
	for name, rt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := atkClient(t, "http://127.0.0.1:9", sendivent.WithHTTPClient(&http.Client{Transport: rt}))
			_, err := atkCall(t, 5*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
			atkTyped(t, err)
			atkNoKeyInErr(t, err)
			t.Logf("%v", err)
		})
	}
}

type atkZeros struct{}

func (atkZeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestAttackTransportNilResponse: a caller's transport that returns (nil,
// nil), and one that returns a response with a nil Body. net/http reports
// the first as an error and replaces the second with http.NoBody. Property:
// a typed error, or the answer, and no panic.
func TestAttackTransportNilResponse(t *testing.T) {
	t.Parallel()
	for name, rt := range map[string]atkRT{
		"nil, nil": func(*http.Request) (*http.Response, error) { return nil, nil },
		"nil body": func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 204, Header: http.Header{}, Request: r}, nil
		},
		"nil body, 500": func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 500, Header: http.Header{}, Request: r}, nil
		},
		"length 2^63-1": func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r, ContentLength: math.MaxInt64,
				Body: io.NopCloser(strings.NewReader(atkAccepted))}, nil
		},
	} {
		c := atkClient(t, "http://127.0.0.1:9", sendivent.WithHTTPClient(&http.Client{Transport: rt}))
		_, err := atkCall(t, 5*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
		t.Logf("%s: %v", name, err)
		if name == "length 2^63-1" && err == nil {
			continue // the answer, read whole: its real length is small
		}
		atkTyped(t, err)
	}
}

// TestAttackTransportReadErrorKey: a caller's transport whose 2xx body
// fails with an error that quotes the request's Authorization header.
// Property: no piece of the key in the error's attempts.
func TestAttackTransportReadErrorKey(t *testing.T) {
	t.Parallel()
	rt := atkRT(func(r *http.Request) (*http.Response, error) {
		body := io.MultiReader(strings.NewReader(`{"id":`), atkErrReader{fmt.Errorf("stream reset, request had %s", r.Header.Get("Authorization"))})
		return &http.Response{StatusCode: 200, Header: http.Header{}, Request: r, ContentLength: -1, Body: io.NopCloser(body)}, nil
	})
	c := atkClient(t, "http://127.0.0.1:9", sendivent.WithHTTPClient(&http.Client{Transport: rt}))
	_, err := atkSend(context.Background(), c)
	atkTyped(t, err)
	atkNoKeyInErr(t, err)
}

type atkErrReader struct{ err error }

func (r atkErrReader) Read([]byte) (int, error) { return 0, r.err }

// TestAttackTransportPanics: a caller's transport that panics. In Send
// the panic reaches the caller's goroutine, where it can recover it. This
// test records that; see TestAttackBatchPanic for SendBatch.
func TestAttackTransportPanics(t *testing.T) {
	t.Parallel()
	rt := atkRT(func(*http.Request) (*http.Response, error) { panic("transport bug") })
	c := atkClient(t, "http://127.0.0.1:9", sendivent.WithHTTPClient(&http.Client{Transport: rt}))
	assert.PanicsWithValue(t, "transport bug", func() { _, _ = atkSend(context.Background(), c) })
}

// TestAttackLimiters: a caller's limiter that blocks until the context
// ends, and one that refuses. Property: nothing is sent; the call ends
// with the context's deadline, or at once with the refusal, as a
// *TransportError keeping the cause.
func TestAttackLimiters(t *testing.T) {
	t.Parallel()
	srv, n := atkStatic(t, http.StatusOK, atkAccepted)
	block := atkLimiter(func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() })
	c := atkClient(t, srv.URL, sendivent.WithLimiter(block))
	took, err := atkCall(t, 300*time.Millisecond, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	var te *sendivent.TransportError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, 2*time.Second)
	assert.Empty(t, te.Attempts)

	refused := errors.New("budget gone")
	c = atkClient(t, srv.URL, sendivent.WithLimiter(atkLimiter(func(context.Context) error { return refused })))
	_, err = atkSend(context.Background(), c)
	assert.ErrorIs(t, err, refused)
	assert.ErrorAs(t, err, &te)

	// x/time/rate's own refusal when the wait would pass the deadline.
	c = atkClient(t, srv.URL, sendivent.WithRateLimit(0.1, 1))
	_, _ = atkSend(context.Background(), c) // spends the burst: the next turn is 10 s away
	took, err = atkCall(t, 3*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, 2*time.Second, "refused at once, not waited")
	assert.EqualValues(t, 1, n.Load())
}

// TestAttackRedirects: redirect loops, chains slower than the attempt's
// bound, 3xx without Location, redirects to another port, to another
// scheme, to https on a plain port. Property: a typed error in bounded
// time; a loop ends after at most 10 hops and is not retried; the key is
// never sent to another origin.
func TestAttackRedirects(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var stolen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stolen = append(stolen, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, atkAccepted)
	}))
	t.Cleanup(other.Close)
	var hops atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		kind := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
		self := "http://" + r.Host + r.URL.Path
		switch kind {
		case "loop302":
			http.Redirect(w, r, self, http.StatusFound)
		case "loop307":
			http.Redirect(w, r, self, http.StatusTemporaryRedirect)
		case "slow":
			time.Sleep(60 * time.Millisecond)
			http.Redirect(w, r, self, http.StatusTemporaryRedirect)
		case "nolocation":
			w.WriteHeader(http.StatusFound)
		case "badlocation":
			w.Header().Set("Location", "http://[::1")
			w.WriteHeader(http.StatusMovedPermanently)
		case "other307", "other308":
			code := http.StatusTemporaryRedirect
			if kind == "other308" {
				code = http.StatusPermanentRedirect
			}
			http.Redirect(w, r, other.URL+r.URL.Path, code)
		case "localhost":
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusTemporaryRedirect)
		case "ftp":
			http.Redirect(w, r, "ftp://127.0.0.1/x", http.StatusFound)
		case "https":
			http.Redirect(w, r, "https://"+r.Host+"/x", http.StatusTemporaryRedirect)
		}
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		kind     string
		ok       bool // the other server's answer is the result
		maxHops  int64
		attempts int
	}{
		{"loop302", false, 11, 1},
		{"loop307", false, 11, 1},
		{"slow", false, 16, 2}, // 60 ms a hop against a 200 ms bound: cut, and retried
		{"nolocation", false, 1, 1},
		{"badlocation", false, 2, 2}, // retried once: a parse error that will repeat (harmless)
		{"other307", true, 1, 1},
		{"other308", true, 1, 1},
		{"localhost", true, 1, 1},
		{"ftp", false, 1, 1},
		{"https", false, 2, 2}, // retried once: net/http hides the tls.RecordHeaderError (harmless)
	}
	for _, tt := range tests {
		hops.Store(0)
		// Only "slow" is about the attempt's bound; the others get one a
		// loaded machine under -race cannot reach in ten hops.
		bound := 5 * time.Second
		if tt.kind == "slow" {
			bound = 200 * time.Millisecond
		}
		c := atkClient(t, srv.URL+"/"+tt.kind, sendivent.WithTimeout(bound))
		res, err := atkSend(context.Background(), c)
		if tt.ok {
			if assert.NoError(t, err, tt.kind) {
				assert.NotEmpty(t, res.ID)
			}
		} else {
			atkTyped(t, err)
			atkNoKeyInErr(t, err)
			assert.Equal(t, tt.attempts, atkAttempts(err), "%s: %v", tt.kind, err)
		}
		assert.LessOrEqual(t, hops.Load(), tt.maxHops, tt.kind)
		t.Logf("%s: %d hops: %v", tt.kind, hops.Load(), err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range stolen {
		assert.Empty(t, a, "Authorization sent to another origin")
	}
	assert.Len(t, stolen, 3)
}

// atkRedirectChain redirects every request to a new path after 100 ms, and
// counts the hops.
func atkRedirectChain(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hops atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hops.Add(1)
		time.Sleep(100 * time.Millisecond)
		http.Redirect(w, r, fmt.Sprintf("/hop%d", n), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	return srv, &hops
}

// TestAttackRedirectChainBound: ten hops of 100 ms each under a 200 ms
// attempt bound. Property: the chain is cut at the attempt's bound, not
// given a fresh bound per hop.
func TestAttackRedirectChainBound(t *testing.T) {
	t.Parallel()
	srv, hops := atkRedirectChain(t)
	c := atkClient(t, srv.URL, sendivent.WithMaxRetries(0))
	took, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, 800*time.Millisecond, "10 hops would take 1 s")
	assert.LessOrEqual(t, hops.Load(), int64(4))
	var te *sendivent.TransportError
	assert.True(t, errors.As(err, &te) && te.Temporary())
}

// TestAttackRedirectChainBoundCallerTransport: the same chain through a
// caller's transport that does not set Response.Request (nothing in
// net/http's RoundTripper contract requires it; http.Client never reads
// it). Property: the chain is still cut at the attempt's bound.
func TestAttackRedirectChainBoundCallerTransport(t *testing.T) {
	t.Parallel()
	srv, hops := atkRedirectChain(t)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	rt := atkRT(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		if resp != nil {
			resp.Request = nil
		}
		return resp, err
	})
	c := atkClient(t, srv.URL, sendivent.WithMaxRetries(0), sendivent.WithHTTPClient(&http.Client{Transport: rt}))
	took, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	atkTyped(t, err)
	assert.Less(t, took, 800*time.Millisecond, "the attempt's bound is 200 ms; 10 hops take 1 s: %v", err)
	assert.LessOrEqual(t, hops.Load(), int64(4))
}

const hostileAccepted = `{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`

// TestHostileNeverAnswers: a server that takes the request and never answers
// is bounded by the per-attempt timeout.
func TestHostileNeverAnswers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL),
		sendivent.WithTimeout(100*time.Millisecond), sendivent.WithMaxRetries(0))
	require.NoError(t, err)

	start := time.Now()
	_, err = hostileSend(context.Background(), c)
	elapsed := time.Since(start)
	require.Error(t, err)
	t.Logf("never answers: %v after %v", err, elapsed)
	assert.Less(t, elapsed, time.Second)
	var te *sendivent.TransportError
	require.ErrorAs(t, err, &te)
	assert.Zero(t, te.StatusCode)
	var ne net.Error
	require.ErrorAs(t, err, &ne, "the cause is a net.Error")
	assert.True(t, ne.Timeout(), "the cause is a time-out: %v", ne)
}

// authRecorder is a server that records the Authorization header of every
// request it gets and accepts the send.
type authRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newAuthRecorder(t *testing.T) *authRecorder {
	ar := &authRecorder{}
	ar.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		ar.mu.Lock()
		ar.auth = append(ar.auth, r.Header.Get("Authorization"))
		ar.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, hostileAccepted)
	}))
	t.Cleanup(ar.Close)
	return ar
}

func (ar *authRecorder) seen() []string {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return append([]string(nil), ar.auth...)
}

// TestHostileRedirectKeepsKey: a 307 to another host never carries the key.
func TestHostileRedirectKeepsKey(t *testing.T) {
	t.Parallel()
	const key = "test_redirectsecret"
	tests := []struct {
		name string
		// target returns the redirect's host:port for the second server,
		// and the client options that can reach it there.
		target func(t *testing.T, second *authRecorder) (string, []sendivent.Option)
	}{
		{"another host name", func(t *testing.T, second *authRecorder) (string, []sendivent.Option) {
			_, port, err := net.SplitHostPort(second.Listener.Addr().String())
			require.NoError(t, err)
			return "localhost:" + port, nil
		}},
		{"another domain", func(t *testing.T, second *authRecorder) (string, []sendivent.Option) {
			addr := second.Listener.Addr().String()
			tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
				if a == "attacker.example:80" {
					a = addr
				}
				return (&net.Dialer{}).DialContext(ctx, network, a)
			}}
			t.Cleanup(tr.CloseIdleConnections)
			return "attacker.example", []sendivent.Option{sendivent.WithHTTPClient(&http.Client{Transport: tr})}
		}},
		{"same host, another port", func(t *testing.T, second *authRecorder) (string, []sendivent.Option) {
			return second.Listener.Addr().String(), nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			second := newAuthRecorder(t)
			target, opts := tt.target(t, second)
			var firstAuth atomic.Value
			first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				firstAuth.Store(r.Header.Get("Authorization"))
				http.Redirect(w, r, "http://"+target+r.URL.Path, http.StatusTemporaryRedirect)
			}))
			defer first.Close()
			c, err := sendivent.NewClient(key, append([]sendivent.Option{sendivent.WithBaseURL(first.URL), sendivent.WithMaxRetries(0)}, opts...)...)
			require.NoError(t, err)
			_, err = hostileSend(context.Background(), c)
			assert.Equal(t, "Bearer "+key, firstAuth.Load(), "the first server is the configured one")
			seen := second.seen()
			t.Logf("307 to %s: err=%v, second server saw %d requests", target, err, len(seen))
			for _, a := range seen {
				assert.Empty(t, a, "Authorization sent to the redirect's target")
			}
		})
	}
}

// TestSwitchingProtocolsDoesNotHang: a 101 answer hands over the raw
// connection as the body; nothing would ever end a read of it. Send and
// Wait end at once with an error, within the attempt's bound and the
// context's.
func TestSwitchingProtocolsDoesNotHang(t *testing.T) {
	t.Parallel()
	// A raw TCP server (net/http's would not do this) that switches
	// protocols, then holds the connection open until the test ends.
	url := atkRawServer(t, func(s *atkRaw, conn net.Conn, _ *http.Request) {
		_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		s.hang()
	}).url
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(url), sendivent.WithTimeout(2*time.Second))
	require.NoError(t, err)
	tests := []struct {
		name string
		call func(context.Context) error
	}{
		{"send", func(ctx context.Context) error { _, err := hostileSend(ctx, c); return err }},
		{"wait", func(ctx context.Context) error { _, err := c.Wait(ctx, "n1"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			err := tt.call(ctx)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "101")
			var te *sendivent.TransportError
			require.ErrorAs(t, err, &te)
			assert.Len(t, te.Attempts, 1, "not retried: a server that switches protocols does so again")
			assert.Less(t, time.Since(start), time.Second, "ended at once, not at a bound")
		})
	}
}

// TestCallersCheckRedirectKeepsTheKeyHome: a caller's own CheckRedirect
// (here one that allows everything) cannot send the key to another origin:
// the SDK strips it first.
func TestCallersCheckRedirectKeepsTheKeyHome(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var stolen []string
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stolen = append(stolen, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = io.WriteString(w, hostileAccepted)
	}))
	defer thief.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	hops := 0
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { hops++; return nil }}
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(api.URL), sendivent.WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = hostileSend(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, 1, hops, "the caller's policy still runs")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{""}, stolen, "no Authorization at the other origin")
}

// TestLimiterRefusalIsNotAnAttempt: a limiter that refuses keeps its cause,
// sends nothing and is not retried.
func TestLimiterRefusalIsNotAnAttempt(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	refused := errors.New("shared budget unavailable")
	c := srv.Client(sendivent.WithLimiter(limiterFunc(func(context.Context) error { return refused })))
	_, err := hostileSend(context.Background(), c)
	require.ErrorIs(t, err, refused)
	var te *sendivent.TransportError
	require.ErrorAs(t, err, &te)
	assert.Empty(t, te.Attempts)
	assert.Empty(t, srv.Requests(sendiventtest.EndpointAll))
}

type limiterFunc func(context.Context) error

func (f limiterFunc) Wait(ctx context.Context) error { return f(ctx) }

// atkLimiter is a caller's Limiter made of a function.
type atkLimiter func(context.Context) error

func (f atkLimiter) Wait(ctx context.Context) error { return f(ctx) }
