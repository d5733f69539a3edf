package sendivent

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeliveriesTrace(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(200, `{"success":true,"data":{"delivery":{"uuid":"d-1","channel":"email","status":"delivered","event_name":"welcome",
		"notification_id":"n-1","message_id":12,"created_at":"2026-04-01T12:00:00.000Z","sent_at":"2026-04-01T12:00:01.000Z",
		"delivered_at":"2026-04-01T12:00:02.000Z","error":null},
		"timeline":[{"event":"queued","timestamp":"2026-04-01T12:00:00.000Z"},{"event":"sent","timestamp":"nope"}],
		"content":{"subject":"Hi"}}}`))
	tr, err := h.c.Deliveries.Trace(context.Background(), "d-1")
	require.NoError(t, err)
	checkRequest(t, h.last(), wantRequest{method: "GET", path: "/v1/deliveries/d-1/trace"})
	t0 := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	d := tr.Delivery
	assert.Equal(t, "d-1", d.UUID)
	assert.Equal(t, ChannelEmail, d.Channel)
	assert.Equal(t, MessageDelivered, d.Status)
	assert.Equal(t, "welcome", d.Event)
	assert.Equal(t, "n-1", d.NotificationID)
	assert.Equal(t, "12", d.MessageID)
	assert.Equal(t, t0, d.CreatedAt)
	require.NotNil(t, d.SentAt)
	assert.Equal(t, t0.Add(time.Second), *d.SentAt)
	require.NotNil(t, d.DeliveredAt)
	assert.Empty(t, d.Error)
	assert.Equal(t, []TraceEvent{{Event: "queued", Timestamp: t0}, {Event: "sent"}}, tr.Timeline)
	assert.JSONEq(t, `{"subject":"Hi"}`, string(tr.Content))
	assert.NotEmpty(t, tr.Raw)

	h2 := newMockHarness(t)
	h2.script(reply(200, `{"delivery":{"id":"d-2","event":"welcome","status":"failed","error":{"code":"HARD_BOUNCE","message":"Mailbox does not exist"}}}`),
		reply(200, `{"success":true,"data":{"timeline":[]}}`),
		reply(200, `{"success":true,"data":{"delivery":{"uuid":"d"},"timeline":{"x":1}}}`),
		reply(404, `{"error":"Delivery not found"}`))
	tr, err = h2.c.Deliveries.Trace(context.Background(), "d-2")
	require.NoError(t, err)
	assert.Equal(t, "d-2", tr.Delivery.UUID)
	assert.Equal(t, "welcome", tr.Delivery.Event)
	assert.Equal(t, "Mailbox does not exist", tr.Delivery.Error)
	assert.Nil(t, tr.Delivery.SentAt)
	assert.Nil(t, tr.Timeline)
	_, err = h2.c.Deliveries.Trace(context.Background(), "d-3")
	assert.ErrorIs(t, err, ErrMalformed, "no delivery")
	_, err = h2.c.Deliveries.Trace(context.Background(), "d-4")
	assert.ErrorIs(t, err, ErrMalformed, "a timeline of the wrong type")
	_, err = h2.c.Deliveries.Trace(context.Background(), "d-5")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = h2.c.Deliveries.Trace(context.Background(), "")
	assert.ErrorIs(t, err, ErrValidation)
	assert.Len(t, h2.requests(), 4)
}

func TestDeliveriesValidation(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	tests := []struct {
		p     DeliveryListParams
		field string
	}{
		{DeliveryListParams{Limit: -1}, "limit"},
		{DeliveryListParams{Offset: -5}, "offset"},
		{DeliveryListParams{Channel: "fax"}, "channel"},
		{DeliveryListParams{Event: " welcome"}, "event"},
	}
	for _, tt := range tests {
		_, err := h.c.Deliveries.ListPage(context.Background(), tt.p)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, tt.field, ve.Field)
	}
	assert.Empty(t, h.requests())
}
