package sendiventtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAutomaticLifecycle(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	start := time.Now()
	id := send(t, srv, "welcome", map[string]any{"to": "a@example.com"})["id"].(string)

	var m map[string]any
	seen := map[string]bool{}
	eventually(t, func() bool {
		m = getNotification(t, srv, id).json(t)
		seen[m["status"].(string)] = true
		return m["status"] == "completed"
	}, "notification completes")
	assert.Less(t, time.Since(start), time.Second)
	assert.True(t, seen["running"] || len(seen) == 1)
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, m["completed_at"])
	msg := m["messages"].([]any)[0].(map[string]any)
	assert.Equal(t, "delivered", msg["status"])
	assert.NotNil(t, msg["sent_at"])
	assert.NotNil(t, msg["delivered_at"])
	assert.Nil(t, msg["error"])

	n, _ := srv.Notification(id)
	assert.True(t, n.Terminal())
	require.NotNil(t, n.CompletedAt)
	assert.False(t, n.Messages[0].DeliveredAt.Before(*n.Messages[0].SentAt))
}

func TestManualLifecycle(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle())
	newID := func() string {
		return send(t, srv, "welcome", map[string]any{"to": "a@example.com"})["id"].(string)
	}
	status := func(id string) (sendivent.NotificationStatus, sendivent.MessageStatus) {
		n, ok := srv.Notification(id)
		require.True(t, ok)
		require.Len(t, n.Messages, 1)
		return n.Status, n.Messages[0].Status
	}

	t.Run("advance step by step", func(t *testing.T) {
		id := newID()
		time.Sleep(20 * time.Millisecond) // nothing moves by itself
		st, ms := status(id)
		assert.Equal(t, [2]any{sendivent.StatusRunning, sendivent.MessageQueued}, [2]any{st, ms})
		require.NoError(t, srv.Advance(id))
		st, ms = status(id)
		assert.Equal(t, [2]any{sendivent.StatusRunning, sendivent.MessageSent}, [2]any{st, ms})
		require.NoError(t, srv.Advance(id))
		st, ms = status(id)
		assert.Equal(t, [2]any{sendivent.StatusCompleted, sendivent.MessageDelivered}, [2]any{st, ms})
		assert.ErrorIs(t, srv.Advance(id), ErrTerminal)
	})
	t.Run("deliver", func(t *testing.T) {
		id := newID()
		require.NoError(t, srv.Deliver(id))
		n, _ := srv.Notification(id)
		assert.Equal(t, sendivent.StatusCompleted, n.Status)
		assert.NotNil(t, n.CompletedAt)
		assert.NotNil(t, n.Messages[0].SentAt)
		assert.NotNil(t, n.Messages[0].DeliveredAt)
	})
	t.Run("fail message", func(t *testing.T) {
		id := newID()
		require.NoError(t, srv.Advance(id))
		require.NoError(t, srv.FailMessage(id, "mailbox full"))
		m := getNotification(t, srv, id).json(t)
		assert.Equal(t, "failed", m["status"])
		assert.NotNil(t, m["completed_at"])
		msg := m["messages"].([]any)[0].(map[string]any)
		assert.Equal(t, "failed", msg["status"])
		assert.Equal(t, "mailbox full", msg["error"])
		assert.NotNil(t, msg["sent_at"])
		assert.Nil(t, msg["delivered_at"])
		assert.ErrorIs(t, srv.Deliver(id), ErrTerminal)
	})
	t.Run("complete", func(t *testing.T) {
		id := newID()
		require.NoError(t, srv.Complete(id))
		st, ms := status(id)
		assert.Equal(t, [2]any{sendivent.StatusCompleted, sendivent.MessageDelivered}, [2]any{st, ms})
	})
	t.Run("unknown id", func(t *testing.T) {
		assert.ErrorIs(t, srv.Advance("nope"), ErrUnknownNotification)
		assert.ErrorIs(t, srv.Deliver("nope"), ErrUnknownNotification)
		assert.ErrorIs(t, srv.FailMessage("nope", "x"), ErrUnknownNotification)
		assert.ErrorIs(t, srv.Complete("nope"), ErrUnknownNotification)
		_, ok := srv.Notification("nope")
		assert.False(t, ok)
	})
}

func dripServer(t *testing.T, opts ...Option) *Server {
	return newTestServer(t, append([]Option{
		WithEvent("drip", Send(sendivent.ChannelEmail), Wait(time.Hour), Send(sendivent.ChannelSMS)),
		WithEvent("welcome"),
	}, opts...)...)
}

