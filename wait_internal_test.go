package sendivent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/internal/clocktest"
)

// pollWorld is a fake service for the poller: state(now) says what the
// notification looks like at fake time now.
type pollWorld struct {
	t     *testing.T
	c     *Client
	clk   *clocktest.Fake
	start time.Time
	gets  atomic.Int32
}

// newPollWorld's client talks to state through an httpmock transport,
// given with WithHTTPClient; opts go after the world's own.
func newPollWorld(t *testing.T, jitter float64, state func(elapsed time.Duration, get int) (int, string), opts ...Option) *pollWorld {
	return newPollWorldAfter(t, jitter, "", state, opts...)
}

// newPollWorldAfter is newPollWorld with a Retry-After header of after on
// every answer that is not 2xx.
func newPollWorldAfter(t *testing.T, jitter float64, after string, state func(elapsed time.Duration, get int) (int, string), opts ...Option) *pollWorld {
	t.Helper()
	w := &pollWorld{t: t, clk: clocktest.NewFake(time.Now())}
	w.start = w.clk.Now()
	mt := httpmock.NewMockTransport()
	mt.RegisterRegexpResponder("GET", regexpNotifications, func(*http.Request) (*http.Response, error) {
		n := int(w.gets.Add(1))
		status, body := state(w.clk.Now().Sub(w.start), n)
		if status == 0 {
			return nil, errors.New("connection reset by peer")
		}
		resp := httpmock.NewStringResponse(status, body)
		if after != "" && status >= 300 {
			resp.Header.Set("Retry-After", after)
		}
		return resp, nil
	})
	c, err := NewClient("test_key", append([]Option{WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: mt}),
		withClock(w.clk), withJitter(func() float64 { return jitter })}, opts...)...)
	require.NoError(t, err)
	w.c = c
	return w
}

var regexpNotifications = mustRegexp(`^https://api\.test/v1/notifications/`)

func notificationJSON(status NotificationStatus, msgStatus MessageStatus, msgErr string) string {
	errJSON := "null"
	if msgErr != "" {
		errJSON = fmt.Sprintf("%q", msgErr)
	}
	return fmt.Sprintf(`{"id":"n1","event":"welcome","contact":{"email":"a@example.com"},"status":%q,
		"started_at":"2026-04-01T12:00:00.000Z","completed_at":null,
		"messages":[{"id":"m1","channel":"email","status":%q,"sent_at":null,"delivered_at":null,"error":%s}]}`,
		status, msgStatus, errJSON)
}

// completesAfter is a notification that runs until d has passed.
func completesAfter(d time.Duration) func(time.Duration, int) (int, string) {
	return func(elapsed time.Duration, _ int) (int, string) {
		if elapsed >= d {
			return 200, notificationJSON(StatusCompleted, MessageDelivered, "")
		}
		return 200, notificationJSON(StatusRunning, MessageQueued, "")
	}
}

func TestPollDelay(t *testing.T) {
	t.Parallel()
	min, max := time.Second, 30*time.Second
	tests := []struct {
		name   string
		jitter float64
		want   []time.Duration
	}{
		{"no jitter doubles to the cap", 0, []time.Duration{1, 2, 4, 8, 16, 30, 30}},
		{"full jitter takes a quarter off, never under min", 0.999999,
			[]time.Duration{1000, 1500, 3000, 6000, 12000, 22500, 22500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for i, w := range tt.want {
				got := pollDelay(i, min, max, tt.jitter)
				if tt.jitter == 0 {
					assert.Equal(t, w*time.Second, got, "delay %d", i)
				} else {
					assert.InDelta(t, float64(w*time.Millisecond), float64(got), float64(time.Millisecond), "delay %d", i)
				}
				assert.GreaterOrEqual(t, got, min)
				assert.LessOrEqual(t, got, max)
			}
		})
	}
	assert.Equal(t, max, pollDelay(200, min, max, 0), "huge attempt numbers do not overflow")
}

