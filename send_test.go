package sendivent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// End-to-end: the SDK against the fake server, through real HTTP.

var quick = []sendivent.WaitOption{sendivent.PollEvery(10*time.Millisecond, 50*time.Millisecond), sendivent.WaitAtMost(10 * time.Second)}

func alice() []sendivent.Recipient {
	return []sendivent.Recipient{sendivent.Address("alice@example.com")}
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

// The service does not document its answer to an array send. The fake
// answers a list; a proxy in front of it rewrites that list into the other
// shape the SDK reads, an object with a "notifications" array.
func TestE2EArraySendOneNotificationPerRecipient(t *testing.T) {
	t.Parallel()
	for _, shape := range []string{"list", "wrapped"} {
		t.Run(shape, func(t *testing.T) {
			t.Parallel()
			srv := sendiventtest.New(t)
			base, wrapped := srv.URL, new(atomic.Int32)
			if shape == "wrapped" {
				base = wrapArrayAnswers(t, srv.URL, wrapped)
			}
			c := srv.Client(sendivent.WithBaseURL(base))
			res, err := c.Send(context.Background(), "welcome", sendivent.SendRequest{
				To: []sendivent.Recipient{
					sendivent.Contact{Email: "alice@example.com", Name: "Alice"},
					sendivent.Contact{Email: "bob@example.com", Name: "Bob"},
				},
				Payload: sendivent.Payload{"company": "ACME"},
			})
			require.NoError(t, err)
			require.Len(t, res.Notifications, 2)
			assert.Equal(t, res.Notifications[0].ID, res.ID)
			created := srv.Notifications()
			require.Len(t, created, 2)
			for i, name := range []string{"Alice", "Bob"} {
				assert.Equal(t, created[i].ID, res.Notifications[i].ID, "request order")
				n, err := c.GetNotification(context.Background(), res.Notifications[i].ID)
				require.NoError(t, err)
				assert.Equal(t, name, n.Contact.Name)
			}
			if shape == "wrapped" {
				assert.EqualValues(t, 1, wrapped.Load(), "the send's answer was rewritten")
			}
		})
	}
}

// wrapArrayAnswers is a proxy to target that answers a JSON array as
// {"id", "event", "status" of the first, "notifications": the array}, and
// counts the answers it rewrote.
func wrapArrayAnswers(t *testing.T, target string, rewrote *atomic.Int32) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := httputil.NewSingleHostReverseProxy(u)
	p.ModifyResponse = func(r *http.Response) error {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return err
		}
		var list []map[string]any
		if json.Unmarshal(body, &list) == nil && len(list) > 0 {
			w := map[string]any{"id": list[0]["id"], "event": list[0]["event"], "status": list[0]["status"], "notifications": list}
			if body, err = json.Marshal(w); err != nil {
				return err
			}
			rewrote.Add(1)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	ts := httptest.NewServer(p)
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestE2EFailedMessage(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	defer srv.Close()
	c := srv.Client()
	res, err := c.Event("welcome").To(alice()...).Send(context.Background())
	require.NoError(t, err)
	require.NoError(t, srv.FailMessage(res.ID, "mailbox does not exist"))

	n, err := c.Wait(context.Background(), res.ID, quick...)
	require.NoError(t, err, "a failed notification is a result, not an error")
	assert.True(t, n.Failed())
	require.NotNil(t, n.FailedMessage())
	assert.Equal(t, "mailbox does not exist", n.FailedMessage().Error)
}

func TestE2ECancelWaitingSequence(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithEvent("drip",
		sendiventtest.Send(sendivent.ChannelEmail), sendiventtest.Wait(time.Hour), sendiventtest.Send(sendivent.ChannelSMS)))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	to := sendivent.Contact{Email: "alice@example.com", Phone: "+46701234567"}
	res, err := c.Event("drip").To(to).Send(ctx)
	require.NoError(t, err)

	// Wait in one goroutine while another cancels.
	done := make(chan *sendivent.Notification, 1)
	go func() {
		n, err := c.Wait(ctx, res.ID, quick...)
		assert.NoError(t, err)
		done <- n
	}()
	_, err = c.WaitFor(ctx, res.ID, func(n *sendivent.Notification) bool { return n.Status == sendivent.StatusWaiting }, quick...)
	require.NoError(t, err)
	cr, err := c.Cancel(ctx, "drip", to)
	require.NoError(t, err)
	assert.Equal(t, 1, cr.Cancelled)

	n := <-done
	require.NotNil(t, n)
	assert.Equal(t, sendivent.StatusStopped, n.Status)
	assert.Equal(t, sendivent.MessageDelivered, n.Messages[0].Status, "what was sent stays sent")

	again, err := c.Cancel(ctx, "drip", to)
	require.NoError(t, err)
	assert.Zero(t, again.Cancelled, "nothing left to cancel")
}

func TestE2ERetriesMakeOneNotification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault sendiventtest.Script
	}{
		{"503 twice then success", sendiventtest.FailNext(2, 503).WithRetryAfter("0")},
		{"drop after commit", sendiventtest.DropNext(1)},
		{"malformed body after commit", sendiventtest.MalformedNext(1)},
		{"truncated body after commit", sendiventtest.TruncateNext(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := sendiventtest.NewServer()
			defer srv.Close()
			srv.Inject(tt.fault.On(sendiventtest.EndpointSend))
			res, err := srv.Client().Event("welcome").To(alice()...).Send(context.Background())
			require.NoError(t, err)
			require.NotEmpty(t, res.ID)
			require.Len(t, srv.Notifications(), 1, "exactly one notification")
			assert.Equal(t, srv.Notifications()[0].ID, res.ID, "the caller gets the id of the one created")
			keys := map[string]bool{}
			for _, r := range srv.Requests(sendiventtest.EndpointSend) {
				keys[r.IdempotencyKey] = true
			}
			assert.Len(t, keys, 1, "every attempt carried the same key")
			assert.GreaterOrEqual(t, len(srv.Requests(sendiventtest.EndpointSend)), 2, "it was retried")
		})
	}
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

