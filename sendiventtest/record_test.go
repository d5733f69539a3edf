package sendiventtest

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRecording(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle(), WithEvent("welcome"), WithEvent("order/shipped"))
	_, ok := srv.LastRequest()
	assert.False(t, ok)

	id := send(t, srv, "welcome", map[string]any{"to": "a@example.com", "payload": map[string]any{"n": 1}})["id"].(string)
	a := do(t, srv, call{path: "/v1/send/order%2Fshipped/sms", key: "k", body: `{"to":"+46701234567"}`})
	require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
	do(t, srv, call{path: "/v1/send/welcome", body: `not json`})
	getNotification(t, srv, id)
	do(t, srv, call{path: "/v1/cancel/welcome", body: `{"to":"a@example.com"}`})

	reqs := srv.Requests()
	require.Len(t, reqs, 5)
	first := reqs[0]
	assert.Equal(t, http.MethodPost, first.Method)
	assert.Equal(t, "/v1/send/welcome", first.Path)
	assert.Equal(t, "welcome", first.Event)
	assert.Equal(t, map[string]any{"to": "a@example.com", "payload": map[string]any{"n": float64(1)}}, first.Body)
	assert.JSONEq(t, string(first.RawBody), `{"to":"a@example.com","payload":{"n":1}}`)
	assert.Equal(t, []string{id}, first.Created)
	assert.Equal(t, http.StatusOK, first.Status)
	assert.Equal(t, "application/json", first.Header.Get("Content-Type"))
	assert.Regexp(t, `^req_`, first.RequestID)
	assert.Equal(t, EndpointSend, first.Endpoint)

	forced := reqs[1]
	assert.Equal(t, "/v1/send/order%2Fshipped/sms", forced.Path)
	assert.Equal(t, "order/shipped", forced.Event)
	assert.Equal(t, "sms", forced.Channel)
	assert.Equal(t, "k", forced.IdempotencyKey)

	assert.Nil(t, reqs[2].Body)
	assert.Nil(t, reqs[2].RawBody, "a body that is not JSON is not kept")
	assert.Equal(t, http.StatusBadRequest, reqs[2].Status)
	assert.Equal(t, id, reqs[3].NotificationID)
	assert.Equal(t, EndpointNotification, reqs[3].Endpoint)
	assert.Equal(t, EndpointCancel, reqs[4].Endpoint)

	assert.Equal(t, []Request{reqs[0], reqs[1], reqs[2]}, srv.Requests(EndpointSend))
	assert.Equal(t, []Request{reqs[3], reqs[4]}, srv.Requests(EndpointNotification, EndpointCancel))
	assert.Equal(t, reqs, srv.Requests(EndpointAll))
	assert.Equal(t, 1, srv.NotificationCount("welcome"))
	assert.Equal(t, 2, srv.NotificationCount(""))

	last, ok := srv.LastRequest()
	require.True(t, ok)
	assert.Equal(t, "/v1/cancel/welcome", last.Path)

	st := srv.Stats()
	assert.Equal(t, 5, st.Requests)
	assert.Equal(t, 2, st.Created)
	assert.Zero(t, st.Replays)
	assert.Empty(t, st.Faults)
	assert.Equal(t, map[int]int{200: 4, 400: 1}, st.ByStatus)
}

// Go's http.Transport resends a request carrying X-Idempotency-Key when a
// reused keep-alive connection closes before any response byte, so a dropped
// answer on such a connection comes back as a replay without the caller
// seeing an error. This test pins that behaviour down for SDK authors.
func TestDropOnReusedConnectionIsResentByTransport(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle())
	send(t, srv, "welcome", map[string]any{"to": "a@example.com"}) // leaves an idle keep-alive connection
	srv.Inject(DropNext(1))

	a := do(t, srv, call{path: "/v1/send/welcome", key: "k", body: `{"to":"b@example.com"}`})
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "true", a.header.Get("X-Idempotent-Replay"))
	assert.Len(t, srv.Notifications(), 2, "no duplicate")
	recs := srv.Requests(EndpointSend)
	require.Len(t, recs, 3)
	assert.Equal(t, FaultDrop, recs[1].Fault)
	assert.True(t, recs[2].Replayed)
}
