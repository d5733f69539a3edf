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
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sendivent/sendivent-go"
)

// atkCalls are the public calls that go out on the wire, each run once.
func atkCalls(c *sendivent.Client) map[string]func(context.Context) error {
	return map[string]func(context.Context) error{
		"Send":            func(ctx context.Context) error { _, err := atkSend(ctx, c); return err },
		"GetNotification": func(ctx context.Context) error { _, err := c.GetNotification(ctx, "n1"); return err },
		"Cancel": func(ctx context.Context) error {
			_, err := c.Cancel(ctx, "welcome", sendivent.Address("alice@example.com"))
			return err
		},
		"Wait": func(ctx context.Context) error { _, err := c.Wait(ctx, "n1"); return err },
		"Watch": func(ctx context.Context) error {
			var last error
			for n, err := range c.Watch(ctx, "n1") {
				if n != nil {
					return errors.New("Watch yielded a state")
				}
				last = err
			}
			return last
		},
		"SendBatch": func(ctx context.Context) error {
			_, err := c.SendBatch(ctx, []sendivent.BatchItem{{Event: "welcome", Request: sendivent.SendRequest{
				To: []sendivent.Recipient{sendivent.Address("alice@example.com")}}}})
			return err
		},
	}
}

// TestAttackDeadContexts: a context already cancelled, or past its
// deadline, with and without a rate limiter. Property: nothing is sent;
// every call returns at once a typed error matching the context's error.
func TestAttackDeadContexts(t *testing.T) {
	t.Parallel()
	srv, n := atkStatic(t, http.StatusOK, atkAccepted)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Hour))
	defer cancel2()
	for _, limited := range []bool{false, true} {
		var opts []sendivent.Option
		if limited {
			opts = append(opts, sendivent.WithRateLimit(1, 1))
		}
		c := atkClient(t, srv.URL, opts...)
		for name, call := range atkCalls(c) {
			for ctxName, ctx := range map[string]context.Context{"cancelled": cancelled, "expired": expired} {
				start := time.Now()
				err := call(ctx)
				what := fmt.Sprintf("%s, %s, limiter %v", name, ctxName, limited)
				atkTyped(t, err)
				assert.ErrorIs(t, err, ctx.Err(), what)
				assert.Less(t, time.Since(start), time.Second, what)
			}
		}
	}
	assert.Zero(t, n.Load(), "nothing sent")
}

// atkCtx is a caller's own context type: its own Done channel, no
// deadline, cancelled by hand.
type atkCtx struct {
	done chan struct{}
	mu   sync.Mutex
	err  error
}

func newAtkCtx() *atkCtx                                  { return &atkCtx{done: make(chan struct{})} }
func (c *atkCtx) Deadline() (deadline time.Time, ok bool) { return }
func (c *atkCtx) Done() <-chan struct{}                   { return c.done }
func (c *atkCtx) Value(any) any                           { return nil }
func (c *atkCtx) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}
func (c *atkCtx) cancel() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = context.Canceled
		close(c.done)
	}
}

// TestAttackCustomContext: a caller's own context type, cancelled while a
// server holds every request unanswered (the attempt bound is 5 s, so only
// the cancel can end it). Property: each call ends within a second of the
// cancel with a typed error matching context.Canceled, and no goroutine is
// left behind (context.WithTimeout of a foreign context starts one). The
// calls run at once, each with its own context. Not parallel, for the leak
// check.
func TestAttackCustomContext(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	t.Run("calls", func(t *testing.T) {
		srv := atkRawServer(t, func(s *atkRaw, _ net.Conn, _ *http.Request) { s.hang() })
		c := atkClient(t, srv.url, sendivent.WithTimeout(5*time.Second))
		type ended struct {
			err  error
			took time.Duration
		}
		calls := atkCalls(c)
		done := make(map[string]chan ended, len(calls))
		for name, call := range calls {
			ctx := newAtkCtx()
			time.AfterFunc(200*time.Millisecond, ctx.cancel)
			done[name] = make(chan ended, 1)
			start := time.Now()
			go func() { err := call(ctx); done[name] <- ended{err, time.Since(start)} }()
		}
		for name, ch := range done {
			select {
			case e := <-ch:
				atkTyped(t, e.err)
				assert.ErrorIs(t, e.err, context.Canceled, name)
				assert.Less(t, e.took, 2*time.Second, name)
			case <-time.After(6 * time.Second):
				t.Fatalf("%s: HANG after the caller's context was cancelled", name)
			}
		}
	})
}

// TestAttackLyingContext: a context whose Deadline says 100 ms from now
// but whose Done never closes (a broken context, or a foreign one that
// enforces its deadline late). context.WithTimeout trusts the parent's
// earlier deadline and sets no timer of its own. Property: the attempt
// still ends at WithTimeout, as http.Client.Timeout's own timer would end it.
func TestAttackLyingContext(t *testing.T) {
	// Not fixed, on purpose: such a context breaks context.Context's own
	// contract (Done must close at the Deadline it reports), and every
	// context.WithTimeout trusts it; a timer of the SDK's own per attempt
	// would cost each request for a caller bug.
	t.Skip("won't fix: a context whose Done never closes at its own Deadline breaks context.Context's contract")
	t.Parallel()
	srv := atkRawServer(t, func(s *atkRaw, _ net.Conn, _ *http.Request) { s.hang() })
	c := atkClient(t, srv.url, sendivent.WithMaxRetries(0))
	ctx := &atkLyingCtx{atkCtx: newAtkCtx(), deadline: time.Now().Add(100 * time.Millisecond)}
	done := make(chan error, 1)
	go func() { _, err := atkSend(ctx, c); done <- err }()
	select {
	case err := <-done:
		atkTyped(t, err)
	case <-time.After(3 * time.Second):
		t.Errorf("HANG: the attempt outlived WithTimeout (200 ms) by 3 s")
		ctx.cancel()
		<-done
	}
}

type atkLyingCtx struct {
	*atkCtx
	deadline time.Time
}

func (c *atkLyingCtx) Deadline() (time.Time, bool) { return c.deadline, true }

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

// TestAttackNilReceivers: calls on a nil Client, through the builder, and
// on a nil builder. Property: an error of one of the five documented types
// ("A call's error is one of five types"), no panic.
func TestAttackNilReceivers(t *testing.T) {
	t.Parallel()
	var c *sendivent.Client
	_, err := atkCall(t, time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	atkTyped(t, err)
	var b *sendivent.EventBuilder
	_, err = atkCall(t, time.Second, func(ctx context.Context) error { _, err := b.Send(ctx); return err })
	atkTyped(t, err)
}

// TestAttackDotIDs: notification ids "." and ".." are path segments: a
// server or proxy that cleans paths turns GET /v1/notifications/.. into
// GET /v1/. Property: refused with a *ValidationError, as event names are.
func TestAttackDotIDs(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.RequestURI)
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	c := atkClient(t, srv.URL)
	for _, id := range []string{".", ".."} {
		_, err := c.GetNotification(context.Background(), id)
		var ve *sendivent.ValidationError
		assert.ErrorAs(t, err, &ve, "%q", id)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, seen)
}
