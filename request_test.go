package sendivent_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
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

// TestHostileHugeBody: a 2xx answer of 100 MB, streamed without end, is cut
// at the size cap with ErrTooLarge, and reading it costs about the cap, not
// the body. Not parallel, so that the allocation count is this call's.
func TestHostileHugeBody(t *testing.T) {
	const total = 100 << 20
	var written atomic.Int64
	done := make(chan struct{}, 2)
	chunk := []byte(strings.Repeat("a", 64<<10))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- struct{}{} }()
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"id":"`)
		for written.Load() < total {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return // the client hung up
			}
		}
	}))
	defer srv.Close()
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL))
	require.NoError(t, err)

	// Warm up the connection path so its one-time allocations do not count.
	_, _ = c.GetNotification(context.Background(), "warm-up")
	<-done
	written.Store(0)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err = hostileSend(context.Background(), c)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	<-done

	require.Error(t, err)
	assert.ErrorIs(t, err, sendivent.ErrTooLarge)
	var te *sendivent.TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusOK, te.StatusCode)
	assert.Len(t, te.Attempts, 1, "a body over the cap is not retried")
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("100 MB body: %v after %d MB written by the server, %.1f MB allocated, %v", err, written.Load()>>20, float64(alloc)/(1<<20), elapsed)
	limit := uint64(8 << 20) // about 4 MB are needed: the buffer doubles up to the 1 MiB cap
	if raceEnabled() {
		limit *= 2 // the race detector's allocator pads every allocation
	}
	assert.Less(t, alloc, limit, "bytes allocated while refusing a 100 MB body")
	assert.Less(t, written.Load(), int64(total), "the client stopped reading before the end")
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestHostileRetryAfter: absurd Retry-After values neither hang nor panic. A
// wait too long to honour is returned, not waited; one that cannot be read
// falls back to the backoff (0.5 s less up to 25% jitter for the first).
func TestHostileRetryAfter(t *testing.T) {
	t.Parallel()
	year := 365 * 24 * time.Hour
	tests := []struct {
		name, after string
		// wantAfter > 0: returned at once with this RetryAfter (± a minute);
		// 0: the backoff was waited, then the second answer returned.
		wantAfter time.Duration
	}{
		{"a year in seconds", "31536000", year},
		{"a year as an HTTP date", time.Now().Add(year).UTC().Format(http.TimeFormat), year},
		{"beyond int64 nanoseconds", "1e30", 100 * year},
		{"negative", "-5", 0},
		{"garbage", "garbage", 0},
		{"NaN", "NaN", 0},
		{"overflowing float", "1e400", 100 * year},
		{"blank", "   ", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				calls.Add(1)
				w.Header().Set("Retry-After", tt.after)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, `{"error":"unavailable"}`)
			}))
			defer srv.Close()
			// The backoff recorded is the client's decision; WithTimeScale
			// only shortens its wait on the wall clock.
			c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL), sendivent.WithMaxRetries(1),
				sendivent.WithTimeScale(100))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()

			start := time.Now()
			_, err = hostileSend(ctx, c)
			elapsed := time.Since(start)
			var ae *sendivent.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, http.StatusServiceUnavailable, ae.StatusCode)
			if tt.wantAfter > 0 {
				assert.Less(t, elapsed, time.Second, "not waited")
				assert.Len(t, ae.Attempts, 1)
				assert.InDelta(t, float64(tt.wantAfter), float64(ae.RetryAfter), float64(time.Minute), "RetryAfter %v", ae.RetryAfter)
				assert.EqualValues(t, 1, calls.Load())
				return
			}
			require.Len(t, ae.Attempts, 2, "retried once")
			assert.EqualValues(t, 2, calls.Load())
			w := ae.Attempts[0].Wait
			assert.True(t, w >= 375*time.Millisecond && w <= 500*time.Millisecond, "backoff %v", w)
			assert.Less(t, elapsed, 1500*time.Millisecond)
			assert.GreaterOrEqual(t, ae.RetryAfter, time.Duration(0))
		})
	}
}

