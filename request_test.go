package sendivent

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/internal/clock"
)

// The attempt's bound, driven by hand: which ring cuts which attempt, and
// what the request's context says before, during and after a cut.
func TestAttemptBound(t *testing.T) {
	t.Parallel()
	cl := &call{}
	cl.begin(context.Background())
	cl.startAttempt(time.Hour)
	first := cl.seq
	done := cl.Done()
	require.NotNil(t, done)
	assert.False(t, cl.endAttempt(), "not cut")

	cl.startAttempt(time.Hour)
	cl.Ring(first) // the first attempt's alarm, late
	assert.NoError(t, cl.Err(), "a late ring does not cut a later attempt")

	cl.Ring(cl.seq)
	<-cl.Done()
	var at *attemptTimeout
	require.ErrorAs(t, context.Cause(cl), &at)
	assert.ErrorIs(t, context.Cause(cl), context.DeadlineExceeded)
	var ne net.Error
	require.ErrorAs(t, context.Cause(cl), &ne)
	assert.True(t, ne.Timeout())
	assert.True(t, cl.endAttempt(), "cut")
	assert.False(t, cl.endAttempt(), "told once")

	assert.NoError(t, cl.Err(), "between attempts the context is live again")
	cl.startAttempt(time.Hour)
	assert.NoError(t, cl.Err(), "the next attempt gets a fresh context")
	cl.Ring(cl.seq - 1)
	assert.NoError(t, cl.Err())
	cl.finish()
	assert.Nil(t, cl.alarm)
}

func TestAttemptBoundEndsWithTheCaller(t *testing.T) {
	t.Parallel()
	parent, cancel := context.WithCancelCause(context.Background())
	cl := &call{}
	cl.begin(parent)
	cl.startAttempt(time.Hour)
	boom := errors.New("caller gave up")
	cancel(boom)
	<-cl.Done()
	assert.ErrorIs(t, context.Cause(cl), boom)
	assert.False(t, cl.endAttempt(), "the caller's end is not a cut")
	assert.ErrorIs(t, cl.Err(), context.Canceled, "and stays ended")
	cl.finish()
}

// TestAttemptBoundUnderTheCallersDeadline: a caller's deadline that comes
// first bounds the attempt, and no alarm is set.
func TestAttemptBoundUnderTheCallersDeadline(t *testing.T) {
	t.Parallel()
	parent, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	cl := &call{}
	cl.begin(parent)
	cl.startAttempt(time.Hour)
	assert.Nil(t, cl.alarm)
	dl, ok := cl.Deadline()
	assert.True(t, ok)
	want, _ := parent.Deadline()
	assert.Equal(t, want, dl)
	cl.finish()
}

// afterFuncCtx is a caller's context of its own kind, which counts how
// many contexts hang off it.
type afterFuncCtx struct {
	context.Context
	mu         sync.Mutex
	registered int
}

func (c *afterFuncCtx) Done() <-chan struct{} { return make(chan struct{}) }

func (c *afterFuncCtx) AfterFunc(func()) func() bool {
	c.mu.Lock()
	c.registered++
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		c.registered--
		c.mu.Unlock()
		return true
	}
}

// TestCallsLeaveNothingOnTheCallersContext: a long-lived context used for
// many calls (a server's base context, say) does not collect one entry per
// call, whether the call succeeds, fails or retries.
func TestCallsLeaveNothingOnTheCallersContext(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(503, `{"error":"busy"}`), reply(200, acceptedJSON), reply(400, `{"error":"bad","field":"to"}`))
	h.c.http.HTTPClient.Transport = &transport{base: h.mt, timeout: time.Hour} // the harness's, bounded
	ctx := &afterFuncCtx{Context: context.Background()}
	for i := 0; i < 5; i++ {
		_, _ = h.c.Send(ctx, "welcome", SendRequest{To: []Recipient{Address("a@example.com")}})
		_, _ = h.c.GetNotification(ctx, "n1")
	}
	assert.Len(t, h.requests(), 11)
	ctx.mu.Lock()
	defer ctx.mu.Unlock()
	assert.Zero(t, ctx.registered)
}

// TestCutReportedAsCanceledByTheTransport: a caller's transport may report
// a cut attempt as a plain context.Canceled; the attempt still says it
// timed out, and is retried.
func TestCutReportedAsCanceledByTheTransport(t *testing.T) {
	t.Parallel()
	for _, retries := range []int{0, 1} {
		var mu sync.Mutex
		n := 0
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			n++
			first := n == 1
			mu.Unlock()
			if first {
				<-r.Context().Done()
				return nil, context.Canceled
			}
			return httpmock.NewStringResponse(200, acceptedJSON), nil
		})
		c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}),
			WithTimeout(20*time.Millisecond), WithMaxRetries(retries), withClock(clock.NewFake(time.Now())))
		require.NoError(t, err)
		res, err := c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{Address("a@example.com")}})
		if retries == 0 {
			var te *TransportError
			require.ErrorAs(t, err, &te)
			require.Len(t, te.Attempts, 1)
			var at *attemptTimeout
			assert.ErrorAs(t, te.Attempts[0].Err, &at)
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout())
			assert.NotErrorIs(t, err, context.Canceled, "the caller did not cancel")
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, "550e8400-e29b-41d4-a716-446655440000", res.ID)
		mu.Lock()
		assert.Equal(t, 2, n)
		mu.Unlock()
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestRedirectIsPartOfItsAttempt: the requests of a redirect share their
// attempt's bound, on every transport: two hops of 35 ms do not fit in
// 50 ms, and a hop cut while its body was read does not let the next one
// start afresh.
func TestRedirectIsPartOfItsAttempt(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow/v1/notifications/n1":
			time.Sleep(35 * time.Millisecond)
			http.Redirect(w, r, "/done", http.StatusFound)
		case "/stall/v1/notifications/n1":
			w.Header().Set("Location", "/done")
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusFound)
			_, _ = w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/done":
			time.Sleep(35 * time.Millisecond)
			_, _ = io.WriteString(w, `{"id":"n1","event":"welcome","status":"sent"}`)
		}
	}))
	defer srv.Close()
	defer close(release)
	for _, path := range []string{"/slow", "/stall"} {
		// The default transport; a caller's; a caller's with a Timeout.
		for _, own := range []time.Duration{-1, 0, time.Minute} {
			opts := []Option{WithBaseURL(srv.URL + path), WithTimeout(50 * time.Millisecond), WithMaxRetries(0)}
			if own >= 0 {
				opts = append(opts, WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: own}))
			}
			c, err := NewClient(testKey, opts...)
			require.NoError(t, err)
			start := time.Now()
			_, err = c.GetNotification(context.Background(), "n1")
			var ne net.Error
			require.ErrorAs(t, err, &ne, "%s, own client %v", path, own)
			assert.True(t, ne.Timeout(), "%s, own client %v: %v", path, own, err)
			assert.Less(t, time.Since(start), time.Second)
			c.CloseIdleConnections()
		}
	}
}
