package sendiventtest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

const sinkSecret = "whsec_sink"

// sink is a webhook endpoint that verifies what it receives, by hand (not
// through webhook.Handler), and answers what answer says.
type sink struct {
	mu      sync.Mutex
	events  []*webhook.Event
	headers []http.Header
	calls   int
	answer  func(call int, ev *webhook.Event) int // nil: 204
}

func (k *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	ev, err := webhook.Verify(body, r.Header, sinkSecret)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	k.mu.Lock()
	k.calls++
	call := k.calls
	k.events = append(k.events, ev)
	k.headers = append(k.headers, r.Header.Clone())
	answer := k.answer
	k.mu.Unlock()
	status := http.StatusNoContent
	if answer != nil {
		status = answer(call, ev)
	}
	w.WriteHeader(status)
}

func (k *sink) types() []webhook.EventType {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []webhook.EventType
	for _, ev := range k.events {
		out = append(out, ev.Type)
	}
	return out
}

func waitHooks(t *testing.T, srv *Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitWebhooks(ctx))
}

func deliveryTypes(ds []WebhookDelivery) []webhook.EventType {
	var out []webhook.EventType
	for _, d := range ds {
		out = append(out, d.Event.Type)
	}
	return out
}

// TestWebhooksFollowTheLifecycle: each step of a message is one signed
// event, in order, carrying the message's state at that step.
func TestWebhooksFollowTheLifecycle(t *testing.T) {
	t.Parallel()
	k := &sink{}
	srv := newTestServer(t, WithManualLifecycle(), WithWebhookHandler(k, sinkSecret))
	id := send(t, srv, "welcome", map[string]any{"to": "alice@example.com"})["id"].(string)
	require.NoError(t, srv.Advance(id))
	require.NoError(t, srv.Advance(id))
	waitHooks(t, srv)

	n, _ := srv.Notification(id)
	m := n.Messages[0]
	ds := srv.WebhookDeliveries()
	require.Equal(t, []webhook.EventType{webhook.DeliverySent, webhook.DeliveryDelivered}, deliveryTypes(ds))
	assert.Equal(t, []webhook.EventType{webhook.DeliverySent, webhook.DeliveryDelivered}, k.types())
	for i, d := range ds {
		assert.True(t, d.OK())
		assert.Equal(t, http.StatusNoContent, d.StatusCode)
		assert.NoError(t, d.Err)
		assert.Equal(t, 1, d.Attempt)
		assert.Equal(t, id, d.NotificationID)
		assert.Equal(t, handlerURL, d.URL)
		assert.Regexp(t, `^wha_[0-9a-f]{24}$`, d.Event.WebhookID)
		assert.Equal(t, d.Event.WebhookID, k.headers[i].Get(webhook.WebhookIDHeader))
		assert.Equal(t, webhook.UserAgent, k.headers[i].Get("User-Agent"))
		assert.Equal(t, "application/json", k.headers[i].Get("Content-Type"))
		got := k.events[i]
		assert.Equal(t, string(d.Event.Raw), string(got.Raw), "the record holds the body sent")
		assert.Equal(t, m.ID, got.Delivery.UUID)
		assert.Equal(t, "email", got.Delivery.Channel)
		assert.Equal(t, "welcome", got.Delivery.EventName)
		assert.Equal(t, "fake-"+m.ID, got.Delivery.MessageID)
		assert.Equal(t, n.RequestID, got.RequestID)
		assert.Equal(t, *m.SentAt, got.Delivery.SentAt)
		assert.Nil(t, got.Delivery.Error)
		assert.False(t, got.Timestamp.IsZero())
	}
	assert.NotEqual(t, ds[0].Event.WebhookID, ds[1].Event.WebhookID)
	assert.Equal(t, "sent", k.events[0].Delivery.Status)
	assert.True(t, k.events[0].Delivery.DeliveredAt.IsZero())
	assert.Equal(t, "delivered", k.events[1].Delivery.Status)
	assert.Equal(t, *m.DeliveredAt, k.events[1].Delivery.DeliveredAt)
}