// TestHostileRetryAfterPastDeadline: a readable Retry-After that would pass
// the context's deadline is not started: the error comes back at once.
func TestHostileRetryAfterPastDeadline(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Retry-After", "garbage")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL), sendivent.WithMaxRetries(1))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = hostileSend(ctx, c)
	assert.Less(t, time.Since(start), 150*time.Millisecond)
	var ae *sendivent.APIError
	require.ErrorAs(t, err, &ae)
	assert.Len(t, ae.Attempts, 1)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, sendivent.ErrServer)
}

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

func newAtkCtx() *atkCtx { return &atkCtx{done: make(chan struct{})} }

func (c *atkCtx) Deadline() (deadline time.Time, ok bool) { return }

func (c *atkCtx) Done() <-chan struct{} { return c.done }

func (c *atkCtx) Value(any) any { return nil }

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

// TestAttackRetryAfter: Retry-After values at their edges on 429, 503 and
// 409: negative, huge, dates past and future, two headers, NaN, lists,
// fractions. Property: a bad value is ignored (backoff applies); a wait
// longer than WithMaxRetryWait (2 s here) is not waited and is reported in
// RetryAfter; no wait passes the context's deadline; the error matches the
// status's sentinel; at most MaxRetries+1 requests.
func TestAttackRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	tests := []struct {
		name     string
		status   int
		after    []string
		attempts int           // requests the server sees
		atLeast  time.Duration // RetryAfter reported at least this
		within   time.Duration // the call ends within this
	}{
		{"429 negative", 429, []string{"-1"}, 2, 0, 3 * time.Second},
		{"429 a billion seconds", 429, []string{"1000000000"}, 1, 1e9 * time.Second, time.Second},
		{"429 twenty nines", 429, []string{"99999999999999999999"}, 1, 50 * 365 * 24 * time.Hour, time.Second},
		{"429 date in the past", 429, []string{now.Add(-time.Hour).Format(http.TimeFormat)}, 2, 0, time.Second},
		{"429 date in an hour", 429, []string{now.Add(time.Hour).Format(http.TimeFormat)}, 1, 59 * time.Minute, time.Second},
		{"429 year 9999", 429, []string{"Fri, 31 Dec 9999 23:59:59 GMT"}, 1, 50 * 365 * 24 * time.Hour, time.Second},
		{"503 two headers, 0 first", 503, []string{"0", "3600"}, 2, 0, time.Second},
		{"503 two headers, 3600 first", 503, []string{"3600", "0"}, 1, time.Hour, time.Second},
		{"409 0: in flight", 409, []string{"0"}, 2, 0, time.Second},
		{"409 none: a reused key", 409, nil, 1, 0, time.Second},
		{"429 NaN", 429, []string{"NaN"}, 2, 0, 3 * time.Second},
		{"429 a list", 429, []string{"1, 2"}, 2, 0, 3 * time.Second},
		{"429 a tiny fraction", 429, []string{"1e-300"}, 2, 0, time.Second},
		{"429 empty", 429, []string{""}, 2, 0, 3 * time.Second},
		{"429 hex", 429, []string{"0x10"}, 2, 0, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := make([]string, 0, 2*len(tt.after))
			for _, v := range tt.after {
				header = append(header, "Retry-After", v)
			}
			srv, n := atkStatic(t, tt.status, `{"error":"slow down"}`, header...)
			c := atkClient(t, srv.URL, sendivent.WithMaxRetryWait(2*time.Second), sendivent.WithTimeout(time.Second))
			took, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
			var ae *sendivent.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.status, ae.StatusCode)
			assert.EqualValues(t, tt.attempts, n.Load(), "requests")
			assert.GreaterOrEqual(t, ae.RetryAfter, tt.atLeast)
			assert.Less(t, took, tt.within)
			switch tt.status {
			case 429:
				assert.ErrorIs(t, err, sendivent.ErrRateLimited)
			case 503:
				assert.ErrorIs(t, err, sendivent.ErrServer)
			case 409:
				assert.ErrorIs(t, err, sendivent.ErrConflict)
				assert.Equal(t, tt.attempts > 1, ae.Temporary(), "Temporary agrees with the retry")
			}
		})
	}
}