func TestWaitDelaysGrowWithinBoundsAndJitter(t *testing.T) {
	t.Parallel()
	var runs [][]time.Duration
	for _, j := range []float64{0, 0.5} {
		w := newPollWorld(t, j, completesAfter(5*time.Minute))
		n, err := w.c.Wait(context.Background(), "n1")
		require.NoError(t, err)
		assert.Equal(t, StatusCompleted, n.Status)
		sleeps := w.clk.Sleeps()
		for i, d := range sleeps {
			assert.GreaterOrEqual(t, d, DefaultPollMin)
			assert.LessOrEqual(t, d, DefaultPollMax)
			if i > 0 && sleeps[i-1] < DefaultPollMax*3/4 {
				assert.Greater(t, d, sleeps[i-1], "delay %d grows", i)
			}
		}
		runs = append(runs, sleeps)
	}
	assert.NotEqual(t, runs[0], runs[1], "jitter changes the delays")
}

func TestWaitAtMostTrimsTheLastSleep(t *testing.T) {
	t.Parallel()
	w := newPollWorld(t, 0, completesAfter(time.Hour))
	_, err := w.c.Wait(context.Background(), "n1", PollEvery(time.Second, 10*time.Second), WaitAtMost(time.Minute))
	var te *WaitTimeoutError
	require.ErrorAs(t, err, &te)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "WaitAtMost is not the context's deadline")
	require.NotNil(t, te.Last)
	assert.Equal(t, StatusRunning, te.Last.Status)
	assert.Equal(t, int(w.gets.Load()), te.Polls)

	sleeps := w.clk.Sleeps()
	var total time.Duration
	for _, d := range sleeps {
		total += d
	}
	assert.Less(t, total, time.Minute, "no sleep passes WaitAtMost")
	assert.Equal(t, time.Minute-minPollRoom, total, "the last sleep leaves the last poll its room: polls take no time here")
	assert.Equal(t, []time.Duration{1, 2, 4, 8, 10, 10, 10, 10}, secondsOf(sleeps[:8]))
	assert.Equal(t, len(sleeps)+1, te.Polls, "one poll before each sleep and one after the last")
}

// The last poll goes as late as it can: its room is twice the slowest poll
// so far, not the poll interval (which made "sendivent wait --timeout 2s"
// give up after 1 s).
func TestWaitLastPollRoomFollowsPollTime(t *testing.T) {
	t.Parallel()
	var w *pollWorld
	w = newPollWorld(t, 0, func(elapsed time.Duration, _ int) (int, string) {
		w.clk.Advance(300 * time.Millisecond) // each poll takes 300 ms
		return completesAfter(time.Hour)(elapsed, 0)
	})
	_, err := w.c.Wait(context.Background(), "n1", PollEvery(time.Second, 10*time.Second), WaitAtMost(3*time.Second))
	var te *WaitTimeoutError
	require.ErrorAs(t, err, &te)
	// Poll (to 0.3 s), sleep 1 s, poll (to 1.6 s): the next delay (2 s)
	// passes the end less the room (0.6 s: twice 300 ms), so the last sleep
	// is 0.8 s and the last poll ends at 2.7 s, before the end.
	assert.Equal(t, []time.Duration{time.Second, 800 * time.Millisecond}, w.clk.Sleeps())
	assert.Equal(t, 3, te.Polls)
}

func TestWaitStopsAtTheContextDeadline(t *testing.T) {
	t.Parallel()
	w := newPollWorld(t, 0, completesAfter(time.Hour))
	ctx, cancel := context.WithDeadline(context.Background(), w.clk.Now().Add(45*time.Second))
	defer cancel()
	_, err := w.c.Wait(ctx, "n1")
	var te *WaitTimeoutError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, StatusRunning, te.Last.Status)
	assert.Contains(t, err.Error(), "last status running")
	assert.True(t, w.clk.Now().Before(w.start.Add(45*time.Second)), "nothing sleeps past the deadline")
}

