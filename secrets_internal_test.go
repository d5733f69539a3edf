package sendivent

// Review of the engine rewrite (issue 10): each test here fails on the
// reviewed code and names the finding it shows.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/internal/clocktest"
)

// trackedBody is a caller's transport's response body that records how the
// SDK uses it. io.Closer leaves a second Close undefined, and a Read after
// Close is a misuse.
type trackedBody struct {
	mu          sync.Mutex
	r           io.Reader
	closes      int
	readsClosed int
}

func (b *trackedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closes > 0 {
		b.readsClosed++
		return 0, errors.New("read on closed body")
	}
	return b.r.Read(p)
}

func (b *trackedBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closes++
	return nil
}

// TestReviewCallerBodyClosedOnce: the SDK closes each response body of a
// caller's transport once and never reads it after closing it. It closes
// it in handle, then retryablehttp's drainBody reads and closes it again
// before a retry, and do (success) or giveUp (failure) closes it once more.
func TestCallerBodyClosedOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []*trackedBody
	n := 0
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		status, text := http.StatusServiceUnavailable, `{"error":"busy"}`
		if n == 2 {
			status, text = http.StatusOK, acceptedJSON
		}
		b := &trackedBody{r: strings.NewReader(text)}
		bodies = append(bodies, b)
		return &http.Response{StatusCode: status, Header: http.Header{}, Body: b, ContentLength: -1, Request: r}, nil
	})
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}),
		withClock(clocktest.NewFake(time.Now())))
	require.NoError(t, err)
	_, err = c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{Address("a@example.com")}})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 2)
	for i, b := range bodies {
		assert.Equal(t, 1, b.closes, "body %d closed once", i)
		assert.Zero(t, b.readsClosed, "body %d not read after Close", i)
	}
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

// TestReviewWaitCanceledIsTyped: the package doc says a call's error is one
// of five types. A Wait whose context is canceled while it sleeps between
// polls returns a bare context.Canceled (wait.go, the sleep's error path),
// while one canceled during a poll returns a *TransportError.
func TestWaitCanceledIsTyped(t *testing.T) {
	t.Parallel()
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(`{"id":"n1","status":"running"}`)), ContentLength: -1, Request: r}, nil
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake := clocktest.NewFake(time.Now())
	fake.OnSleep = func(time.Duration) { cancel() } // the caller cancels during the first sleep
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}), withClock(fake))
	require.NoError(t, err)
	_, err = c.Wait(ctx, "n1")
	require.ErrorIs(t, err, context.Canceled)
	var (
		wte *WaitTimeoutError
		te  *TransportError
	)
	assert.True(t, errors.As(err, &wte) || errors.As(err, &te), "one of the five types, not %T", err)
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

// TestReviewBodyCutReportedAsCanceled: WithTimeout says a cut attempt's
// error matches context.DeadlineExceeded and not context.Canceled. The
// header phase is converted (checkRetry's attemptTimeout) but a body read
// cut by the bound, which a caller's transport reports as
// context.Canceled, is not: the old engine converted both.
func TestBodyCutReportedAsCanceled(t *testing.T) {
	t.Parallel()
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		ctx := r.Context()
		body := readerFunc(func([]byte) (int, error) {
			<-ctx.Done()
			return 0, context.Canceled
		})
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(body), ContentLength: -1, Request: r}, nil
	})
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}),
		WithTimeout(20*time.Millisecond), WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c.GetNotification(context.Background(), "n1")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, context.Canceled, "the caller did not cancel")
	var ne net.Error
	if assert.ErrorAs(t, err, &ne) {
		assert.True(t, ne.Timeout())
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

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

// TestReviewWaitRetryAfterHasJitter: issue 10 asks for jitter on top of a
// Retry-After (hole 7) and for one policy that Wait uses too. When a poll's
// Retry-After is over WithMaxRetryWait, the poll returns at once and Wait
// sleeps exactly the Retry-After (wait.go: d = max(d, asked)), without
// retry.AfterJitter: waiters told the same wait come back together.
func TestWaitRetryAfterHasJitter(t *testing.T) {
	t.Parallel()
	w := newPollWorldAfter(t, 0.5, "20", func(_ time.Duration, get int) (int, string) {
		if get == 1 {
			return 429, `{"error":"Rate limit exceeded"}`
		}
		return 200, notificationJSON(StatusCompleted, MessageDelivered, "")
	}, WithMaxRetryWait(10*time.Second))
	_, err := w.c.Wait(context.Background(), "n1")
	require.NoError(t, err)
	sleeps := w.clk.Sleeps()
	require.NotEmpty(t, sleeps)
	assert.Greater(t, sleeps[len(sleeps)-1], 20*time.Second, "a jitter on top of the 20 s asked (retry.AfterJitter gives 22.5 s at 0.5)")
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
