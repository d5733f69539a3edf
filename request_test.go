package sendivent

import (
	"context"
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

	"github.com/sendivent/sendivent-go/internal/clocktest"
)

// TestAttemptContextIsOrdinary: what a caller's transport receives is a
// plain context bounded by WithTimeout: a deadline, DeadlineExceeded when it
// passes, one Done channel, an Err that stays; and each attempt has its own.
func TestAttemptContextIsOrdinary(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []context.Context
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		ctx := r.Context()
		mu.Lock()
		seen = append(seen, ctx)
		first := len(seen) == 1
		mu.Unlock()
		if first {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return httpmock.NewStringResponse(200, acceptedJSON), nil
	})
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}),
		WithTimeout(30*time.Millisecond), withClock(clocktest.NewFake(time.Now())))
	require.NoError(t, err)
	start := time.Now()
	res, err := c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{Address("a@example.com")}})
	require.NoError(t, err)
	assert.Equal(t, "550e8400-e29b-41d4-a716-446655440000", res.ID)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 2)
	cut, next := seen[0], seen[1]
	dl, ok := cut.Deadline()
	require.True(t, ok, "a timed-out attempt's context has a deadline")
	assert.WithinDuration(t, start.Add(30*time.Millisecond), dl, 25*time.Millisecond)
	assert.Equal(t, context.DeadlineExceeded, cut.Err())
	assert.Equal(t, cut.Done(), cut.Done(), "one Done channel")
	select {
	case <-cut.Done():
	default:
		t.Fatal("Done is not closed")
	}
	assert.NotSame(t, cut, next, "the next attempt gets a context of its own")
	assert.Equal(t, context.DeadlineExceeded, cut.Err(), "an ended context stays ended")
	_, ok = next.Deadline()
	assert.True(t, ok)
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
	var once sync.Once
	stopped := false
	return func() bool { // as context.AfterFunc's: true the first time only
		once.Do(func() {
			c.mu.Lock()
			c.registered--
			c.mu.Unlock()
			stopped = true
		})
		return stopped
	}
}

// TestCallsLeaveNothingOnTheCallersContext: a long-lived context used for
// many calls (a server's base context, say) does not collect one entry per
// call, whether the call succeeds, fails or retries.
func TestCallsLeaveNothingOnTheCallersContext(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(503, `{"error":"busy"}`), reply(200, acceptedJSON), reply(400, `{"error":"bad","field":"to"}`))
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
			WithTimeout(20*time.Millisecond), WithMaxRetries(retries), withClock(clocktest.NewFake(time.Now())))
		require.NoError(t, err)
		res, err := c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{Address("a@example.com")}})
		if retries == 0 {
			var te *TransportError
			require.ErrorAs(t, err, &te)
			require.Len(t, te.Attempts, 1)
			assert.ErrorIs(t, te.Attempts[0].Err, context.DeadlineExceeded)
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