func TestWaitReturnsNonRetryableErrorsAtOnce(t *testing.T) {
	t.Parallel()
	for _, status := range []int{401, 403, 404} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			w := newPollWorld(t, 0, func(time.Duration, int) (int, string) {
				return status, `{"error":"nope"}`
			})
			n, err := w.c.Wait(context.Background(), "n1")
			assert.Nil(t, n)
			apiErr, ok := err.(*APIError)
			require.True(t, ok, "the *APIError itself, unwrapped: %T", err)
			assert.Equal(t, status, apiErr.StatusCode)
			assert.Equal(t, int32(1), w.gets.Load())
			assert.Empty(t, w.clk.Sleeps())
		})
	}
}

func TestWaitPollsThroughTransientErrors(t *testing.T) {
	t.Parallel()
	w := newPollWorld(t, 0, func(_ time.Duration, get int) (int, string) {
		switch {
		case get == 1:
			return 200, notificationJSON(StatusRunning, MessageQueued, "")
		case get <= 4: // the whole retry budget of one poll: 3 attempts
			return 503, `{"error":"unavailable"}`
		case get == 5:
			return 0, "" // connection error
		default:
			return 200, notificationJSON(StatusCompleted, MessageDelivered, "")
		}
	})
	n, err := w.c.Wait(context.Background(), "n1")
	require.NoError(t, err)
	assert.Equal(t, StatusCompleted, n.Status)
	assert.True(t, n.Delivered())
}

func TestWaitReturnsAFailedNotificationWithoutError(t *testing.T) {
	t.Parallel()
	w := newPollWorld(t, 0, func(time.Duration, int) (int, string) {
		return 200, notificationJSON(StatusFailed, MessageFailed, "mailbox unavailable")
	})
	n, err := w.c.Wait(context.Background(), "n1")
	require.NoError(t, err)
	assert.True(t, n.Failed())
	require.NotNil(t, n.FailedMessage())
	assert.Equal(t, "mailbox unavailable", n.FailedMessage().Error)
}

func TestWaitForCondition(t *testing.T) {
	t.Parallel()
	w := newPollWorld(t, 0, func(elapsed time.Duration, _ int) (int, string) {
		if elapsed >= 3*time.Second {
			return 200, notificationJSON(StatusRunning, MessageDelivered, "")
		}
		return 200, notificationJSON(StatusRunning, MessageSent, "")
	})
	emailDelivered := func(n *Notification) bool {
		m := n.Message(ChannelEmail)
		return m != nil && m.Status == MessageDelivered
	}
	n, err := w.c.WaitFor(context.Background(), "n1", emailDelivered)
	require.NoError(t, err)
	assert.Equal(t, MessageDelivered, n.Messages[0].Status)
	assert.Equal(t, StatusRunning, n.Status, "returns before the notification is terminal")
}

