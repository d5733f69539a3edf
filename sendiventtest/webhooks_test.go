package sendiventtest

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

var whsec = regexp.MustCompile(`^whsec_[0-9a-f]{48}$`)

const hookBody = `{"url":"https://example.com/hooks","enabled_events":["delivery.sent","delivery.failed"],"description":"prod"}`

func TestWebhookAPI(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	get := func() answer { return do(t, srv, call{method: http.MethodGet, path: "/v1/webhooks"}) }

	a := get()
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.JSONEq(t, `{"error":"Webhook not found","code":"NOT_FOUND"}`, string(a.body))
	_, ok := srv.Webhook()
	assert.False(t, ok)

	created := do(t, srv, call{path: "/v1/webhooks", body: hookBody, key: "k1"})
	require.Equal(t, http.StatusCreated, created.status, "%s", created.body)
	hook := created.json(t)["webhook"].(map[string]any)
	uuid, secret := hook["uuid"].(string), hook["signing_secret"].(string)
	assert.Regexp(t, whsec, secret)
	assert.Equal(t, map[string]any{"uuid": uuid, "url": "https://example.com/hooks", "enabled_events": []any{"delivery.sent", "delivery.failed"},
		"is_active": true, "description": "prod", "signing_secret": secret, "created_at": hook["created_at"]}, hook)
	assert.Equal(t, true, created.json(t)["success"])

	w, ok := srv.Webhook()
	require.True(t, ok)
	assert.Equal(t, secret, string(w.SigningSecret))
	assert.Equal(t, []webhook.EventType{webhook.DeliverySent, webhook.DeliveryFailed}, w.EnabledEvents)

	replay := do(t, srv, call{path: "/v1/webhooks", body: hookBody, key: "k1"})
	assert.Equal(t, http.StatusCreated, replay.status, "the same key replays the first answer")
	assert.Equal(t, string(created.body), string(replay.body))
	again := do(t, srv, call{path: "/v1/webhooks", body: hookBody, key: "k2"})
	assert.Equal(t, http.StatusConflict, again.status)
	assert.JSONEq(t, `{"error":"Webhook already exists","code":"CONFLICT"}`, string(again.body))

	a = get()
	require.Equal(t, http.StatusOK, a.status)
	assert.NotContains(t, string(a.body), secret, "the secret is shown once")
	assert.JSONEq(t, `{"success":true,"webhook":{"uuid":"`+uuid+`","url":"https://example.com/hooks","enabled_events":["delivery.sent","delivery.failed"],`+
		`"is_active":true,"description":"prod","created_at":"`+hook["created_at"].(string)+`"}}`, string(a.body))

	patch := func(id, body string) answer {
		return do(t, srv, call{method: http.MethodPatch, path: "/v1/webhooks/" + id, body: body})
	}
	a = patch(uuid, `{"is_active":false,"description":null,"enabled_events":["delivery.bounced"],"url":"http://127.0.0.1:9/h"}`)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	assert.JSONEq(t, `{"success":true,"webhook":{"uuid":"`+uuid+`","url":"http://127.0.0.1:9/h","enabled_events":["delivery.bounced"],`+
		`"is_active":false,"description":null,"created_at":"`+hook["created_at"].(string)+`"}}`, string(a.body))

	for _, tt := range []struct {
		id, body string
		status   int
		field    string
	}{
		{"nope", `{"is_active":true}`, 404, ""},
		{uuid, `{}`, 400, ""},
		{uuid, `{"other":1}`, 400, ""},
		{uuid, `[]`, 400, ""},
		{uuid, `{"is_active":"yes"}`, 400, "is_active"},
		{uuid, `{"description":3}`, 400, "description"},
		{uuid, `{"url":"ftp://example.com"}`, 400, "url"},
		{uuid, `{"enabled_events":[]}`, 400, "enabled_events"},
		{uuid, `{"is_active":true,"enabled_events":["delivery.opened"]}`, 400, "enabled_events"},
	} {
		a := patch(tt.id, tt.body)
		assert.Equal(t, tt.status, a.status, "%s: %s", tt.body, a.body)
		if tt.field != "" {
			assert.Equal(t, tt.field, a.json(t)["field"], tt.body)
		}
	}
	w, _ = srv.Webhook()
	assert.False(t, w.Active, "a refused update changes nothing")

	assert.Equal(t, http.StatusNotFound, do(t, srv, call{method: http.MethodDelete, path: "/v1/webhooks/nope"}).status)
	a = do(t, srv, call{method: http.MethodDelete, path: "/v1/webhooks/" + uuid})
	assert.Equal(t, http.StatusOK, a.status)
	assert.JSONEq(t, `{"success":true,"deleted":true}`, string(a.body))
	assert.Equal(t, http.StatusNotFound, get().status)
	assert.Equal(t, http.StatusNotFound, do(t, srv, call{method: http.MethodDelete, path: "/v1/webhooks/" + uuid}).status)

	a = do(t, srv, call{path: "/v1/webhooks", body: hookBody})
	assert.Equal(t, http.StatusCreated, a.status, "after a delete, a new one")
	assert.NotEqual(t, secret, a.json(t)["webhook"].(map[string]any)["signing_secret"])

	for _, r := range srv.Requests() {
		assert.Equal(t, EndpointWebhooks, r.Endpoint, "%s %s", r.Method, r.Path)
	}
	assert.Len(t, srv.Requests(EndpointWebhooks), len(srv.Requests()))
}

