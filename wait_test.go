package sendivent_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// TestAttackWatchAndWait: Watch and Wait against servers that never end,
// flap, switch protocols, refuse, or ask for a long Retry-After. Property:
// bounded by WaitAtMost or the context; breaking out of Watch stops the
// polls; an error that polling cannot fix ends the wait at once.
func TestAttackWatchAndWait(t *testing.T) {
	t.Parallel()
	var polls atomic.Int64
	flap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := []string{"running", "waiting"}[polls.Add(1)%2]
		fmt.Fprintf(w, `{"id":"n1","status":%q}`, status)
	}))
	t.Cleanup(flap.Close)
	c := atkClient(t, flap.URL)
	fast := sendivent.PollEvery(10*time.Millisecond, 20*time.Millisecond)

	start := time.Now()
	var states int
	var last error
	for n, err := range c.Watch(context.Background(), "n1", fast, sendivent.WaitAtMost(300*time.Millisecond)) {
		if n != nil {
			states++
		}
		last = err
	}
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Greater(t, states, 2, "each flap is a change")
	var we *sendivent.WaitTimeoutError
	assert.ErrorAs(t, last, &we, "the watch ends with the time-out")

	seen := 0
	for range c.Watch(context.Background(), "n1", fast) {
		if seen++; seen == 2 {
			break
		}
	}
	after := polls.Load()
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, after, polls.Load(), "no poll after the loop broke")

	up := atkRawServer(t, func(s *atkRaw, conn net.Conn, _ *http.Request) {
		_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
		s.hang()
	})
	c = atkClient(t, up.url)
	yields := 0
	for n, err := range c.Watch(context.Background(), "n1") {
		yields++
		assert.Nil(t, n)
		atkTyped(t, err)
	}
	assert.Equal(t, 1, yields)

	gone, n404 := atkStatic(t, http.StatusNotFound, `{"error":"no such notification"}`)
	c = atkClient(t, gone.URL)
	_, err := c.Wait(context.Background(), "n1")
	var ae *sendivent.APIError
	assert.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, sendivent.ErrNotFound)
	assert.EqualValues(t, 1, n404.Load())

	slow, _ := atkStatic(t, http.StatusTooManyRequests, `{}`, "Retry-After", "3600")
	c = atkClient(t, slow.URL)
	took, err := atkCall(t, 5*time.Second, func(ctx context.Context) error { _, err := c.Wait(ctx, "n1"); return err })
	assert.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, sendivent.ErrRateLimited)
	if assert.ErrorAs(t, err, &ae) {
		assert.Equal(t, time.Hour, ae.RetryAfter)
	}
	assert.Less(t, took, time.Second, "an hour's wait does not fit: give up at once")
}

func TestE2ESendWaitCompleted(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer()
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	res, err := c.Event("welcome").To(alice()...).Payload(sendivent.Payload{"company": "ACME"}).Send(ctx)
	require.NoError(t, err)
	assert.Equal(t, sendivent.SendAccepted, res.Status)
	assert.False(t, res.Replayed)

	n, err := c.Wait(ctx, res.ID, quick...)
	require.NoError(t, err)
	assert.Equal(t, sendivent.StatusCompleted, n.Status)
	assert.True(t, n.Delivered())
	require.NotNil(t, n.CompletedAt)
	require.Len(t, n.Messages, 1)
	assert.Equal(t, sendivent.ChannelEmail, n.Messages[0].Channel)

	reqs := srv.Requests(sendiventtest.EndpointSend)
	require.Len(t, reqs, 1)
	assert.Equal(t, res.IdempotencyKey, reqs[0].IdempotencyKey)
	assert.Equal(t, map[string]any{"company": "ACME"}, reqs[0].Body["payload"])
}

// Under the fake's fast client, WaitAtMost is counted in the client's time
// and the context's deadline in real time: which of them ends the wait can
// change from poll to poll. When WaitAtMost ends it, the error says so
// (Err nil), though the deadline was the nearer end at the first polls.
func TestWaitAtMostEndsAfterTheDeadlineWasNearer(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	defer srv.Close()
	c := srv.Client() // its waits last 1/1000 of their time
	res, err := c.Event("welcome").To(alice()...).Send(context.Background())
	require.NoError(t, err)

	// 90 s of real time is nearer than 5 min of the client's at first;
	// after four 1-minute waits (240 ms of real time), WaitAtMost is.
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	_, err = c.Wait(ctx, res.ID, sendivent.PollEvery(time.Minute, time.Minute), sendivent.WaitAtMost(5*time.Minute))
	var te *sendivent.WaitTimeoutError
	require.ErrorAs(t, err, &te)
	require.NoError(t, ctx.Err())
	assert.NoError(t, te.Err, "WaitAtMost ended the wait, not the context")
	assert.NotErrorIs(t, err, context.DeadlineExceeded)
}