func TestWebhookEventsByOutcome(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		to    any
		drive func(srv *Server, id string) error
		want  []webhook.EventType
		code  string
	}{
		{"delivered email", "a@example.com", (*Server).Deliver, []webhook.EventType{webhook.DeliverySent, webhook.DeliveryDelivered}, ""},
		{"completed", "a@example.com", (*Server).Complete, []webhook.EventType{webhook.DeliverySent, webhook.DeliveryDelivered}, ""},
		{"slack confirms nothing", "U123ABC", (*Server).Deliver, []webhook.EventType{webhook.DeliverySent}, ""},
		{"failed", "a@example.com", func(s *Server, id string) error { return s.FailMessage(id, "mailbox full") },
			[]webhook.EventType{webhook.DeliveryFailed}, "SEND_FAILED"},
		{"bounced email", "a@example.com", func(s *Server, id string) error { return s.SuppressMessage(id, "no such user") },
			[]webhook.EventType{webhook.DeliveryBounced}, "HARD_BOUNCE"},
		{"suppressed sms", "+46701234567", func(s *Server, id string) error { return s.SuppressMessage(id, "opted out") },
			[]webhook.EventType{webhook.DeliveryFailed}, "SEND_FAILED"},
		{"stopped", "a@example.com", func(s *Server, id string) error {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.stopLocked(s.notifs[id])
			return nil
		}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := &sink{}
			srv := newTestServer(t, WithManualLifecycle(), WithWebhookHandler(k, sinkSecret))
			id := send(t, srv, "welcome", map[string]any{"to": tt.to})["id"].(string)
			require.NoError(t, tt.drive(srv, id))
			waitHooks(t, srv)
			assert.Equal(t, tt.want, k.types())
			if tt.code != "" {
				last := k.events[len(k.events)-1]
				require.NotNil(t, last.Delivery.Error)
				assert.Equal(t, tt.code, last.Delivery.Error.Code)
				n, _ := srv.Notification(id)
				assert.Equal(t, n.Messages[0].Error, last.Delivery.Error.Message)
				assert.Equal(t, string(n.Messages[0].Status), last.Delivery.Status)
			}
		})
	}
}

// TestWebhooksOnlyWhatTheEndpointWants: an endpoint gets the types it
// enables, and nothing while it is paused or deleted.
func TestWebhooksOnlyWhatTheEndpointWants(t *testing.T) {
	t.Parallel()
	k := &sink{}
	srv := newTestServer(t, WithManualLifecycle(), WithWebhookHandler(k, sinkSecret))
	w, _ := srv.Webhook()
	patch := func(body string) {
		t.Helper()
		a := do(t, srv, call{method: http.MethodPatch, path: "/v1/webhooks/" + w.UUID, body: body})
		require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	}
	deliver := func() {
		t.Helper()
		id := send(t, srv, "welcome", map[string]any{"to": "a@example.com"})["id"].(string)
		require.NoError(t, srv.Deliver(id))
		waitHooks(t, srv)
	}
	patch(`{"enabled_events":["delivery.delivered"]}`)
	deliver()
	assert.Equal(t, []webhook.EventType{webhook.DeliveryDelivered}, k.types())

	patch(`{"is_active":false}`)
	deliver()
	assert.Len(t, k.types(), 1, "paused")

	patch(`{"is_active":true}`)
	require.Equal(t, http.StatusOK, do(t, srv, call{method: http.MethodDelete, path: "/v1/webhooks/" + w.UUID}).status)
	deliver()
	assert.Len(t, k.types(), 1, "deleted")
	assert.Len(t, srv.WebhookDeliveries(), 1)
}

func TestWebhookRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		answer   func(call int, ev *webhook.Event) int
		statuses []int
	}{
		{"fails twice", func(call int, _ *webhook.Event) int {
			if call <= 2 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}, []int{500, 500, 200}},
		{"redirect is a failure", func(call int, _ *webhook.Event) int {
			if call == 1 {
				return http.StatusFound
			}
			return http.StatusAccepted
		}, []int{302, 202}},
		{"never takes it", func(int, *webhook.Event) int { return http.StatusServiceUnavailable }, []int{503, 503, 503, 503}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k := &sink{answer: tt.answer}
			srv := newTestServer(t, WithManualLifecycle(), WithWebhookHandler(k, sinkSecret))
			w, _ := srv.Webhook()
			a := do(t, srv, call{method: http.MethodPatch, path: "/v1/webhooks/" + w.UUID, body: `{"enabled_events":["delivery.sent"]}`})
			require.Equal(t, http.StatusOK, a.status)
			id := send(t, srv, "welcome", map[string]any{"to": "a@example.com"})["id"].(string)
			require.NoError(t, srv.Advance(id))
			waitHooks(t, srv)

			ds := srv.WebhookDeliveries()
			require.Len(t, ds, len(tt.statuses))
			ids := map[string]bool{}
			for i, d := range ds {
				assert.Equal(t, i+1, d.Attempt)
				assert.Equal(t, tt.statuses[i], d.StatusCode)
				assert.Equal(t, string(ds[0].Event.Raw), string(d.Event.Raw), "the same event each time")
				ids[d.Event.WebhookID] = true
			}
			assert.Len(t, ids, len(ds), "each attempt has its own id")
			assert.LessOrEqual(t, len(ds), WebhookAttempts)
		})
	}
}

// TestWebhookOverTheNetwork: a URL endpoint is POSTed to, and one that
// does not answer is an attempt with an error.
func TestWebhookOverTheNetwork(t *testing.T) {
	t.Parallel()
	k := &sink{}
	up := httptest.NewServer(k)
	defer up.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()

	srv := newTestServer(t, WithManualLifecycle(), WithWebhook(up.URL+"/hooks", sinkSecret))
	id := send(t, srv, "welcome", map[string]any{"to": "a@example.com"})["id"].(string)
	require.NoError(t, srv.Deliver(id))
	waitHooks(t, srv)
	assert.Equal(t, []webhook.EventType{webhook.DeliverySent, webhook.DeliveryDelivered}, k.types())
	for _, d := range srv.WebhookDeliveries() {
		assert.Equal(t, up.URL+"/hooks", d.URL)
		assert.True(t, d.OK())
	}

	w, _ := srv.Webhook()
	a := do(t, srv, call{method: http.MethodPatch, path: "/v1/webhooks/" + w.UUID, body: `{"url":"` + down.URL + `","enabled_events":["delivery.sent"]}`})
	require.Equal(t, http.StatusOK, a.status)
	srv.Reset() // the options' endpoint again; deliveries forgotten
	a = do(t, srv, call{method: http.MethodPatch, path: "/v1/webhooks/" + w.UUID, body: `{"url":"` + down.URL + `","enabled_events":["delivery.sent"]}`})
	require.Equal(t, http.StatusOK, a.status)
	id = send(t, srv, "welcome", map[string]any{"to": "a@example.com"})["id"].(string)
	require.NoError(t, srv.Advance(id))
	waitHooks(t, srv)
	ds := srv.WebhookDeliveries()
	require.Len(t, ds, WebhookAttempts)
	for _, d := range ds {
		assert.Zero(t, d.StatusCode)
		assert.Error(t, d.Err)
		assert.False(t, d.OK())
	}
}

func TestWebhookHandlerPanics(t *testing.T) {
	t.Parallel()
	calls := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls++; calls == 1 {
			panic("boom")
		}
		w.WriteHeader(http.StatusOK)
	})
	srv := newTestServer(t, WithManualLifecycle(), WithWebhookHandler(h, sinkSecret))
	id := send(t, srv, "welcome", map[string]any{"to": "U123ABC"})["id"].(string)
	require.NoError(t, srv.Advance(id))
	waitHooks(t, srv)
	ds := srv.WebhookDeliveries()
	require.Len(t, ds, 2)
	assert.ErrorContains(t, ds[0].Err, "the webhook handler panicked: boom")
	assert.Zero(t, ds[0].StatusCode)
	assert.True(t, ds[1].OK())
}

