package sendiventtest_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// A fast client is told apart from one that waits as in production by the
// wait the production client makes in the same case, at its shortest: the
// fake's own work is a few milliseconds, and a loaded machine lengthens
// both clients' calls alike; what it cannot do is make the fast client
// wait for the production client's time.
const (
	firstBackoff = 375 * time.Millisecond // 0.5 s less a quarter of jitter
	firstPoll    = time.Second            // Wait's first delay by default
)

var alice = sendivent.Address("alice@example.com")

// realClient is a client of srv that waits in real time, as in production,
// with SENDIVENT_LONG_TESTS; otherwise 10 times faster, which is still 100
// times slower than the fake's own clients and decides nothing differently
// (sendivent.WithTimeScale): the 429 case lasts 0.2 s instead of 2 s.
func realClient(t *testing.T, srv *sendiventtest.Server) *sendivent.Client {
	t.Helper()
	c, err := sendivent.NewClient(srv.APIKey(), sendivent.WithBaseURL(srv.URL),
		sendivent.WithTimeScale(float64(realScale())))
	require.NoError(t, err)
	return c
}

// failure is a send that failed: its error, attempts and wall time.
type failure struct {
	err      error
	attempts []sendivent.Attempt
	took     time.Duration
}

// attempts sends once, requires an *APIError, and returns the failure.
func attempts(t *testing.T, c *sendivent.Client) failure {
	t.Helper()
	start := time.Now()
	_, err := c.Event("welcome").To(alice).Send(context.Background())
	took := time.Since(start)
	var apiErr *sendivent.APIError
	require.ErrorAs(t, err, &apiErr)
	return failure{err: err, attempts: apiErr.Attempts, took: took}
}

func statuses(as []sendivent.Attempt) []int {
	out := make([]int, len(as))
	for i, a := range as {
		out[i] = a.StatusCode
	}
	return out
}

func TestClientIsFastByDefault(t *testing.T) {
	t.Parallel()
	t.Run("503 then success", func(t *testing.T) {
		t.Parallel()
		srv := sendiventtest.New(t)
		srv.Inject(sendiventtest.FailNext(1, http.StatusServiceUnavailable))
		start := time.Now()
		res, err := srv.Client().Event("welcome").To(alice).Send(context.Background())
		elapsed := time.Since(start)
		require.NoError(t, err)
		t.Logf("took %v", elapsed)
		assert.Less(t, elapsed, firstBackoff)
		sends := srv.Requests(sendiventtest.EndpointSend)
		require.Len(t, sends, 2)
		assert.Equal(t, []int{503, 200}, []int{sends[0].Status, sends[1].Status})
		assert.Equal(t, sends[0].IdempotencyKey, sends[1].IdempotencyKey)
		assert.Equal(t, []string{res.ID}, sends[1].Created)
	})
	t.Run("429 with Retry-After: 1 then success", func(t *testing.T) {
		t.Parallel()
		srv := sendiventtest.New(t)
		srv.Inject(sendiventtest.FailNext(1, http.StatusTooManyRequests).WithRetryAfter("1"))
		start := time.Now()
		_, err := srv.Client().Event("welcome").To(alice).Send(context.Background())
		elapsed := time.Since(start)
		require.NoError(t, err)
		t.Logf("took %v", elapsed)
		assert.Less(t, elapsed, time.Second, "Retry-After: 1 is not waited on the wall clock")
		assert.Equal(t, 1, srv.Stats().ByStatus[http.StatusTooManyRequests])
	})
	t.Run("Wait to completion", func(t *testing.T) {
		t.Parallel()
		srv := sendiventtest.New(t)
		c := srv.Client()
		start := time.Now()
		res, err := c.Event("welcome").To(alice).Send(context.Background())
		require.NoError(t, err)
		n, err := c.Wait(context.Background(), res.ID) // the SDK's default polling: 1 s, doubling
		elapsed := time.Since(start)
		require.NoError(t, err)
		t.Logf("took %v", elapsed)
		assert.Less(t, elapsed, firstPoll)
		assert.Equal(t, sendivent.StatusCompleted, n.Status)
		assert.Equal(t, sendivent.MessageDelivered, n.Messages[0].Status)
	})
}