// TestAttackRetryAfterMeetsDeadline: a Retry-After that fits under
// WithMaxRetryWait but not before the context's deadline, and a context
// cancelled during the wait. Property: no wait is started that cannot end
// in time; a cancel ends the wait at once; the error matches both the
// status's sentinel and the context's error.
func TestAttackRetryAfterMeetsDeadline(t *testing.T) {
	t.Parallel()
	srv, n := atkStatic(t, 429, `{}`, "Retry-After", "5")
	c := atkClient(t, srv.URL, sendivent.WithMaxRetries(3))
	took, err := atkCall(t, 3*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	assert.ErrorIs(t, err, sendivent.ErrRateLimited)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, 2*time.Second, "the 5 s wait is not begun")
	assert.EqualValues(t, 1, n.Load())

	srv, _ = atkStatic(t, 503, `{}`, "Retry-After", "3")
	c = atkClient(t, srv.URL, sendivent.WithMaxRetries(3), sendivent.WithTimeScale(1)) // the wait is what is cancelled
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err = atkSend(ctx, c)
	assert.ErrorIs(t, err, sendivent.ErrServer)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second, "the cancel ends the 3 s wait")
}

// TestAttackRetryAfterOverflow: a Retry-After too large for a float64
// ("1e400", 400 nines). Property: like "99999999999999999999", it means
// "not soon" (RetryAfter at the cap, not waited, not retried), rather than
// being ignored so that the backoff retries it within a second.
func TestAttackRetryAfterOverflow(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"1e400", strings.Repeat("9", 400)} {
		srv, n := atkStatic(t, 429, `{}`, "Retry-After", v)
		c := atkClient(t, srv.URL)
		_, err := atkSend(context.Background(), c)
		var ae *sendivent.APIError
		require.ErrorAs(t, err, &ae)
		assert.EqualValues(t, 1, n.Load(), "%.10s: not retried", v)
		assert.Greater(t, ae.RetryAfter, 24*time.Hour, "%.10s", v)
	}
}

// TestAttackEmptyAnswers: a 2xx with no body at all (a 204, or a 200 with
// Content-Length 0) is whole, not cut: it will be empty again. Property:
// Send fails at once with ErrMalformed and one attempt, and Wait returns
// at once rather than polling until WaitAtMost, as the issue asks for {}.
func TestAttackEmptyAnswers(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusOK, http.StatusNoContent} {
		srv, n := atkStatic(t, status, "")
		c := atkClient(t, srv.URL, sendivent.WithMaxRetries(2), sendivent.WithTimeout(time.Second))
		_, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
		assert.ErrorIs(t, err, sendivent.ErrMalformed)
		assert.EqualValues(t, 1, n.Load(), "%d: an empty answer is not retried", status)
		var te *sendivent.TransportError
		if assert.ErrorAs(t, err, &te) {
			assert.False(t, te.Temporary(), "%d: an empty answer will be empty again", status)
		}

		n.Store(0)
		took, err := atkCall(t, 4*time.Second, func(ctx context.Context) error {
			_, err := c.Wait(ctx, "n1", sendivent.PollEvery(50*time.Millisecond, 100*time.Millisecond))
			return err
		})
		var we *sendivent.WaitTimeoutError
		assert.False(t, errors.As(err, &we), "%d: Wait gives up at once, not at its deadline: %v after %v and %d requests", status, err, took, n.Load())
		assert.ErrorIs(t, err, sendivent.ErrMalformed)
	}
}

var (
	atkBombOnce sync.Once
	atkBomb     []byte
)

// atkGzipBomb is 64 MB of zeros, gzipped (about 64 KB): 64 times the cap.
func atkGzipBomb() []byte {
	atkBombOnce.Do(func() {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zeros := make([]byte, 1<<20)
		for i := 0; i < 64; i++ {
			_, _ = zw.Write(zeros)
		}
		_ = zw.Close()
		atkBomb = buf.Bytes()
	})
	return atkBomb
}