// TestWebhookEventsOfAMessageInOrder: a message's later event waits for
// the earlier one's delivery, retries included, to end.
func TestWebhookEventsOfAMessageInOrder(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	k := &sink{answer: func(call int, ev *webhook.Event) int {
		if ev.Type == webhook.DeliverySent && call == 1 {
			<-release
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}}
	srv := newTestServer(t, WithManualLifecycle(), WithWebhookHandler(k, sinkSecret))
	id := send(t, srv, "welcome", map[string]any{"to": "a@example.com"})["id"].(string)
	require.NoError(t, srv.Deliver(id)) // sent and delivered at once
	eventually(t, func() bool { return len(k.types()) == 1 }, "the sent event arrives")
	assert.Equal(t, []webhook.EventType{webhook.DeliverySent}, k.types())
	close(release)
	waitHooks(t, srv)
	assert.Equal(t, []webhook.EventType{webhook.DeliverySent, webhook.DeliverySent, webhook.DeliveryDelivered}, k.types())
}

// TestWebhookCloseCancels: Close does not wait out a retry's backoff, and
// cancels a delivery the endpoint holds.
func TestWebhookCloseCancels(t *testing.T) {
	t.Parallel()
	t.Run("backoff", func(t *testing.T) {
		t.Parallel()
		k := &sink{answer: func(int, *webhook.Event) int { return http.StatusInternalServerError }}
		srv := NewServer(WithTimeScale(1), WithManualLifecycle(), WithWebhookHandler(k, sinkSecret)) // backoffs of 1, 5 and 25 s
		t.Cleanup(srv.Close)
		id := send(t, srv, "welcome", map[string]any{"to": "U123ABC"})["id"].(string)
		require.NoError(t, srv.Advance(id))
		eventually(t, func() bool { return len(srv.WebhookDeliveries()) == 1 }, "the first attempt")
		start := time.Now()
		srv.Close()
		assert.Less(t, time.Since(start), 10*time.Second, "Close waited out the backoffs")
		assert.Len(t, srv.WebhookDeliveries(), 1)
	})
	t.Run("in flight", func(t *testing.T) {
		t.Parallel()
		held := make(chan struct{})
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // so that net/http watches for the hang-up
			close(held)
			<-r.Context().Done()
		}))
		t.Cleanup(up.Close) // after srv's Close, which ends the handler
		srv := NewServer(WithManualLifecycle(), WithWebhook(up.URL, sinkSecret))
		t.Cleanup(srv.Close)
		id := send(t, srv, "welcome", map[string]any{"to": "U123ABC"})["id"].(string)
		require.NoError(t, srv.Advance(id))
		<-held
		ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
		defer cancel()
		assert.ErrorIs(t, srv.WaitWebhooks(ctx), context.DeadlineExceeded)
		srv.Close()
		ds := srv.WebhookDeliveries()
		require.Len(t, ds, 1, "cancelled, not retried")
		assert.ErrorIs(t, ds[0].Err, context.Canceled)
		assert.NoError(t, srv.WaitWebhooks(context.Background()))
		assert.NoError(t, srv.Advance(id), "a closed server moves no more")
		assert.Len(t, srv.WebhookDeliveries(), 1, "and delivers nothing")
	})
}

// TestWebhookResetCancels: deliveries going at a Reset are cancelled and
// not recorded.
func TestWebhookResetCancels(t *testing.T) {
	t.Parallel()
	held := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(held)
		<-r.Context().Done()
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	srv := newTestServer(t, WithManualLifecycle(), WithWebhookHandler(h, sinkSecret))
	id := send(t, srv, "welcome", map[string]any{"to": "U123ABC"})["id"].(string)
	require.NoError(t, srv.Advance(id))
	<-held
	srv.Reset()
	waitHooks(t, srv)
	assert.Empty(t, srv.WebhookDeliveries())
	_, ok := srv.Webhook()
	assert.True(t, ok)
}