func TestSequenceWaitsAndCancelStopsIt(t *testing.T) {
	t.Parallel()
	srv := dripServer(t, WithStepDelay(5*time.Millisecond))
	alice := map[string]any{"email": "alice@example.com", "phone": "+46701234567"}
	id := send(t, srv, "drip", map[string]any{"to": alice})["id"].(string)
	other := send(t, srv, "drip", map[string]any{"to": "bob@example.com"})["id"].(string)
	welcome := send(t, srv, "welcome", map[string]any{"to": "alice@example.com"})["id"].(string)

	eventually(t, func() bool {
		return getNotification(t, srv, id).json(t)["status"] == "waiting"
	}, "sequence reaches its wait step")
	n, _ := srv.Notification(id)
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelEmail, sendivent.ChannelSMS}, n.Channels)
	require.Len(t, n.Messages, 1)
	assert.Equal(t, sendivent.MessageDelivered, n.Messages[0].Status)
	assert.Nil(t, n.CompletedAt)

	a := do(t, srv, call{path: "/v1/cancel/drip", body: map[string]any{"to": "alice@example.com"}})
	require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
	assert.JSONEq(t, `{"success":true,"cancelled":1}`, string(a.body))

	m := getNotification(t, srv, id).json(t)
	assert.Equal(t, "stopped", m["status"])
	assert.NotNil(t, m["completed_at"])
	msgs := m["messages"].([]any)
	require.Len(t, msgs, 1, "the sms step never runs")
	assert.Equal(t, "delivered", msgs[0].(map[string]any)["status"], "sent messages stay as they are")

	// Other recipients and other events are untouched; a second cancel stops nothing.
	o, _ := srv.Notification(other)
	assert.NotEqual(t, sendivent.StatusStopped, o.Status)
	w, _ := srv.Notification(welcome)
	assert.NotEqual(t, sendivent.StatusStopped, w.Status)
	a = do(t, srv, call{path: "/v1/cancel/drip", body: map[string]any{"to": map[string]any{"phone": "+46701234567"}}})
	assert.JSONEq(t, `{"success":true,"cancelled":0}`, string(a.body))
}

func TestSequenceManual(t *testing.T) {
	t.Parallel()
	srv := dripServer(t, WithManualLifecycle())
	to := map[string]any{"email": "a@example.com", "phone": "+46701234567"}
	id := send(t, srv, "drip", map[string]any{"to": to})["id"].(string)
	emailOnly := send(t, srv, "drip", map[string]any{"to": "b@example.com"})["id"].(string)

	require.NoError(t, srv.Deliver(id))
	n, _ := srv.Notification(id)
	assert.Equal(t, sendivent.StatusWaiting, n.Status)
	assert.ErrorIs(t, srv.Deliver(id), ErrNoMessageInFlight)
	require.NoError(t, srv.Advance(id)) // skip the hour
	n, _ = srv.Notification(id)
	assert.Equal(t, sendivent.StatusRunning, n.Status)
	require.Len(t, n.Messages, 2)
	assert.Equal(t, sendivent.ChannelSMS, n.Messages[1].Channel)
	assert.Equal(t, sendivent.MessageQueued, n.Messages[1].Status)

	// A queued message that never went out is dropped on cancel.
	a := do(t, srv, call{path: "/v1/cancel/drip", body: map[string]any{"to": "a@example.com"}})
	assert.JSONEq(t, `{"success":true,"cancelled":1}`, string(a.body))
	n, _ = srv.Notification(id)
	assert.Equal(t, sendivent.StatusStopped, n.Status)
	require.Len(t, n.Messages, 1)
	assert.Equal(t, sendivent.MessageDelivered, n.Messages[0].Status)

	// The email-only recipient skips the sms step: deliver, wait, done.
	assert.Equal(t, 1, srv.AdvanceAll()) // queued → sent
	require.NoError(t, srv.Deliver(emailOnly))
	assert.Equal(t, 1, srv.AdvanceAll()) // leave the wait
	e, _ := srv.Notification(emailOnly)
	assert.Equal(t, sendivent.StatusCompleted, e.Status)
	assert.Len(t, e.Messages, 1)
	assert.Equal(t, 0, srv.AdvanceAll())
}

func TestCancelValidation(t *testing.T) {
	t.Parallel()
	srv := dripServer(t)
	tests := []struct {
		name, path, body string
		status           int
		want             string
	}{
		{"missing to", "/v1/cancel/drip", `{}`, 400, `{"error":"Missing required field: to","field":"to"}`},
		{"array to", "/v1/cancel/drip", `{"to":["a@example.com"]}`, 400, `{"error":"Recipient must be a string or a contact object","field":"to"}`},
		{"bad json", "/v1/cancel/drip", `nope`, 400, `{"error":"Invalid JSON body"}`},
		{"unknown event", "/v1/cancel/nope", `{"to":"a@example.com"}`, 404, `{"error":"Event 'nope' not found","code":"EVENT_NOT_FOUND"}`},
		{"unknown contact", "/v1/cancel/drip", `{"to":"user_9"}`, 200, `{"success":true,"cancelled":0}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, srv, call{path: tc.path, body: tc.body})
			assert.Equal(t, tc.status, a.status)
			assert.JSONEq(t, tc.want, string(a.body))
		})
	}
	a := do(t, srv, call{method: http.MethodGet, path: "/v1/cancel/drip"})
	assert.Equal(t, http.StatusMethodNotAllowed, a.status)
	assert.Equal(t, http.MethodPost, a.header.Get("Allow"))
}

func TestCloseStopsTimers(t *testing.T) {
	t.Parallel()
	srv := dripServer(t, WithStepDelay(time.Millisecond))
	for i := 0; i < 20; i++ {
		send(t, srv, "drip", map[string]any{"to": "a@example.com"})
	}
	srv.Close()
	srv.Close() // idempotent
	assert.Len(t, srv.Notifications(), 20, "records stay readable after Close")
}
