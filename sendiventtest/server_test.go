package sendiventtest

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAuth(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	other := newTestServer(t)
	require.Regexp(t, `^test_[0-9a-f]{32}$`, srv.APIKey())
	require.NotEqual(t, srv.APIKey(), other.APIKey())

	body := map[string]any{"to": "alice@example.com"}
	a := do(t, srv, call{path: "/v1/send/welcome", body: body, noAuth: true})
	assert.Equal(t, http.StatusUnauthorized, a.status)
	assert.JSONEq(t, `{"error":"Invalid API key"}`, string(a.body))
	assert.Equal(t, "application/json", a.header.Get("Content-Type"))
	assert.Regexp(t, `^req_[0-9a-f]+$`, a.header.Get("X-Request-Id"))

	// The other server's key is not valid here.
	a = do(t, other, call{path: "/v1/send/welcome", body: body, noAuth: true})
	assert.Equal(t, http.StatusUnauthorized, a.status)
	assert.Empty(t, srv.Notifications())

	custom := newTestServer(t, WithAPIKey("test_fixed"))
	assert.Equal(t, "test_fixed", custom.APIKey())
	send(t, custom, "welcome", body)
}

func TestSendValidation(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithEvent("welcome"), WithEvent("otp", Send(sendivent.ChannelSMS)))
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		want   string
	}{
		{"get on send", http.MethodGet, "/v1/send/welcome", nil, 405, `{"error":"Method not allowed"}`},
		{"not json", "", "/v1/send/welcome", `{"to":`, 400, `{"error":"Invalid JSON body"}`},
		{"empty body", "", "/v1/send/welcome", ``, 400, `{"error":"Invalid JSON body"}`},
		{"array body", "", "/v1/send/welcome", `[1]`, 400, `{"error":"Invalid JSON body"}`},
		{"missing to", "", "/v1/send/welcome", `{"payload":{}}`, 400, `{"error":"Missing required field: to (event 'welcome' has no listeners to broadcast to)","field":"to"}`},
		{"null to", "", "/v1/send/welcome", `{"to":null}`, 400, `{"error":"Missing required field: to","field":"to"}`},
		{"empty string to", "", "/v1/send/welcome", `{"to":" "}`, 400, `{"error":"Recipient must not be empty","field":"to"}`},
		{"number to", "", "/v1/send/welcome", `{"to":42}`, 400, `{"error":"Recipient must be a string or a contact object","field":"to"}`},
		{"empty array", "", "/v1/send/welcome", `{"to":[]}`, 400, `{"error":"Recipient list must not be empty","field":"to"}`},
		{"object without identifier", "", "/v1/send/welcome", `{"to":{"name":"Al"}}`, 400,
			`{"error":"Contact must have at least one identifier","field":"to","code":"MISSING_IDENTIFIER"}`},
		{"bad element", "", "/v1/send/welcome", `{"to":["a@example.com",{"name":"B"}]}`, 400,
			`{"error":"Contact must have at least one identifier","field":"to[1]","code":"MISSING_IDENTIFIER"}`},
		{"bad phone string", "", "/v1/send/welcome", `{"to":"+46 70 123"}`, 400, `{"error":"Phone number must be in E.164 format","field":"to"}`},
		{"bad phone field", "", "/v1/send/welcome", `{"to":{"phone":"0701234567"}}`, 400, `{"error":"Phone number must be in E.164 format","field":"to"}`},
		{"bad phone in array", "", "/v1/send/welcome", `{"to":["+46701234567","+0123"]}`, 400, `{"error":"Phone number must be in E.164 format","field":"to[1]"}`},
		{"payload not object", "", "/v1/send/welcome", `{"to":"a@example.com","payload":[1]}`, 400, `{"error":"payload must be an object","field":"payload"}`},
		{"unknown channel", "", "/v1/send/welcome/fax", `{"to":"a@example.com"}`, 400, `{"error":"Invalid channel 'fax'","field":"channel"}`},
		{"unknown event", "", "/v1/send/nope", `{"to":"a@example.com"}`, 404, `{"error":"Event 'nope' not found","code":"EVENT_NOT_FOUND"}`},
		{"forced channel without identifier", "", "/v1/send/welcome/sms", `{"to":"a@example.com"}`, 400,
			`{"error":"Contact has no identifier for channel sms","field":"to","channel":"sms"}`},
		{"forced channel without template", "", "/v1/send/otp/email", `{"to":"a@example.com"}`, 400,
			`{"error":"Event 'otp' has no template for channel email","field":"channel","channel":"email","code":"TEMPLATE_MISSING"}`},
		{"no channel available", "", "/v1/send/otp", `{"to":"a@example.com"}`, 400, `{"error":"No channel available for recipient","field":"to"}`},
		{"unknown external id", "", "/v1/send/welcome", `{"to":"user_404"}`, 400, `{"error":"No channel available for recipient","field":"to"}`},
		{"unknown path", "", "/v1/nothing", `{}`, 404, `{"error":"Not found","code":"NOT_FOUND"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, srv, call{method: tc.method, path: tc.path, body: tc.body})
			assert.Equal(t, tc.status, a.status)
			assert.JSONEq(t, tc.want, string(a.body))
			assert.Equal(t, "application/json", a.header.Get("Content-Type"))
		})
	}
	assert.Empty(t, srv.Notifications(), "failed requests create nothing")
	assert.Zero(t, srv.Stats().Created)
}

func TestSendAccepted(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle())
	body := map[string]any{
		"to":        map[string]any{"email": "alice@example.com", "name": "Alice"},
		"payload":   map[string]any{"company": "ACME"},
		"language":  "sv",
		"overrides": map[string]any{"email": map[string]any{"subject": "Hi"}},
		"from":      "team@acme.example",
	}
	got := send(t, srv, "welcome", body)
	require.Len(t, got, 3)
	assert.Regexp(t, uuidV4, got["id"])
	assert.Equal(t, "welcome", got["event"])
	assert.Equal(t, "accepted", got["status"])

	n, ok := srv.Notification(got["id"].(string))
	require.True(t, ok)
	assert.Equal(t, "welcome", n.Event)
	assert.Equal(t, sendivent.StatusRunning, n.Status)
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelEmail}, n.Channels)
	assert.Equal(t, sendivent.Contact{Email: "alice@example.com", Name: "Alice"}, n.Recipient)
	assert.Equal(t, sendivent.Payload{"company": "ACME"}, n.Payload)
	assert.Equal(t, "sv", n.Language)
	assert.Equal(t, &sendivent.Overrides{Email: &sendivent.EmailOverrides{Subject: "Hi"}}, n.Overrides)
	assert.Equal(t, sendivent.Address("team@acme.example"), n.From)
	require.Len(t, n.Messages, 1)
	assert.Equal(t, sendivent.MessageQueued, n.Messages[0].Status)
}

func TestRouting(t *testing.T) {
	t.Parallel()
	declared := []Option{WithEvent("alert", Send(sendivent.ChannelSlack), Send(sendivent.ChannelSMS), Send(sendivent.ChannelEmail))}
	tests := []struct {
		name string
		opts []Option
		path string
		to   any
		want sendivent.Channel
	}{
		{"email string", nil, "/v1/send/welcome", "a@example.com", sendivent.ChannelEmail},
		{"phone string", nil, "/v1/send/welcome", "+46701234567", sendivent.ChannelSMS},
		{"slack id string", nil, "/v1/send/welcome", "U024BE7LH", sendivent.ChannelSlack},
		{"email wins by default order", nil, "/v1/send/welcome", map[string]any{"phone": "+46701234567", "email": "a@example.com"}, sendivent.ChannelEmail},
		{"telegram", nil, "/v1/send/welcome", map[string]any{"telegram": "12345"}, sendivent.ChannelTelegram},
		{"discord", nil, "/v1/send/welcome", map[string]any{"discord": "123456789012345678"}, sendivent.ChannelDiscord},
		{"push tokens", nil, "/v1/send/welcome", map[string]any{"push_tokens": []string{"ExponentPushToken[x]"}}, sendivent.ChannelPush},
		{"slack_id field", nil, "/v1/send/welcome", map[string]any{"slack_id": "U1234"}, sendivent.ChannelSlack},
		{"declared order: slack first", declared, "/v1/send/alert", map[string]any{"email": "a@example.com", "slack": "U999", "phone": "+46701234567"}, sendivent.ChannelSlack},
		{"declared order: sms before email", declared, "/v1/send/alert", map[string]any{"email": "a@example.com", "phone": "+46701234567"}, sendivent.ChannelSMS},
		{"forced whatsapp", nil, "/v1/send/welcome/whatsapp", map[string]any{"email": "a@example.com", "phone": "+46701234567"}, sendivent.ChannelWhatsApp},
		{"escaped event", []Option{WithEvent("order/shipped")}, "/v1/send/order%2Fshipped", "a@example.com", sendivent.ChannelEmail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, append(tc.opts, WithManualLifecycle())...)
			a := do(t, srv, call{path: tc.path, body: map[string]any{"to": tc.to}})
			require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
			ns := srv.Notifications()
			require.Len(t, ns, 1)
			require.Len(t, ns[0].Messages, 1)
			assert.Equal(t, tc.want, ns[0].Messages[0].Channel)
			rec, ok := srv.LastRequest()
			require.True(t, ok)
			assert.Equal(t, tc.path, rec.Path)
			assert.Equal(t, ns[0].Event, rec.Event)
		})
	}
}

func TestContactStore(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle())
	a := do(t, srv, call{path: "/v1/send/welcome", body: map[string]any{"to": "user_1"}})
	require.Equal(t, http.StatusBadRequest, a.status, "an unknown external id has no identifiers")

	send(t, srv, "welcome", map[string]any{"to": map[string]any{"id": "user_1", "email": "u1@example.com"}})
	send(t, srv, "welcome", map[string]any{"to": "user_1"})
	// A later send adds a phone to the same contact.
	send(t, srv, "welcome", map[string]any{"to": map[string]any{"email": "u1@example.com", "phone": "+46701234567"}})
	a = do(t, srv, call{path: "/v1/send/welcome/sms", body: map[string]any{"to": "user_1"}})
	require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)

	ns := srv.Notifications()
	require.Len(t, ns, 4)
	for _, n := range ns {
		assert.Equal(t, ns[0].ContactID, n.ContactID)
	}
	assert.Equal(t, sendivent.ChannelSMS, ns[3].Messages[0].Channel)
	view := getNotification(t, srv, ns[3].ID).json(t)
	assert.Equal(t, map[string]any{"email": "u1@example.com", "name": nil, "phone": "+46701234567"}, view["contact"])
}

func TestArraySend(t *testing.T) {
	t.Parallel()
	to := []any{
		map[string]any{"email": "alice@example.com", "name": "Alice"},
		"+46701234567",
		map[string]any{"email": "bob@example.com", "name": "Bob"},
	}
	srv := newTestServer(t, WithManualLifecycle())
	a := do(t, srv, call{path: "/v1/send/welcome", body: map[string]any{"to": to}})
	require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)

	ns := srv.Notifications()
	require.Len(t, ns, 3)
	contacts := []sendivent.Contact{{Email: "alice@example.com", Name: "Alice"}, {Phone: "+46701234567"}, {Email: "bob@example.com", Name: "Bob"}}
	for i, n := range ns {
		assert.Equal(t, contacts[i], n.Recipient, "recipient %d in request order", i)
	}
	assert.Equal(t, sendivent.ChannelSMS, ns[1].Messages[0].Channel)
	rec, _ := srv.LastRequest()
	assert.Equal(t, []string{ns[0].ID, ns[1].ID, ns[2].ID}, rec.Created)

	entry := func(n Notification) map[string]any {
		return map[string]any{"id": n.ID, "event": "welcome", "status": "accepted"}
	}
	want := []any{entry(ns[0]), entry(ns[1]), entry(ns[2])}
	assert.JSONEq(t, string(mustJSON(want)), string(a.body), "one object per recipient, in request order")
}

func TestGetNotification(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle())
	id := send(t, srv, "welcome", map[string]any{"to": map[string]any{"email": "user@example.com", "name": "Alice"}})["id"].(string)

	got := getNotification(t, srv, id)
	require.Equal(t, http.StatusOK, got.status)
	m := got.json(t)
	assert.ElementsMatch(t, []string{"id", "event", "contact", "status", "started_at", "completed_at", "messages"}, keys(m))
	assert.Equal(t, id, m["id"])
	assert.Equal(t, "welcome", m["event"])
	assert.Equal(t, map[string]any{"email": "user@example.com", "name": "Alice"}, m["contact"])
	assert.Equal(t, "running", m["status"])
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, m["started_at"])
	assert.Nil(t, m["completed_at"])
	msgs := m["messages"].([]any)
	require.Len(t, msgs, 1)
	msg := msgs[0].(map[string]any)
	assert.ElementsMatch(t, []string{"id", "channel", "status", "sent_at", "delivered_at", "error"}, keys(msg))
	assert.Regexp(t, uuidV4, msg["id"])
	assert.Equal(t, "email", msg["channel"])
	assert.Equal(t, "queued", msg["status"])
	assert.Nil(t, msg["sent_at"])
	assert.Nil(t, msg["error"])

	a := getNotification(t, srv, "00000000-0000-4000-8000-000000000000")
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.JSONEq(t, `{"error":"Notification not found","code":"NOT_FOUND"}`, string(a.body))
	a = do(t, srv, call{method: http.MethodPost, path: "/v1/notifications/" + id})
	assert.Equal(t, http.StatusMethodNotAllowed, a.status)
	a = do(t, srv, call{method: http.MethodGet, path: "/v1/notifications/" + id, noAuth: true})
	assert.Equal(t, http.StatusUnauthorized, a.status)
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestParallelServersAreIndependent(t *testing.T) {
	t.Parallel()
	for i := 0; i < 4; i++ {
		t.Run("server", func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t, WithStepDelay(time.Millisecond))
			for j := 0; j < 5; j++ {
				send(t, srv, "welcome", map[string]any{"to": "a@example.com"})
			}
			assert.Len(t, srv.Notifications(), 5)
			assert.Equal(t, 5, srv.Stats().Created)
		})
	}
}

func TestClient(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	assert.NotNil(t, srv.Client())
}