func TestWaitCancelledContext(t *testing.T) {
	t.Parallel()
	w := newPollWorld(t, 0, completesAfter(time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	var once sync.Once
	w.clk.OnSleep = func(time.Duration) { once.Do(cancel) }
	_, err := w.c.Wait(ctx, "n1")
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, context.DeadlineExceeded, "a cancel is not a time-out")
	var te *WaitTimeoutError
	require.ErrorAs(t, err, &te, "typed, with the last state seen")
	require.NotNil(t, te.Last)
	assert.Equal(t, StatusRunning, te.Last.Status)
}

func TestWaitEmptyID(t *testing.T) {
	t.Parallel()
	w := newPollWorld(t, 0, completesAfter(0))
	_, err := w.c.Wait(context.Background(), "")
	assert.ErrorIs(t, err, ErrValidation)
	assert.Zero(t, w.gets.Load())
}

func TestWatchYieldsEachChangeAndEnds(t *testing.T) {
	t.Parallel()
	w := newPollWorld(t, 0, func(elapsed time.Duration, _ int) (int, string) {
		switch {
		case elapsed < 3*time.Second:
			return 200, notificationJSON(StatusRunning, MessageQueued, "")
		case elapsed < 10*time.Second:
			return 200, notificationJSON(StatusRunning, MessageSent, "")
		default:
			return 200, notificationJSON(StatusCompleted, MessageDelivered, "")
		}
	})
	var seen []string
	for n, err := range w.c.Watch(context.Background(), "n1") {
		require.NoError(t, err)
		seen = append(seen, string(n.Status)+"/"+string(n.Messages[0].Status))
	}
	assert.Equal(t, []string{"running/queued", "running/sent", "completed/delivered"}, seen)
	assert.Greater(t, int(w.gets.Load()), 3, "unchanged polls are not yielded")
}

func TestWatchBreakStopsPolling(t *testing.T) {
	t.Parallel()
	w := newPollWorld(t, 0, completesAfter(time.Hour))
	for n, err := range w.c.Watch(context.Background(), "n1") {
		require.NoError(t, err)
		require.Equal(t, StatusRunning, n.Status)
		break
	}
	assert.Equal(t, int32(1), w.gets.Load(), "no request after the loop breaks")
	assert.Empty(t, w.clk.Sleeps())
}

func TestWatchYieldsTheEndingError(t *testing.T) {
	t.Parallel()
	w := newPollWorld(t, 0, func(_ time.Duration, get int) (int, string) {
		if get == 1 {
			return 200, notificationJSON(StatusRunning, MessageQueued, "")
		}
		return 404, `{"error":"Notification not found"}`
	})
	var errs []error
	states := 0
	for n, err := range w.c.Watch(context.Background(), "n1") {
		if err != nil {
			assert.Nil(t, n)
			errs = append(errs, err)
			continue
		}
		states++
	}
	assert.Equal(t, 1, states)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrNotFound)
}

// TestPollCost computes what following a notification costs with the
// default options: the figures quoted in the changelog and the issue note.
func TestPollCost(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		after    time.Duration
		min, max int // over every jitter draw: 0 (none) to 1 (a quarter off)
	}{
		{3 * time.Second, 3, 4},
		{30 * time.Second, 6, 7},
		{5 * time.Minute, 15, 19},
	} {
		for _, j := range []float64{0, 0.5, 0.999} {
			w := newPollWorld(t, j, completesAfter(tt.after))
			n, err := w.c.Wait(context.Background(), "n1")
			require.NoError(t, err)
			require.Equal(t, StatusCompleted, n.Status)
			polls := int(w.gets.Load())
			t.Logf("completes after %v, jitter %.2f: %d polls", tt.after, j, polls)
			assert.GreaterOrEqual(t, polls, tt.min, "after %v", tt.after)
			assert.LessOrEqual(t, polls, tt.max, "after %v", tt.after)
		}
	}
}

func secondsOf(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d / time.Second
	}
	return out
}

func mustRegexp(s string) *regexp.Regexp { return regexp.MustCompile(s) }

func TestWaitHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	// Retry-After 20 is over the client's cap of 10 s, so the poll's own
	// retries stop at once and the poller waits it out.
	w := newPollWorldAfter(t, 0, "20", func(_ time.Duration, get int) (int, string) {
		if get == 1 {
			return 429, `{"error":"Rate limit exceeded"}`
		}
		return 200, notificationJSON(StatusCompleted, MessageDelivered, "")
	}, WithMaxRetryWait(10*time.Second))
	n, err := w.c.Wait(context.Background(), "n1")
	require.NoError(t, err)
	assert.Equal(t, StatusCompleted, n.Status)
	sleeps := w.clk.Sleeps()
	require.NotEmpty(t, sleeps)
	assert.Equal(t, 20*time.Second, sleeps[len(sleeps)-1], "the poll waited as long as the service asked")
}

func TestWaitGivesUpAtOnceWhenRetryAfterPassesTheEnd(t *testing.T) {
	t.Parallel()
	w := newPollWorldAfter(t, 0, "3600", func(time.Duration, int) (int, string) { return 429, `{"error":"slow down"}` })
	_, err := w.c.Wait(context.Background(), "n1", WaitAtMost(time.Minute))
	var te *WaitTimeoutError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 1, te.Polls, "no poll is wasted on an answer asking for an hour")
	assert.ErrorIs(t, err, ErrRateLimited, "the last poll's error is kept")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, time.Hour, apiErr.RetryAfter)
	assert.Contains(t, err.Error(), "last poll: sendivent: 429")
}

