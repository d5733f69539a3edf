package sendiventtest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWebhookControl(t *testing.T) {
	t.Parallel()
	k := &sink{}
	srv := newTestServer(t, WithManualLifecycle(), WithWebhookHandler(k, sinkSecret))
	id := send(t, srv, "welcome", map[string]any{"to": "a@example.com"})["id"].(string)
	require.NoError(t, srv.Deliver(id))

	a := ctl(t, srv, http.MethodPost, "/_fake/webhooks/wait", `{"timeout":"10s"}`)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	assert.JSONEq(t, `{"status":"idle"}`, string(a.body))

	a = ctl(t, srv, http.MethodGet, "/_fake/webhooks/deliveries?type=delivery.delivered", nil)
	require.Equal(t, http.StatusOK, a.status)
	list := a.json(t)["deliveries"].([]any)
	require.Len(t, list, 1)
	d := list[0].(map[string]any)
	rec := srv.WebhookDeliveries()[1]
	assert.Equal(t, "delivery.delivered", d["type"])
	assert.Equal(t, rec.Event.Delivery.UUID, d["delivery_uuid"])
	assert.Equal(t, id, d["notification_id"])
	assert.Equal(t, rec.Event.WebhookID, d["webhook_id"])
	assert.Equal(t, float64(204), d["status"])
	assert.Equal(t, float64(1), d["attempt"])
	assert.Nil(t, d["error"])
	assert.Equal(t, "delivery.delivered", d["event"].(map[string]any)["event"])

	a = ctl(t, srv, http.MethodGet, "/_fake/webhooks/deliveries", nil)
	assert.Len(t, a.json(t)["deliveries"].([]any), 2)
	for _, body := range []string{`{"timeout":"soon"}`, `{"timeout":"-1s"}`, `{"wait":"1s"}`} {
		a = ctl(t, srv, http.MethodPost, "/_fake/webhooks/wait", body)
		assert.Equal(t, http.StatusBadRequest, a.status, body)
	}

	busy := newTestServer(t, WithManualLifecycle(), WithWebhookHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // until Close cancels it
	}), sinkSecret))
	id = send(t, busy, "welcome", map[string]any{"to": "U123ABC"})["id"].(string)
	require.NoError(t, busy.Advance(id))
	a = ctl(t, busy, http.MethodPost, "/_fake/webhooks/wait", `{"timeout":"1ms"}`)
	assert.Equal(t, http.StatusGatewayTimeout, a.status)
	assert.Equal(t, "TIMEOUT", a.json(t)["code"])
}
