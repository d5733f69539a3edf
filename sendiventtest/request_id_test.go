package sendiventtest_test

// Request ids tie an application's records together: every API answer has
// an X-Request-Id, the one the request is recorded with; a notification
// and every webhook event about its messages carry the id of the send that
// made it; a replay answers the first request's id; and a notification's
// message ids are the delivery uuids of its webhooks and deliveries.

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/webhook"
)

func TestRequestIDOnEveryAnswer(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	srv.Inject(sendiventtest.FailNext(1, 503), sendiventtest.MalformedNext(1))
	auth := "Bearer " + srv.APIKey()
	tests := []struct {
		method, path, auth, body string
		status                   int
	}{
		{"POST", "/v1/send/welcome", auth, `{"to":"a@example.com"}`, 503}, // the fault
		{"GET", "/v1/contacts", auth, ``, 200},                            // malformed, still answered
		{"POST", "/v1/send/welcome", auth, `{"to":"a@example.com"}`, 200},
		{"POST", "/v1/send/welcome", "Bearer test_wrong", `{}`, 401},
		{"GET", "/v1/notifications/nope", auth, ``, 404},
		{"DELETE", "/v1/send/welcome", auth, ``, 405},
		{"GET", "/v1/nothing/here", auth, ``, 404},
		{"POST", "/v1/send/welcome", auth, `{"to":""}`, 400},
		{"GET", "/v1/webhooks", auth, ``, 404},
		{"POST", "/v1/cancel/welcome", auth, `{"to":"a@example.com"}`, 200},
	}
	var answered []string
	for _, tt := range tests {
		req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
		require.NoError(t, err)
		req.Header.Set("Authorization", tt.auth)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, tt.status, resp.StatusCode, tt.path)
		id := resp.Header.Get("X-Request-Id")
		assert.True(t, strings.HasPrefix(id, "req_"), "%s %s answered %q", tt.method, tt.path, id)
		answered = append(answered, id)
	}
	recs := srv.Requests()
	require.Len(t, recs, len(tests))
	seen := map[string]bool{}
	for i, r := range recs {
		assert.Equal(t, answered[i], r.RequestID, "recorded with the id it was answered")
		assert.False(t, seen[r.RequestID], "one id per request")
		seen[r.RequestID] = true
	}
}

// TestRequestIDReplayed: a repeat with the same idempotency key is answered
// with the first answer, its request id included, so that the id a caller
// keeps is the one its notifications' webhooks carry.
func TestRequestIDReplayed(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	send := func() *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/send/welcome", strings.NewReader(`{"to":"a@example.com"}`))
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		req.Header.Set("X-Idempotency-Key", "order-42")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	first, again := send(), send()
	assert.Empty(t, first.Header.Get("X-Idempotent-Replay"))
	assert.Equal(t, "true", again.Header.Get("X-Idempotent-Replay"))
	id := first.Header.Get("X-Request-Id")
	assert.Equal(t, id, again.Header.Get("X-Request-Id"))
	recs := srv.Requests(sendiventtest.EndpointSend)
	require.Len(t, recs, 2)
	assert.Equal(t, id, recs[0].RequestID)
	assert.Equal(t, id, recs[1].RequestID)
	assert.True(t, recs[1].Replayed)
	require.Equal(t, 1, srv.NotificationCount("welcome"))
	assert.Equal(t, id, srv.Notifications()[0].RequestID)
}

// hookLog collects the webhook events an application receives.
type hookLog struct {
	mu     sync.Mutex
	events []webhook.Event
}

func (l *hookLog) handle(_ context.Context, ev *webhook.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, *ev)
	return nil
}

func (l *hookLog) all() []webhook.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]webhook.Event(nil), l.events...)
}

// TestRequestIDTiesSendToWebhooks: through the SDK, with a lost answer on
// the way (the fake commits, then drops the connection; the retry gets the
// replay), to several recipients: the send's RequestID is the one every
// notification and every webhook event carries, and the events' delivery
// uuids are the notifications' message ids, and the deliveries' uuids.
func TestRequestIDTiesSendToWebhooks(t *testing.T) {
	t.Parallel()
	const secret = "whsec_request_ids"
	ctx := context.Background()
	srv := sendiventtest.New(t)
	client := srv.Client()
	log := &hookLog{}
	srv.SetWebhookHandler(webhook.Handler(secret, log.handle), secret)
	srv.Inject(sendiventtest.DropNext(1))

	res, err := client.Event("welcome").To(sendivent.Address("a@example.com"), sendivent.Address("b@example.com")).Send(ctx)
	require.NoError(t, err)
	assert.True(t, res.Replayed, "the first answer was lost; the retry got the replay")
	require.NotEmpty(t, res.RequestID)
	require.Len(t, res.Notifications, 2)

	messages := map[string]string{} // message id → notification id
	for _, sent := range res.Notifications {
		n, err := client.Wait(ctx, sent.ID)
		require.NoError(t, err)
		fn, ok := srv.Notification(sent.ID)
		require.True(t, ok)
		assert.Equal(t, res.RequestID, fn.RequestID)
		for _, m := range n.Messages {
			messages[m.ID] = n.ID
		}
	}
	require.NoError(t, srv.WaitWebhooks(ctx))

	events := log.all()
	require.NotEmpty(t, events)
	perNotification := map[string]int{}
	for _, ev := range events {
		assert.Equal(t, res.RequestID, ev.RequestID, "the send's request id")
		id, ok := messages[ev.Delivery.UUID]
		assert.True(t, ok, "delivery %s is a message of the send's notifications", ev.Delivery.UUID)
		perNotification[id]++
	}
	assert.Len(t, perNotification, 2, "each recipient's notification has its events, told apart by delivery uuid")

	for d, err := range client.Deliveries.List(ctx, sendivent.DeliveryListParams{}) {
		require.NoError(t, err)
		assert.Equal(t, messages[d.UUID], d.NotificationID, "a delivery's uuid is its message's id")
	}

	c, err := client.Cancel(ctx, "welcome", sendivent.Address("a@example.com"))
	require.NoError(t, err)
	last, _ := srv.LastRequest()
	assert.Equal(t, last.RequestID, c.RequestID)
}