func TestWaitStopsOnErrorsThatDoNotPass(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		maxBody int64
	}{
		{"wrong shape", `{"id":"n1","status":["running"]}`, DefaultMaxResponseBytes},
		{"too large", notificationJSON(StatusRunning, MessageQueued, ""), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newPollWorld(t, 0, func(time.Duration, int) (int, string) { return 200, tt.body }, WithMaxResponseBytes(tt.maxBody))
			_, err := w.c.Wait(context.Background(), "n1")
			var te *TransportError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, int32(1), w.gets.Load(), "neither a retry nor another poll")
		})
	}
}

func TestWaitNeverCutsShortAWaitTheServiceAskedFor(t *testing.T) {
	t.Parallel()
	w := newPollWorldAfter(t, 0, "59.5", func(time.Duration, int) (int, string) { return 429, `{"error":"slow down"}` },
		WithMaxRetryWait(time.Second))
	_, err := w.c.Wait(context.Background(), "n1", WaitAtMost(time.Minute))
	var te *WaitTimeoutError
	require.ErrorAs(t, err, &te)
	for _, d := range w.clk.Sleeps() {
		assert.GreaterOrEqual(t, d, 59500*time.Millisecond, "no sleep shorter than Retry-After")
	}
}

// Under WithTimeScale, Wait polls as often as in production: WaitAtMost is
// counted in the client's time, not in real time (the fake's fast client
// once polled 525 times in a second of WaitAtMost instead of about 10).
func TestWaitUnderTimeScalePollsAsInProduction(t *testing.T) {
	t.Parallel()
	running := func(time.Duration, int) (int, string) {
		return 200, notificationJSON(StatusRunning, MessageQueued, "")
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, s := running(0, 0)
		fmt.Fprint(w, s)
	}))
	t.Cleanup(ts.Close)
	tests := []struct {
		name             string
		min, max, atMost time.Duration
	}{
		{"PollEvery(100ms) for 1s", 100 * time.Millisecond, 100 * time.Millisecond, time.Second},
		{"doubling from 100ms for 1s", 100 * time.Millisecond, time.Second, time.Second},
		{"the defaults for 2 minutes", DefaultPollMin, DefaultPollMax, 2 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := []WaitOption{PollEvery(tt.min, tt.max), WaitAtMost(tt.atMost)}
			polls := func(c *Client) int {
				_, err := c.Wait(context.Background(), "n1", opts...)
				var te *WaitTimeoutError
				require.ErrorAs(t, err, &te)
				return te.Polls
			}
			production := polls(newPollWorld(t, 0, running).c)
			c, err := NewClient("test_key", WithBaseURL(ts.URL), WithTimeScale(1000), withJitter(func() float64 { return 0 }))
			require.NoError(t, err)
			scaled := polls(c)
			t.Logf("polls: %d in production, %d at a thousandth", production, scaled)
			assert.InDelta(t, production, scaled, 1)

			seen := 0
			for _, err := range c.Watch(context.Background(), "n1", opts...) {
				var te *WaitTimeoutError
				if errors.As(err, &te) {
					seen = te.Polls
				}
			}
			assert.InDelta(t, production, seen, 1, "Watch polls as Wait does")
		})
	}
}

func TestWithTimeScaleRefusesNonsense(t *testing.T) {
	t.Parallel()
	for _, f := range []float64{0, -1, math.NaN(), math.Inf(1), math.Inf(-1)} {
		_, err := NewClient("test_key", WithBaseURL("http://127.0.0.1:1"), WithTimeScale(f))
		assert.ErrorContains(t, err, "WithTimeScale", "factor %v", f)
	}
	_, err := NewClient("test_key", WithBaseURL("http://127.0.0.1:1"), WithTimeScale(1))
	assert.NoError(t, err)
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
