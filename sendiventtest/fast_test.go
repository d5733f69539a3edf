package sendiventtest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// fast is the wall-time bound of what the fake's clients do by default; the
// fake's own work in each case is a few milliseconds.
const fast = 100 * time.Millisecond

var alice = sendivent.Address("alice@example.com")

// realClient is a client of srv that waits in real time, as in production.
func realClient(t *testing.T, srv *sendiventtest.Server) *sendivent.Client {
	t.Helper()
	c, err := sendivent.NewClient(srv.APIKey(), sendivent.WithBaseURL(srv.URL))
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
		assert.Less(t, elapsed, fast)
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
		assert.Less(t, elapsed, fast)
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
		assert.Less(t, elapsed, fast)
		assert.Equal(t, sendivent.StatusCompleted, n.Status)
		assert.Equal(t, sendivent.MessageDelivered, n.Messages[0].Status)
	})
}

// The fast client makes the same attempts, with the same recorded waits and
// the same error, as a client that waits in real time.
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
		assert.Less(t, fastF.took, fast)
		assert.GreaterOrEqual(t, realF.took, 375*time.Millisecond+750*time.Millisecond)
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
		assert.Less(t, fastF.took, fast)
		assert.GreaterOrEqual(t, realF.took, 2*time.Second)
		want := []sendivent.Attempt{{StatusCode: 429, Wait: time.Second}, {StatusCode: 429, Wait: time.Second}, {StatusCode: 429}}
		assert.Equal(t, want, fastF.attempts)
		assert.Equal(t, want, realF.attempts)
		assert.Equal(t, realF.err.Error(), fastF.err.Error())
		var fe *sendivent.APIError
		require.True(t, errors.As(fastF.err, &fe))
		assert.Equal(t, time.Second, fe.RetryAfter)
		assert.ErrorIs(t, fastF.err, sendivent.ErrRateLimited)
	})
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
