package sendivent

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGetNotificationWithoutStatus: an answer that says nothing about the
// notification is an error at once, so Wait does not poll it for minutes.
func TestGetNotificationWithoutStatus(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{}`, `null`, `{"id":"n1"}`, `{"id":"n1","status":""}`} {
		h := newMockHarness(t)
		h.script(reply(200, body))
		_, err := h.c.Wait(context.Background(), "n1")
		assert.ErrorIs(t, err, ErrMalformed, body)
		assert.Len(t, h.requests(), 1, body)
		assert.Empty(t, h.fake.Sleeps(), body)
	}
}

const seedNotification = `{
  "id": "550e8400-e29b-41d4-a716-446655440000",
  "event": "welcome",
  "contact": {
    "email": "user@example.com",
    "name": "Alice"
  },
  "status": "completed",
  "started_at": "2026-04-01T12:00:00.000Z",
  "completed_at": "2026-04-01T12:00:05.000Z",
  "messages": [
    {
      "id": "a1b2c3d4-5678-9012-3456-789012345678",
      "channel": "email",
      "status": "delivered",
      "sent_at": "2026-04-01T12:00:01.000Z",
      "delivered_at": "2026-04-01T12:00:04.000Z",
      "error": null
    }
  ]
}`

func TestGetNotificationSeed(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(200, seedNotification))
	n, err := h.c.GetNotification(context.Background(), "550e8400-e29b-41d4-a716-446655440000")
	require.NoError(t, err)

	r := h.last()
	assert.Equal(t, "GET", r.Method)
	assert.Equal(t, "/v1/notifications/550e8400-e29b-41d4-a716-446655440000", r.EscapedPath)

	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return tm
	}
	completed := at("2026-04-01T12:00:05Z")
	sent := at("2026-04-01T12:00:01Z")
	delivered := at("2026-04-01T12:00:04Z")
	want := &Notification{
		ID:          "550e8400-e29b-41d4-a716-446655440000",
		Event:       "welcome",
		Contact:     NotificationContact{Email: "user@example.com", Name: "Alice"},
		Status:      StatusCompleted,
		StartedAt:   at("2026-04-01T12:00:00Z"),
		CompletedAt: &completed,
		Messages: []Message{{
			ID: "a1b2c3d4-5678-9012-3456-789012345678", Channel: ChannelEmail, Status: MessageDelivered,
			SentAt: &sent, DeliveredAt: &delivered, Error: "",
		}},
		Raw: json.RawMessage(seedNotification),
	}
	assert.Equal(t, want, n)
	assert.True(t, n.Terminal())
	assert.False(t, n.Failed())
	assert.True(t, n.Delivered())
	assert.Nil(t, n.FailedMessage())
	assert.Equal(t, &n.Messages[0], n.Message(ChannelEmail))
	assert.Nil(t, n.Message(ChannelSMS))
}

func TestGetNotificationNullsAndUnknownValues(t *testing.T) {
	t.Parallel()
	body := `{"id":"n1","event":"drip","contact":{"phone":"+46701234567"},"status":"archived",
		"started_at":"2026-04-01T12:00:00Z","completed_at":null,"new_field":1,
		"messages":[
		  {"id":"m1","channel":"sms","status":"failed","sent_at":null,"delivered_at":null,"error":"Carrier rejected"},
		  {"id":"m2","channel":"carrier-pigeon","status":"bounced","sent_at":"2026-04-01T12:00:01+02:00","delivered_at":null,"error":null},
		  {"id":"m3","channel":"sms","status":"sent"}
		]}`
	h := newMockHarness(t)
	h.script(reply(200, body))
	n, err := h.c.GetNotification(context.Background(), "n1")
	require.NoError(t, err)
	assert.Equal(t, NotificationStatus("archived"), n.Status, "unknown statuses are kept")
	assert.False(t, n.Terminal())
	assert.Nil(t, n.CompletedAt)
	assert.Equal(t, "+46701234567", n.Contact.Phone)
	require.Len(t, n.Messages, 3)
	assert.Nil(t, n.Messages[0].SentAt)
	assert.Nil(t, n.Messages[0].DeliveredAt)
	assert.Equal(t, "Carrier rejected", n.Messages[0].Error)
	assert.Equal(t, Channel("carrier-pigeon"), n.Messages[1].Channel)
	assert.Equal(t, MessageStatus("bounced"), n.Messages[1].Status)
	require.NotNil(t, n.Messages[1].SentAt)
	assert.True(t, n.Messages[1].SentAt.Equal(time.Date(2026, 4, 1, 10, 0, 1, 0, time.UTC)))
	assert.Empty(t, n.Messages[1].Error)
	assert.Equal(t, &n.Messages[0], n.FailedMessage())
	assert.Equal(t, &n.Messages[2], n.Message(ChannelSMS), "the last message on the channel")
	assert.False(t, n.Delivered())

	failed := &Notification{Status: StatusFailed}
	assert.True(t, failed.Failed())
	assert.True(t, failed.Terminal())
	assert.True(t, StatusStopped.Terminal())
	assert.False(t, StatusRunning.Terminal())
	assert.False(t, StatusWaiting.Terminal())
}

func TestGetNotificationErrors(t *testing.T) {
	t.Parallel()
	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t)
		h.script(reply(404, `{"error":"Notification not found"}`))
		n, err := h.c.GetNotification(context.Background(), "missing")
		assert.Nil(t, n)
		assert.ErrorIs(t, err, ErrNotFound)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 404, apiErr.StatusCode)
		assert.Equal(t, "Notification not found", apiErr.Message)
		assert.Len(t, h.requests(), 1)
	})
	t.Run("empty id", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t)
		h.script(reply(200, seedNotification))
		_, err := h.c.GetNotification(context.Background(), "")
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, "id", ve.Field)
		assert.Zero(t, h.mt.GetTotalCallCount())
	})
	t.Run("id escaped", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t)
		h.script(reply(200, seedNotification))
		_, err := h.c.GetNotification(context.Background(), "a/b c?d")
		require.NoError(t, err)
		assert.Equal(t, "/v1/notifications/a%2Fb%20c%3Fd", h.last().EscapedPath)
		assert.Equal(t, "/v1/notifications/a/b c?d", h.last().Path)
	})
	t.Run("wrong JSON type", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t)
		h.script(reply(200, `{"id":42}`))
		_, err := h.c.GetNotification(context.Background(), "n1")
		var te *TransportError
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, ErrMalformed)
		assert.Equal(t, 200, te.StatusCode)
		assert.Len(t, h.requests(), 1, "valid JSON of the wrong shape is not retried")
		var ute *json.UnmarshalTypeError
		assert.True(t, errors.As(err, &ute))
	})
}

func TestNotificationDecodesLeniently(t *testing.T) {
	t.Parallel()
	var n Notification
	require.NoError(t, json.Unmarshal([]byte(`{"id":"n1","status":"failed","started_at":"","completed_at":"2026-04-01T12:00:05.000+0000",
		"messages":[{"id":"m1","channel":"email","status":"failed","sent_at":"yesterday","delivered_at":null,
		"error":{"code":"HARD_BOUNCE","message":"Mailbox does not exist"}},
		{"id":"m2","channel":"sms","status":"failed","error":{"code":"UNDELIVERABLE"}}]}`), &n))
	assert.True(t, n.StartedAt.IsZero(), "an empty timestamp is left zero")
	require.NotNil(t, n.CompletedAt, "an offset without a colon is read")
	assert.Equal(t, time.Date(2026, 4, 1, 12, 0, 5, 0, time.UTC), n.CompletedAt.UTC())
	assert.Nil(t, n.Messages[0].SentAt, "an unreadable timestamp is left nil")
	assert.Equal(t, "Mailbox does not exist", n.Messages[0].Error, "an error object keeps its message")
	assert.Equal(t, "UNDELIVERABLE", n.Messages[1].Error, "or its code")
	assert.Equal(t, StatusFailed, n.Status)
}
