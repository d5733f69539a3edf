package sendiventtest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
)

func TestContactsValidation(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	do(t, srv, call{path: "/v1/contacts", body: `{"email":"a@example.com"}`})
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		want   string
	}{
		{"not json", "", "/v1/contacts", `{`, 400, `{"error":"Invalid JSON body"}`},
		{"no identifier", "", "/v1/contacts", `{"name":"A","slack":"U1"}`, 400,
			`{"error":"At least one identifier is required: email, phone or external_id","field":"contact","code":"MISSING_IDENTIFIER"}`},
		{"bad phone", "", "/v1/contacts", `{"phone":"070"}`, 400, `{"error":"Phone number must be in E.164 format","field":"contact"}`},
		{"bad email", "", "/v1/contacts", `{"email":"nope"}`, 400, `{"error":"Invalid email address","field":"contact","code":"INVALID_EMAIL"}`},
		{"meta not an object", "", "/v1/contacts", `{"email":"b@example.com","meta":[1]}`, 400, `{"error":"Invalid value for contact.meta","field":"contact"}`},
		{"unknown contact", http.MethodGet, "/v1/contacts/nobody%40example.com", nil, 404, `{"error":"Contact not found: nobody@example.com","code":"NOT_FOUND"}`},
		{"patch unknown", http.MethodPatch, "/v1/contacts/user_9", `{"name":"A"}`, 404, `{"error":"Contact not found: user_9","code":"NOT_FOUND"}`},
		{"patch not json", http.MethodPatch, "/v1/contacts/a@example.com", `[]`, 400, `{"error":"Invalid JSON body"}`},
		{"delete unknown", http.MethodDelete, "/v1/contacts/user_9", nil, 404, `{"error":"Contact not found: user_9","code":"NOT_FOUND"}`},
		{"token missing", "", "/v1/contacts/a@example.com/push-tokens", `{}`, 400, `{"error":"Missing required field: token","field":"token"}`},
		{"token not a string", http.MethodDelete, "/v1/contacts/a@example.com/push-tokens", `{"token":5}`, 400, `{"error":"Missing required field: token","field":"token"}`},
		{"token of unknown contact", "", "/v1/contacts/x/push-tokens", `{"token":"t"}`, 404, `{"error":"Contact not found: x","code":"NOT_FOUND"}`},
		{"put", http.MethodPut, "/v1/contacts/a@example.com", `{}`, 405, `{"error":"Method not allowed"}`},
		{"limit zero", http.MethodGet, "/v1/contacts?limit=0", nil, 400, `{"error":"limit must be a positive integer","field":"limit"}`},
		{"limit over 100", http.MethodGet, "/v1/contacts?limit=101", nil, 400, `{"error":"limit must be at most 100","field":"limit"}`},
		{"offset negative", http.MethodGet, "/v1/contacts?offset=-1", nil, 400, `{"error":"offset must be a non-negative integer","field":"offset"}`},
		{"offset not a number", http.MethodGet, "/v1/contacts?offset=x", nil, 400, `{"error":"offset must be a non-negative integer","field":"offset"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := do(t, srv, call{method: tc.method, path: tc.path, body: tc.body})
			assert.Equal(t, tc.status, a.status)
			assert.JSONEq(t, tc.want, string(a.body))
		})
	}
}

func TestContactsWire(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	a := do(t, srv, call{path: "/v1/contacts", key: "k1", body: `{"external_id":"user_1","email":"Ada@Example.com","name":"Ada Augusta King",
		"telegram":123,"slack_id":"U1","push_token":"t1","account_credits":5,"meta":{"plan":"pro"}}`})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	var got struct {
		Success bool           `json:"success"`
		Contact map[string]any `json:"contact"`
	}
	require.NoError(t, json.Unmarshal(a.body, &got))
	assert.True(t, got.Success)
	c := got.Contact
	assert.Equal(t, float64(1), c["id"], "the row id beside the uuid")
	assert.NotEmpty(t, c["uuid"])
	assert.Equal(t, "user_1", c["externalId"])
	assert.Equal(t, "Ada", c["firstName"])
	assert.Equal(t, "Augusta King", c["lastName"])
	assert.Equal(t, "123", c["telegram"])
	assert.Equal(t, "U1", c["slack"])
	assert.Equal(t, []any{"t1"}, c["pushTokens"])
	assert.Equal(t, map[string]any{"plan": "pro", "accountCredits": float64(5)}, c["meta"])

	// A repeated idempotency key is answered with the first answer.
	again := do(t, srv, call{path: "/v1/contacts", key: "k1", body: `{"external_id":"user_1","email":"Ada@Example.com","name":"Ada Augusta King",
		"telegram":123,"slack_id":"U1","push_token":"t1","account_credits":5,"meta":{"plan":"pro"}}`})
	assert.Equal(t, "true", again.header.Get("X-Idempotent-Replay"))
	assert.Equal(t, string(a.body), string(again.body))

	// Meta merges; the email is matched whatever its case.
	do(t, srv, call{path: "/v1/contacts", body: `{"email":"ada@example.com","meta":{"seats":3},"last_seen":"today"}`})
	sc, ok := srv.Contact("ADA@example.com")
	require.True(t, ok)
	assert.Equal(t, map[string]any{"plan": "pro", "accountCredits": float64(5), "seats": float64(3), "lastSeen": "today"}, sc.Meta)
	assert.Len(t, srv.Contacts(), 1)
	assert.JSONEq(t, string(mustJSON(got.Contact["uuid"])), `"`+sc.UUID+`"`)

	srv.Reset()
	assert.Empty(t, srv.Contacts())
	_, ok = srv.Contact(sc.UUID)
	assert.False(t, ok)
}

func TestUnknownContactFieldsInControlAnswers(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	send(t, srv, "welcome", `{"to":{"email":"a@example.com","external_id":"u1","externalId":"u1","slack":"U1","push_token":"t","x_y":1}}`)
	n := srv.Notifications()[0]
	assert.Equal(t, map[string]any{"x_y": float64(1)}, n.Recipient.Extra)
	a := ctl(t, srv, http.MethodGet, "/_fake/notifications", nil)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Contains(t, string(a.body), `"x_y":1`)
}

func TestContactsPatchMovesIdentifiers(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	do(t, srv, call{path: "/v1/contacts", body: `{"email":"old@example.com","phone":"+46701234567"}`})
	a := do(t, srv, call{method: http.MethodPatch, path: "/v1/contacts/old@example.com", body: `{"email":"new@example.com","push_tokens":["t1"]}`})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	_, ok := srv.Contact("old@example.com")
	assert.False(t, ok, "the old email names nothing")
	sc, ok := srv.Contact("new@example.com")
	require.True(t, ok)
	assert.Equal(t, "+46701234567", sc.Phone)
	assert.Equal(t, []string{"t1"}, sc.PushTokens)
}

func TestCamelCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"account_credits": "accountCredits", "plan": "plan", "a_b_c": "aBC", "_x": "x", "x__y": "xY", "_": "_", "already": "already",
		"über_größe": "überGröße",
	} {
		assert.Equal(t, want, camelCase(in), in)
	}
}

func TestEventListenersJSON(t *testing.T) {
	t.Parallel()
	var e EventConfig
	require.NoError(t, json.Unmarshal([]byte(`{"name":"deploy","steps":["slack"],"listeners":["#ops",{"email":"a@example.com","name":"A"}]}`), &e))
	assert.Equal(t, []sendivent.Recipient{sendivent.Address("#ops"), sendivent.Contact{Email: "a@example.com", Name: "A"}}, e.Listeners)
	back, err := json.Marshal(e)
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"deploy","steps":["slack"],"listeners":["#ops",{"email":"a@example.com","name":"A"}]}`, string(back))

	assert.ErrorContains(t, json.Unmarshal([]byte(`{"name":"deploy","listeners":[5]}`), &e), "listener 0")
	assert.PanicsWithValue(t, `sendiventtest: WithEvents: event "deploy": listener 0: Contact must have at least one identifier`, func() {
		NewServer(WithEvents(EventConfig{Name: "deploy", Listeners: []sendivent.Recipient{sendivent.Contact{Name: "x"}}}))
	})
	assert.PanicsWithValue(t, `sendiventtest: WithIntegrations: unknown channel "fax"`, func() {
		NewServer(WithIntegrations(sendivent.Integration{Channel: "fax"}))
	})
}

func TestDeveloperEndpointsValidation(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithEvent("welcome"))
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/v1/events/nope", 404, `{"error":"Event 'nope' not found","code":"EVENT_NOT_FOUND"}`},
		{"/v1/deliveries/nope/trace", 404, `{"error":"Delivery not found: nope","code":"NOT_FOUND"}`},
		{"/v1/deliveries?limit=x", 400, `{"error":"limit must be a positive integer","field":"limit"}`},
		{"/v1/deliveries?limit=500", 200, `{"success":true,"data":{"deliveries":[],"total":0,"limit":100,"offset":0}}`},
		{"/v1/integrations?channel=fax", 400, `{"error":"Invalid channel 'fax'","field":"channel"}`},
		{"/v1/integrations?channel=sms", 200, `{"success":true,"data":{"integrations":[{"channel":"sms","provider":"sns","status":"active"}]}}`},
	}
	for _, tc := range tests {
		a := do(t, srv, call{method: http.MethodGet, path: tc.path})
		assert.Equal(t, tc.status, a.status, tc.path)
		assert.JSONEq(t, tc.want, string(a.body), tc.path)
	}
	assert.Empty(t, srv.problems(), "asking for an unknown event is not an undeclared send")
}