// TestAttackGzipBomb: answers sent with Content-Encoding: gzip that inflate
// to 64 MB. Property: a 2xx is cut at the size cap (ErrTooLarge, not
// retried), an error answer's body is cut at the cap; a caller's transport
// that did not ask for gzip gets ErrMalformed, not a decompression.
func TestAttackGzipBomb(t *testing.T) {
	t.Parallel()
	bomb := atkGzipBomb()
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(bomb)
		}))
		t.Cleanup(srv.Close)
		for name, hc := range map[string]*http.Client{
			"default":           nil,
			"caller, no gzip":   {Transport: &http.Transport{DisableCompression: true}},
			"caller, with gzip": {Transport: &http.Transport{}},
		} {
			opts := []sendivent.Option{sendivent.WithTimeout(5 * time.Second)}
			if hc != nil {
				opts = append(opts, sendivent.WithHTTPClient(hc))
				t.Cleanup(hc.CloseIdleConnections)
			}
			c := atkClient(t, srv.URL, opts...)
			took, err := atkCall(t, 20*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
			atkTyped(t, err)
			t.Logf("%d %s: %v (%v)", status, name, err, took)
			var ae *sendivent.APIError
			switch {
			case status >= 300:
				if assert.ErrorAs(t, err, &ae) {
					assert.LessOrEqual(t, len(ae.Body), sendivent.DefaultMaxResponseBytes)
				}
			case name == "caller, no gzip":
				assert.ErrorIs(t, err, sendivent.ErrMalformed)
			default:
				assert.ErrorIs(t, err, sendivent.ErrTooLarge)
				assert.Equal(t, 1, atkAttempts(err))
			}
		}
	}
}

// TestRetryAfterStampede: 64 clients told "Retry-After: 1" at once do not
// come back at once: each waits at least the second it was told, and they
// spread over a quarter of one. The client's time runs 10 times faster
// (WithTimeScale), which changes none of its decisions: a second of it is
// 100 ms on the wall clock, where the spread is measured.
// TestE2ERateLimitedRetryAfterOneSecond waits a real second.
func TestRetryAfterStampede(t *testing.T) {
	t.Parallel()
	const scale = 10
	second := time.Second / scale
	srv := sendiventtest.New(t)
	srv.Inject(sendiventtest.FailNext(64, http.StatusTooManyRequests).WithRetryAfter("1"))
	c, err := sendivent.NewClient(srv.APIKey(), sendivent.WithBaseURL(srv.URL), sendivent.WithTimeScale(scale))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := hostileSend(context.Background(), c)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	first := map[string]time.Time{}
	var retries []time.Time
	for _, r := range srv.Requests(sendiventtest.EndpointSend) {
		if t0, ok := first[r.IdempotencyKey]; ok {
			assert.GreaterOrEqual(t, r.Time.Sub(t0), second, "never sooner than told")
			retries = append(retries, r.Time)
			continue
		}
		first[r.IdempotencyKey] = r.Time
	}
	require.Len(t, retries, 64)
	earliest, latest := retries[0], retries[0]
	for _, at := range retries {
		earliest, latest = minTime(earliest, at), maxTime(latest, at)
	}
	assert.Greater(t, latest.Sub(earliest), second/10, "the retries are spread, not a stampede")
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func TestE2ERateLimitedRetryAfterOneSecond(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer()
	defer srv.Close()
	srv.Inject(sendiventtest.FailNext(1, 429).WithRetryAfter("1"))
	c, err := sendivent.NewClient(srv.APIKey(), sendivent.WithBaseURL(srv.URL)) // real-time waits
	require.NoError(t, err)
	start := time.Now()
	res, err := c.Event("welcome").To(alice()...).Send(context.Background())
	elapsed := time.Since(start)
	require.NoError(t, err)
	assert.NotEmpty(t, res.ID)
	assert.GreaterOrEqual(t, elapsed, 950*time.Millisecond, "Retry-After: 1 is waited out")
	assert.Less(t, elapsed, 5*time.Second)
	assert.Len(t, srv.Notifications(), 1)
}