// The fast client makes the same attempts, with the same recorded waits and
// the same error, as a client that waits in real time (see realClient).
func TestFastClientBehavesAsInProduction(t *testing.T) {
	t.Parallel()
	t.Run("503 every time", func(t *testing.T) {
		t.Parallel()
		run := func(client func(*sendiventtest.Server) *sendivent.Client) failure {
			srv := sendiventtest.New(t)
			srv.Inject(sendiventtest.FailNext(3, http.StatusServiceUnavailable))
			return attempts(t, client(srv))
		}
		fastF := run(func(s *sendiventtest.Server) *sendivent.Client { return s.Client() })
		realF := run(func(s *sendiventtest.Server) *sendivent.Client { return realClient(t, s) })
		t.Logf("fast client took %v, real-time client %v", fastF.took, realF.took)
		production := firstBackoff + 2*firstBackoff // the two backoffs at their shortest
		assert.Less(t, fastF.took, production)
		assert.GreaterOrEqual(t, realF.took, production/realScale())
		for _, f := range []failure{fastF, realF} {
			as := f.attempts
			require.Equal(t, []int{503, 503, 503}, statuses(as))
			// The backoff: 0.5 s·2ⁿ with up to a quarter off, none after the last.
			assert.InDelta(t, 437.5, float64(as[0].Wait.Milliseconds()), 62.5)
			assert.InDelta(t, 875, float64(as[1].Wait.Milliseconds()), 125)
			assert.Zero(t, as[2].Wait)
			assert.ErrorIs(t, f.err, sendivent.ErrServer)
		}
	})
	t.Run("429 with Retry-After: 1 every time", func(t *testing.T) {
		t.Parallel()
		run := func(client func(*sendiventtest.Server) *sendivent.Client) failure {
			srv := sendiventtest.New(t)
			srv.Inject(sendiventtest.FailNext(3, http.StatusTooManyRequests).WithRetryAfter("1"))
			return attempts(t, client(srv))
		}
		fastF := run(func(s *sendiventtest.Server) *sendivent.Client { return s.Client() })
		realF := run(func(s *sendiventtest.Server) *sendivent.Client { return realClient(t, s) })
		t.Logf("fast client took %v, real-time client %v", fastF.took, realF.took)
		production := 2 * time.Second // Retry-After: 1, twice
		assert.Less(t, fastF.took, production)
		assert.GreaterOrEqual(t, realF.took, production/realScale())
		for _, f := range []failure{fastF, realF} {
			as := f.attempts
			require.Equal(t, []int{429, 429, 429}, statuses(as))
			// Retry-After, plus up to a quarter more so that clients told
			// the same wait do not come back together; none after the last.
			for _, a := range as[:2] {
				assert.GreaterOrEqual(t, a.Wait, time.Second)
				assert.Less(t, a.Wait, 1250*time.Millisecond)
			}
			assert.Zero(t, as[2].Wait)
		}
		assert.Equal(t, realF.err.Error(), fastF.err.Error())
		var fe *sendivent.APIError
		require.True(t, errors.As(fastF.err, &fe))
		assert.Equal(t, time.Second, fe.RetryAfter)
		assert.ErrorIs(t, fastF.err, sendivent.ErrRateLimited)
	})
}

// realScale is how many times faster than production realClient waits.
func realScale() time.Duration {
	if os.Getenv("SENDIVENT_LONG_TESTS") == "" {
		return 10
	}
	return 1
}

func TestClientOptionsWin(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	srv.Inject(sendiventtest.FailNext(1, http.StatusServiceUnavailable))
	f := attempts(t, srv.Client(sendivent.WithMaxRetries(0)))
	assert.Equal(t, []int{503}, statuses(f.attempts))
}

func TestRealTime(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithTimeScale(1))
	srv.Inject(sendiventtest.FailNext(1, http.StatusServiceUnavailable).WithRetryAfter("0.2"))
	start := time.Now()
	_, err := srv.Client().Event("welcome").To(alice).Send(context.Background())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), 190*time.Millisecond, "Retry-After: 0.2 waited in full")
}

// A Wait step lasts its duration divided by the time scale.
func TestWaitStepIsScaled(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithTimeScale(600), // a minute lasts 100 ms
		sendiventtest.WithEvent("drip", sendiventtest.Send(sendivent.ChannelEmail),
			sendiventtest.Wait(time.Minute), sendiventtest.Send(sendivent.ChannelSMS)))
	c := srv.Client()
	ctx := context.Background()
	start := time.Now()
	res, err := c.Event("drip").To(sendivent.Contact{Email: "alice@example.com", Phone: "+46701234567"}).Send(ctx)
	require.NoError(t, err)
	var seen []sendivent.NotificationStatus
	var last *sendivent.Notification
	for n, err := range c.Watch(ctx, res.ID) {
		require.NoError(t, err)
		seen, last = append(seen, n.Status), n
	}
	elapsed := time.Since(start)
	assert.GreaterOrEqual(t, elapsed, 100*time.Millisecond)
	assert.Less(t, elapsed, 5*time.Second)
	assert.Contains(t, seen, sendivent.StatusWaiting)
	assert.Equal(t, sendivent.StatusCompleted, last.Status)
	require.Len(t, last.Messages, 2)
	assert.Equal(t, sendivent.ChannelSMS, last.Messages[1].Channel)
}

// TestTimeScaleBelowOneWaitsLonger: a fake whose time runs slower than the
// wall clock (WithTimeScale below 1, "sendivent fake --time-scale") makes
// a wait:1h step last longer, never shorter. 1h at 1e-12 is longer than a
// Duration holds; it wrapped to a negative wait, and the step ended at
// once.
func TestTimeScaleBelowOneWaitsLonger(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(
		sendiventtest.WithTimeScale(1e-12),
		sendiventtest.WithStepDelay(0),
		sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "drip",
			Steps: []sendiventtest.Step{sendiventtest.Send("email"), sendiventtest.Wait(time.Hour), sendiventtest.Send("sms")}}),
	)
	defer srv.Close()
	res, err := srv.Client().Event("drip").To(sendivent.Contact{Email: "ann@example.com", Phone: "+46701234567"}).Send(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	id := res.Notifications[0].ID
	status := func() sendivent.NotificationStatus {
		n, _ := srv.Notification(id)
		return n.Status
	}
	for end := time.Now().Add(30 * time.Second); status() != sendivent.StatusWaiting && status() != sendivent.StatusCompleted && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // what a zero wait would have ended
	if s := status(); s != sendivent.StatusWaiting {
		t.Errorf("status %s, want waiting", s)
	}
}