func TestE2EErrorsFromTheService(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail)))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	_, err := c.Event("nope").To(alice()...).Send(ctx)
	var apiErr *sendivent.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, sendivent.ErrNotFound)
	assert.Equal(t, "EVENT_NOT_FOUND", apiErr.Code)
	assert.Equal(t, "Event 'nope' not found", apiErr.Message)
	assert.NotEmpty(t, apiErr.RequestID)
	assert.Len(t, apiErr.Attempts, 1, "404 is not retried")

	_, err = c.Event("welcome").To(sendivent.Address("+46701234567")).Channel(sendivent.ChannelSMS).Send(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, sendivent.ErrValidation)

	bad, err := sendivent.NewClient("test_wrong", sendivent.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = bad.Event("welcome").To(alice()...).Send(ctx)
	assert.ErrorIs(t, err, sendivent.ErrUnauthorized)

	_, err = c.GetNotification(ctx, "00000000-0000-4000-8000-000000000000")
	assert.ErrorIs(t, err, sendivent.ErrNotFound)

	_, err = c.Wait(ctx, "00000000-0000-4000-8000-000000000000", quick...)
	assert.ErrorAs(t, err, &apiErr)
	var wt *sendivent.WaitTimeoutError
	assert.False(t, errors.As(err, &wt), "404 ends the wait at once")
}

func TestE2EReplayWithTheSameKey(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer()
	defer srv.Close()
	c := srv.Client()
	key := sendivent.IdempotencyKeyFrom("order-42", "welcome")
	first, err := c.Event("welcome").To(alice()...).IdempotencyKey(key).Send(context.Background())
	require.NoError(t, err)
	second, err := c.Event("welcome").To(alice()...).IdempotencyKey(key).Send(context.Background())
	require.NoError(t, err)
	assert.Equal(t, first.ID, second.ID)
	assert.True(t, second.Replayed)
	assert.Len(t, srv.Notifications(), 1)

	_, err = c.Event("welcome").To(sendivent.Address("bob@example.com")).IdempotencyKey(key).Send(context.Background())
	assert.ErrorIs(t, err, sendivent.ErrConflict, "the same key with another body")
}

func TestE2ESendBatch(t *testing.T) {
	t.Parallel()
	// Two failures: whichever items draw them, none can fail all 3 attempts.
	srv := sendiventtest.NewServer()
	defer srv.Close()
	srv.Inject(sendiventtest.FailNext(2, 503).WithRetryAfter("0"))
	c := srv.Client()
	items := make([]sendivent.BatchItem, 40)
	for i := range items {
		items[i] = sendivent.BatchItem{Event: "welcome", Request: sendivent.SendRequest{
			To: []sendivent.Recipient{sendivent.Contact{ID: "user-" + string(rune('a'+i%26)) + string(rune('0'+i/26)), Email: "u@example.com"}}}}
	}
	items[7].Request.To = nil // a bad item fails alone
	results, err := c.SendBatch(context.Background(), items, sendivent.BatchKeys("welcome-2026-11-27"), sendivent.BatchConcurrency(4))
	var be *sendivent.BatchError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 1, be.Failed)
	assert.ErrorIs(t, err, sendivent.ErrValidation)
	require.Len(t, results, 40)
	for i, r := range results {
		if i == 7 {
			assert.ErrorIs(t, r.Err, sendivent.ErrValidation)
			continue
		}
		require.NoError(t, r.Err, "item %d", i)
		assert.NotEmpty(t, r.Response.ID)
	}
	assert.Equal(t, 39, srv.NotificationCount("welcome"))

	// Running the same batch again sends nothing new.
	_, err = c.SendBatch(context.Background(), items, sendivent.BatchKeys("welcome-2026-11-27"))
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 39, srv.NotificationCount("welcome"))

	// A cancelled context leaves items not attempted.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	results, err = c.SendBatch(ctx, items[:5])
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 5, be.NotAttempted)
	assert.ErrorIs(t, results[0].Err, sendivent.ErrNotAttempted)
}