func TestWebhookCreateValidation(t *testing.T) {
	t.Parallel()
	tests := []struct{ body, field string }{
		{`not json`, ""},
		{`{"enabled_events":["delivery.sent"]}`, "url"},
		{`{"url":"https://example.com"}`, "enabled_events"},
		{`{"url":"","enabled_events":["delivery.sent"]}`, "url"},
		{`{"url":"example.com/h","enabled_events":["delivery.sent"]}`, "url"},
		{`{"url":7,"enabled_events":["delivery.sent"]}`, "url"},
		{`{"url":"https://example.com","enabled_events":"delivery.sent"}`, "enabled_events"},
		{`{"url":"https://example.com","enabled_events":[]}`, "enabled_events"},
		{`{"url":"https://example.com","enabled_events":["delivery.sent",1]}`, "enabled_events"},
		{`{"url":"https://example.com","enabled_events":["delivery.opened"]}`, "enabled_events"},
		{`{"url":"https://example.com","enabled_events":["delivery.sent"],"description":false}`, "description"},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			t.Parallel()
			srv := newTestServer(t)
			a := do(t, srv, call{path: "/v1/webhooks", body: tt.body})
			assert.Equal(t, http.StatusBadRequest, a.status, "%s", a.body)
			m := a.json(t)
			assert.Equal(t, "VALIDATION_ERROR", m["code"])
			if tt.field != "" {
				assert.Equal(t, tt.field, m["field"])
			}
			_, ok := srv.Webhook()
			assert.False(t, ok)
		})
	}
}

func TestWebhookOptions(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithWebhook("http://127.0.0.1:9/hooks", ""))
	w, ok := srv.Webhook()
	require.True(t, ok)
	assert.Regexp(t, whsec, string(w.SigningSecret), "a secret is made")
	assert.Equal(t, "http://127.0.0.1:9/hooks", w.URL)
	assert.True(t, w.Active)
	assert.Equal(t, knownWebhookEvents, w.EnabledEvents, "every type")
	assert.Equal(t, http.StatusConflict, do(t, srv, call{path: "/v1/webhooks", body: hookBody}).status)

	h := newTestServer(t, WithWebhookHandler(http.NotFoundHandler(), "whsec_mine"))
	w, ok = h.Webhook()
	require.True(t, ok)
	assert.Equal(t, "whsec_mine", string(w.SigningSecret))
	assert.Equal(t, "https://handler.sendiventtest.invalid/webhooks", w.URL)

	for name, opt := range map[string]Option{
		"nil handler": WithWebhookHandler(nil, "s"),
		"bad url":     WithWebhook("ftp://example.com", "s"),
		"no url":      WithWebhook("", "s"),
	} {
		assert.Panics(t, func() { NewServer(opt).Close() }, name)
	}
}

func TestWebhookResetRestoresTheOptions(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithWebhook("http://127.0.0.1:9/hooks", "whsec_a"))
	w, _ := srv.Webhook()
	require.Equal(t, http.StatusOK, do(t, srv, call{method: http.MethodDelete, path: "/v1/webhooks/" + w.UUID}).status)
	_, ok := srv.Webhook()
	require.False(t, ok)
	srv.Reset()
	again, ok := srv.Webhook()
	require.True(t, ok)
	assert.Equal(t, w.UUID, again.UUID)
	assert.Equal(t, "whsec_a", string(again.SigningSecret))

	plain := newTestServer(t)
	require.Equal(t, http.StatusCreated, do(t, plain, call{path: "/v1/webhooks", body: hookBody}).status)
	plain.Reset()
	_, ok = plain.Webhook()
	assert.False(t, ok, "one made through the API is forgotten")
}
