package sendivent

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sendBothWays sends req with Client.Send and with the builder, each on its
// own mock client, and returns both recorded requests.
func sendBothWays(t *testing.T, event string, req SendRequest, answer string) (viaSend, viaBuilder seenRequest) {
	t.Helper()
	h1 := newMockHarness(t)
	h1.script(reply(200, answer))
	_, err := h1.c.Send(context.Background(), event, req)
	require.NoError(t, err)

	h2 := newMockHarness(t)
	h2.script(reply(200, answer))
	b := h2.c.Event(event).To(req.To...).Payload(req.Payload).Language(req.Language).
		Channel(req.Channel).Overrides(req.Overrides).From(req.From).IdempotencyKey(req.IdempotencyKey)
	assert.Equal(t, req, b.Request())
	_, err = b.Send(context.Background())
	require.NoError(t, err)
	return h1.last(), h2.last()
}

func TestSendPathPerChannel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		channel Channel
		path    string
	}{
		{"", "/v1/send/welcome"},
		{ChannelEmail, "/v1/send/welcome/email"},
		{ChannelSMS, "/v1/send/welcome/sms"},
		{ChannelSlack, "/v1/send/welcome/slack"},
		{ChannelPush, "/v1/send/welcome/push"},
		{ChannelTelegram, "/v1/send/welcome/telegram"},
		{ChannelWhatsApp, "/v1/send/welcome/whatsapp"},
		{ChannelDiscord, "/v1/send/welcome/discord"},
	}
	for _, tt := range tests {
		t.Run(string(tt.channel), func(t *testing.T) {
			t.Parallel()
			assert.True(t, tt.channel == "" || tt.channel.Valid())
			a, b := sendBothWays(t, "welcome", SendRequest{To: []Recipient{Address("alice@example.com")}, Channel: tt.channel}, acceptedJSON)
			for _, r := range []seenRequest{a, b} {
				assert.Equal(t, "POST", r.Method)
				assert.Equal(t, tt.path, r.EscapedPath)
				assert.JSONEq(t, `{"to":"alice@example.com","payload":{}}`, string(r.Body))
			}
			assert.Equal(t, string(a.Body), string(b.Body))
		})
	}
}

func TestSendRouteMatchesExactURL(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.mt.RegisterResponder("POST", "https://api.test/v1/send/welcome/email", reply(200, acceptedJSON))
	_, err := h.c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{Address("a@example.com")}, Channel: ChannelEmail})
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"POST https://api.test/v1/send/welcome/email": 1}, h.mt.GetCallCountInfo())
}

func TestSendEscapesEvent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		event, channel, want string
	}{
		{"order/shipped now", "", "/v1/send/order%2Fshipped%20now"},
		{"order/shipped now", "sms", "/v1/send/order%2Fshipped%20now/sms"},
		{"a?b#c", "", "/v1/send/a%3Fb%23c"},
		{"...", "", "/v1/send/..."},
		{"åäö", "", "/v1/send/%C3%A5%C3%A4%C3%B6"},
	}
	for _, tt := range tests {
		t.Run(tt.event, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, acceptedJSON))
			_, err := h.c.Send(context.Background(), tt.event, SendRequest{To: []Recipient{Address("a@example.com")}, Channel: Channel(tt.channel)})
			require.NoError(t, err)
			assert.Equal(t, tt.want, h.last().EscapedPath)
		})
	}
}

func TestSendBody(t *testing.T) {
	t.Parallel()
	alice := Contact{Email: "alice@example.com", Name: "Alice"}
	bob := Contact{Email: "bob@example.com", Name: "Bob"}
	tests := []struct {
		name string
		req  SendRequest
		want string
	}{
		{"nil payload is {}", SendRequest{To: []Recipient{Address("alice@example.com")}},
			`{"to":"alice@example.com","payload":{}}`},
		{"empty payload is {}", SendRequest{To: []Recipient{Address("alice@example.com")}, Payload: Payload{}},
			`{"to":"alice@example.com","payload":{}}`},
		{"one contact is an object", SendRequest{To: []Recipient{alice}, Payload: Payload{"company": "ACME"}},
			`{"to":{"email":"alice@example.com","name":"Alice"},"payload":{"company":"ACME"}}`},
		{"a *Contact", SendRequest{To: []Recipient{&alice}},
			`{"to":{"email":"alice@example.com","name":"Alice"},"payload":{}}`},
		{"several are an array", SendRequest{To: []Recipient{alice, bob, Address("+46701234567")}, Payload: Payload{"company": "ACME"}},
			`{"to":[{"email":"alice@example.com","name":"Alice"},{"email":"bob@example.com","name":"Bob"},"+46701234567"],"payload":{"company":"ACME"}}`},
		{"every contact field", SendRequest{To: []Recipient{Contact{ID: "u1", Email: "e@example.com", Phone: "+46701234567", Name: "N",
			Slack: "U1", Telegram: "t1", Discord: "d1", PushTokens: []string{"p1"}, Language: "sv", Meta: map[string]any{"plan": "pro"}}}},
			`{"to":{"id":"u1","email":"e@example.com","phone":"+46701234567","name":"N","slack_id":"U1","telegram":"t1","discord":"d1",
			"push_token":"p1","language":"sv","meta":{"plan":"pro"}},"payload":{}}`},
		{"several push tokens", SendRequest{To: []Recipient{Contact{PushTokens: []string{"p1", "p2"}}}},
			`{"to":{"push_tokens":["p1","p2"]},"payload":{}}`},
		{"language", SendRequest{To: []Recipient{Address("alice@example.com")}, Language: "sv"},
			`{"to":"alice@example.com","payload":{},"language":"sv"}`},
		{"overrides", SendRequest{To: []Recipient{Address("alice@example.com")}, Overrides: &Overrides{
			Email: &EmailOverrides{Subject: "Hi", ReplyTo: []string{"r@example.com"}, CC: []string{"c@example.com"}, BCC: []string{"b@example.com"}},
			SMS:   &SMSOverrides{SenderID: "ACME"},
			Brand: &BrandOverrides{Logotype: "https://cdn.example.com/logo.png"},
		}},
			`{"to":"alice@example.com","payload":{},"overrides":{"email":{"subject":"Hi","reply_to":["r@example.com"],"cc":["c@example.com"],
			"bcc":["b@example.com"]},"sms":{"sender_id":"ACME"},"brand":{"logotype":"https://cdn.example.com/logo.png"}}}`},
		{"partial overrides", SendRequest{To: []Recipient{Address("alice@example.com")}, Overrides: &Overrides{Email: &EmailOverrides{Subject: "Hi"}}},
			`{"to":"alice@example.com","payload":{},"overrides":{"email":{"subject":"Hi"}}}`},
		{"from address", SendRequest{To: []Recipient{Address("alice@example.com")}, From: Address("team@acme.example")},
			`{"to":"alice@example.com","payload":{},"from":"team@acme.example"}`},
		{"from contact", SendRequest{To: []Recipient{Address("alice@example.com")}, From: Contact{Email: "team@acme.example", Name: "ACME"}},
			`{"to":"alice@example.com","payload":{},"from":{"email":"team@acme.example","name":"ACME"}}`},
		{"nested payload", SendRequest{To: []Recipient{Address("alice@example.com")}, Payload: Payload{"order": map[string]any{"id": 42, "items": []string{"a"}}}},
			`{"to":"alice@example.com","payload":{"order":{"id":42,"items":["a"]}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, b := sendBothWays(t, "welcome", tt.req, acceptedJSON)
			assert.JSONEq(t, tt.want, string(a.Body))
			assert.Equal(t, string(a.Body), string(b.Body), "Send and the builder send the same bytes")
			// Only the fields that were set are on the wire.
			var got, want map[string]json.RawMessage
			require.NoError(t, json.Unmarshal(a.Body, &got))
			require.NoError(t, json.Unmarshal([]byte(tt.want), &want))
			for _, k := range []string{"to", "payload", "language", "overrides", "from"} {
				_, inGot := got[k]
				_, inWant := want[k]
				assert.Equal(t, inWant, inGot, k)
			}
		})
	}
}

func TestSendIdempotencyKey(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(200, acceptedJSON))
	ctx := context.Background()
	res1, err := h.c.Event("welcome").To(Address("a@example.com")).Send(ctx)
	require.NoError(t, err)
	res2, err := h.c.Event("welcome").To(Address("a@example.com")).Send(ctx)
	require.NoError(t, err)
	res3, err := h.c.Event("welcome").To(Address("a@example.com")).IdempotencyKey("order-42-welcome").Send(ctx)
	require.NoError(t, err)

	rs := h.requests()
	require.Len(t, rs, 3)
	assert.Regexp(t, uuidV4, rs[0].Header.Get("X-Idempotency-Key"))
	assert.Regexp(t, uuidV4, rs[1].Header.Get("X-Idempotency-Key"))
	assert.NotEqual(t, rs[0].Header.Get("X-Idempotency-Key"), rs[1].Header.Get("X-Idempotency-Key"), "one key per logical send")
	assert.Equal(t, "order-42-welcome", rs[2].Header.Get("X-Idempotency-Key"))
	assert.Equal(t, rs[0].Header.Get("X-Idempotency-Key"), res1.IdempotencyKey)
	assert.Equal(t, rs[1].Header.Get("X-Idempotency-Key"), res2.IdempotencyKey)
	assert.Equal(t, "order-42-welcome", res3.IdempotencyKey)
}

func TestEventBuilderSharesNothing(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(200, acceptedJSON))
	ctx := context.Background()

	first := h.c.Event("welcome").To(Address("alice@example.com")).Payload(Payload{"a": 1}).
		Language("sv").Channel(ChannelEmail).From(Address("team@acme.example")).
		Overrides(&Overrides{SMS: &SMSOverrides{SenderID: "X"}}).IdempotencyKey("k1")
	_, err := first.Send(ctx)
	require.NoError(t, err)
	_, err = first.Send(ctx) // the same builder again sends the same thing
	require.NoError(t, err)
	_, err = h.c.Event("welcome").To(Address("bob@example.com")).Send(ctx)
	require.NoError(t, err)

	rs := h.requests()
	require.Len(t, rs, 3)
	assert.Equal(t, string(rs[0].Body), string(rs[1].Body))
	assert.Equal(t, "k1", rs[1].Header.Get("X-Idempotency-Key"))
	assert.Equal(t, "/v1/send/welcome", rs[2].EscapedPath, "no channel leaked")
	assert.JSONEq(t, `{"to":"bob@example.com","payload":{}}`, string(rs[2].Body), "nothing leaked")
	assert.NotEqual(t, "k1", rs[2].Header.Get("X-Idempotency-Key"))

	// A fresh builder with the same settings sends what the first one did.
	fresh := newMockHarness(t)
	fresh.script(reply(200, acceptedJSON))
	_, err = fresh.c.Event("welcome").To(Address("alice@example.com")).Payload(Payload{"a": 1}).
		Language("sv").Channel(ChannelEmail).From(Address("team@acme.example")).
		Overrides(&Overrides{SMS: &SMSOverrides{SenderID: "X"}}).IdempotencyKey("k1").Send(ctx)
	require.NoError(t, err)
	assert.Equal(t, string(rs[0].Body), string(fresh.last().Body))

	// To appends.
	b := h.c.Event("x").To(Address("a@example.com")).To(Address("b@example.com"), Address("c@example.com"))
	assert.Len(t, b.Request().To, 3)
}

func TestSendResponseDecoding(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		headers  []string
		id       string
		event    string
		status   SendStatus
		notes    []SentNotification
		replayed bool
	}{
		{name: "seed object", body: acceptedJSON, id: "550e8400-e29b-41d4-a716-446655440000", event: "welcome", status: SendAccepted,
			notes: []SentNotification{{ID: "550e8400-e29b-41d4-a716-446655440000", Event: "welcome", Status: SendAccepted}}},
		{name: "array", body: ` [{"id":"n1","event":"welcome","status":"accepted"},{"id":"n2","event":"welcome","status":"accepted"}]`,
			id: "n1", event: "welcome", status: SendAccepted,
			notes: []SentNotification{{ID: "n1", Event: "welcome", Status: SendAccepted}, {ID: "n2", Event: "welcome", Status: SendAccepted}}},
		{name: "notifications array", body: `{"notifications":[{"id":"n1","event":"welcome","status":"accepted"},{"id":"n2","event":"welcome","status":"accepted"}]}`,
			id: "n1", event: "welcome", status: SendAccepted,
			notes: []SentNotification{{ID: "n1", Event: "welcome", Status: SendAccepted}, {ID: "n2", Event: "welcome", Status: SendAccepted}}},
		{name: "object with notifications and its own id", body: `{"id":"top","status":"accepted","notifications":[{"id":"n1"}]}`,
			id: "top", event: "welcome", status: SendAccepted, notes: []SentNotification{{ID: "n1"}}},
		{name: "replay", body: acceptedJSON, headers: []string{"X-Idempotent-Replay", "true"},
			id: "550e8400-e29b-41d4-a716-446655440000", event: "welcome", status: SendAccepted, replayed: true,
			notes: []SentNotification{{ID: "550e8400-e29b-41d4-a716-446655440000", Event: "welcome", Status: SendAccepted}}},
		{name: "replay header false", body: acceptedJSON, headers: []string{"X-Idempotent-Replay", "false"},
			id: "550e8400-e29b-41d4-a716-446655440000", event: "welcome", status: SendAccepted,
			notes: []SentNotification{{ID: "550e8400-e29b-41d4-a716-446655440000", Event: "welcome", Status: SendAccepted}}},
		{name: "unknown fields ignored", body: `{"id":"n1","event":"welcome","status":"accepted","queued_at":"x","extra":{"a":[1]}}`,
			id: "n1", event: "welcome", status: SendAccepted, notes: []SentNotification{{ID: "n1", Event: "welcome", Status: SendAccepted}}},
		{name: "no status, with an id", body: `{"id":"n1"}`, id: "n1", event: "welcome", notes: []SentNotification{{ID: "n1"}}},
		{name: "success with deliveries", body: `{"success":true,"deliveries":[{"email":"d1"},{"sms":"d2"}]}`, id: "d1", event: "welcome",
			status: SendAccepted, notes: []SentNotification{{ID: "d1", Status: SendAccepted}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, tt.body, tt.headers...))
			res, err := h.c.Event("welcome").To(Address("a@example.com"), Address("b@example.com")).Send(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tt.id, res.ID)
			assert.Equal(t, tt.event, res.Event)
			assert.Equal(t, tt.status, res.Status)
			assert.Equal(t, tt.replayed, res.Replayed)
			assert.Equal(t, tt.notes, res.Notifications)
			assert.Equal(t, tt.body, string(res.Raw), "the raw body is kept")
			assert.Equal(t, h.last().Header.Get("X-Idempotency-Key"), res.IdempotencyKey)
		})
	}
}

func TestSendRejectedWith2xx(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		status  int
		body    string
		message string
		code    string
		want    SendStatus
	}{
		{"status rejected", 200, `{"status":"rejected","error":"No sender configured"}`, "No sender configured", "", SendRejected},
		{"success false", 200, `{"success":false,"errors":[{"code":"INTEGRATION_MISSING","message":"No email integration configured"}]}`,
			"No email integration configured", "INTEGRATION_MISSING", SendRejected},
		{"one of an array", 201, `[{"id":"n1","status":"accepted"},{"id":"n2","status":"rejected","error":"No phone"}]`, "No phone", "", SendRejected},
		{"failed", 200, `{"id":"n1","status":"failed"}`, `the service answered with status "failed"`, "", "failed"},
		{"queued", 202, `{"id":"n1","status":"queued"}`, `the service answered with status "queued"`, "", "queued"},
		{"error", 200, `{"id":"n1","status":"error","error":{"code":"E1","message":"boom"}}`, "boom", "E1", "error"},
		{"a bounced entry in an array", 200, `[{"id":"n1","status":"accepted"},{"id":"n2","status":"bounced"}]`,
			`the service answered with status "bounced"`, "", "bounced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(tt.status, tt.body, "X-Request-Id", "req-9"))
			res, err := h.c.Event("welcome").To(Address("a@example.com")).Send(context.Background())
			require.Error(t, err)
			require.NotNil(t, res, "the response comes with the error")
			assert.Equal(t, tt.want, res.Status)
			assert.ErrorIs(t, err, ErrRejected)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			if tt.message == "*" {
				assert.NotEmpty(t, apiErr.Message)
			} else {
				assert.Equal(t, tt.message, apiErr.Message)
			}
			assert.Equal(t, tt.code, apiErr.Code)
			assert.Equal(t, "req-9", apiErr.RequestID)
			assert.Equal(t, res.IdempotencyKey, apiErr.IdempotencyKey)
			assert.Equal(t, tt.body, string(apiErr.Body))
			assert.Len(t, h.requests(), 1, "a rejection is not retried")
		})
	}
}

func TestSendMalformedButValidJSON(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(200, `"just a string"`))
	_, err := h.c.Event("welcome").To(Address("a@example.com")).Send(context.Background())
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.Equal(t, 200, te.StatusCode)
	assert.Equal(t, "/v1/send/{event}", te.Path)
	assert.NotEmpty(t, te.IdempotencyKey)
	assert.Contains(t, err.Error(), "malformed response body")

	// A 2xx that names no notification did not accept anything that can
	// be followed: an error, not a response with an empty ID.
	for _, body := range []string{`[1,2]`, `{}`, `null`, `[]`, `{"event":"welcome","status":"accepted"}`,
		`[{"id":"n1","status":"accepted"},{"status":"accepted"}]`, `{"success":true,"deliveries":[]}`, `{"success":true}`} {
		h2 := newMockHarness(t)
		h2.script(reply(200, body))
		res, err := h2.c.Event("welcome").To(Address("a@example.com")).Send(context.Background())
		assert.ErrorIs(t, err, ErrMalformed, body)
		assert.Nil(t, res, body)
		assert.Len(t, h2.requests(), 1, "%s: a whole body of the wrong shape is not retried", body)
	}
}

func TestSendValidation(t *testing.T) {
	t.Parallel()
	to := []Recipient{Address("alice@example.com")}
	var nilContact *Contact
	var nilAddress *Address
	tests := []struct {
		name  string
		event string
		req   SendRequest
		field string
	}{
		{"empty event", "", SendRequest{To: to}, "event"},
		{"unknown channel", "welcome", SendRequest{To: to, Channel: "fax"}, "channel"},
		{"channel in capitals", "welcome", SendRequest{To: to, Channel: "EMAIL"}, "channel"},
		{"no recipient", "welcome", SendRequest{}, "to"},
		{"empty recipient list", "welcome", SendRequest{To: []Recipient{}}, "to"},
		{"nil recipient", "welcome", SendRequest{To: []Recipient{nil}}, "to"},
		{"nil recipient of several", "welcome", SendRequest{To: []Recipient{Address("a@example.com"), nil}}, "to[1]"},
		{"nil *Contact", "welcome", SendRequest{To: []Recipient{nilContact}}, "to"},
		{"nil *Address", "welcome", SendRequest{To: []Recipient{nilAddress}}, "to"},
		{"empty address", "welcome", SendRequest{To: []Recipient{Address("")}}, "to"},
		{"contact without identifier", "welcome", SendRequest{To: []Recipient{Contact{Name: "Alice", Language: "sv"}}}, "to"},
		{"*Contact without identifier", "welcome", SendRequest{To: []Recipient{&Contact{Name: "Alice"}}}, "to"},
		{"address not E.164", "welcome", SendRequest{To: []Recipient{Address("+12ab")}}, "to"},
		{"contact phone not E.164", "welcome", SendRequest{To: []Recipient{Contact{Phone: "0701234567"}}}, "to.phone"},
		{"second contact phone", "welcome", SendRequest{To: []Recipient{Address("a@example.com"), Contact{Phone: "+0701234567"}}}, "to[1].phone"},
		{"empty push token", "welcome", SendRequest{To: []Recipient{Contact{PushTokens: []string{"t", ""}}}}, "to.push_tokens[1]"},
		{"address with control character", "welcome", SendRequest{To: []Recipient{Address("a@example.com\n")}}, "to"},
		{"bad from", "welcome", SendRequest{To: to, From: Contact{Name: "x"}}, "from"},
		{"payload with a channel", "welcome", SendRequest{To: to, Payload: Payload{"c": make(chan int)}}, "payload"},
		{"payload with a func", "welcome", SendRequest{To: to, Payload: Payload{"f": func() {}}}, "payload"},
		{"payload with NaN", "welcome", SendRequest{To: to, Payload: Payload{"x": math.NaN()}}, "payload"},
		{"payload with Inf", "welcome", SendRequest{To: to, Payload: Payload{"x": math.Inf(1)}}, "payload"},
		{"contact meta not encodable", "welcome", SendRequest{To: []Recipient{Contact{Email: "a@example.com", Meta: map[string]any{"f": func() {}}}}}, "to"},
		{"from meta not encodable", "welcome", SendRequest{To: to, From: Contact{Email: "a@example.com", Meta: map[string]any{"f": func() {}}}}, "from"},
		{"idempotency key with CRLF", "welcome", SendRequest{To: to, IdempotencyKey: "abc\r\nX-Evil: 1"}, "idempotency_key"},
		{"idempotency key with DEL", "welcome", SendRequest{To: to, IdempotencyKey: "abc\x7f"}, "idempotency_key"},
		{"idempotency key of 256 bytes", "welcome", SendRequest{To: to, IdempotencyKey: strings.Repeat("k", 256)}, "idempotency_key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, viaBuilder := range []bool{false, true} {
				h := newMockHarness(t)
				h.script(reply(200, acceptedJSON))
				var (
					res *SendResponse
					err error
				)
				if viaBuilder {
					res, err = h.c.Event(tt.event).To(tt.req.To...).Channel(tt.req.Channel).Payload(tt.req.Payload).
						From(tt.req.From).IdempotencyKey(tt.req.IdempotencyKey).Send(context.Background())
				} else {
					res, err = h.c.Send(context.Background(), tt.event, tt.req)
				}
				assert.Nil(t, res)
				var ve *ValidationError
				require.ErrorAs(t, err, &ve)
				assert.ErrorIs(t, err, ErrValidation)
				assert.Equal(t, tt.field, ve.Field)
				assert.NotEmpty(t, ve.Reason)
				assert.Contains(t, err.Error(), tt.field)
				assert.Zero(t, h.mt.GetTotalCallCount(), "nothing is sent")
			}
		})
	}
}

func TestSendValidInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		to   Recipient
	}{
		{"E.164", Address("+46701234567")},
		{"shortest E.164", Address("+12")},
		{"longest E.164", Address("+123456789012345")},
		{"contact E.164", Contact{Phone: "+46701234567"}},
		{"user id", Address("user-123")},
		{"slack channel", Address("#general")},
		{"slack only", Contact{Slack: "U123"}},
		{"telegram only", Contact{Telegram: "123"}},
		{"discord only", Contact{Discord: "123"}},
		{"push only", Contact{PushTokens: []string{"tok"}}},
		{"id only", &Contact{ID: "u1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, acceptedJSON))
			_, err := h.c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{tt.to}, IdempotencyKey: strings.Repeat("k", 255)})
			require.NoError(t, err)
			assert.Equal(t, 1, h.mt.GetTotalCallCount())
		})
	}
}

// TestSendResponseRequestID: a send's answer gives the request id, which
// webhook events carry as request_id; so does a rejection and a cancel. A
// hostile id is kept as an error's is: printable, cut, without the key or
// a signing secret.
func TestSendResponseRequestID(t *testing.T) {
	t.Parallel()
	const key = "test_RqId0123456789abcdef"
	tests := []struct {
		name, header, want string
	}{
		{"given", "req_abc123", "req_abc123"},
		{"none", "", ""},
		{"the key echoed", "req_" + key, "req_[redacted]"},
		{"a signing secret", "whsec_leak123", "whsec_****"},
		{"control characters", "req_1\x1b[31m", "req_1[31m"},
		{"long", strings.Repeat("r", 300), strings.Repeat("r", 256) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarnessKey(t, key)
			var hdr []string
			if tt.header != "" {
				hdr = []string{"X-Request-Id", tt.header}
			}
			h.script(reply(200, acceptedJSON, hdr...),
				reply(200, `{"status":"rejected","error":"No sender configured"}`, hdr...),
				reply(200, `{"success":true,"cancelled":1}`, hdr...))
			res, err := h.c.Event("welcome").To(Address("alice@example.com")).Send(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.RequestID)

			res, err = h.c.Event("welcome").To(Address("alice@example.com")).Send(context.Background())
			require.ErrorIs(t, err, ErrRejected)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.want, res.RequestID)
			assert.Equal(t, tt.want, ae.RequestID)

			c, err := h.c.Cancel(context.Background(), "welcome", Address("alice@example.com"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.RequestID)
		})
	}
}

// TestSendResponseRequestIDFromTheLastAttempt: after a retry, the id is the
// answer's that was used.
func TestSendResponseRequestIDFromTheLastAttempt(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(503, `{}`, "X-Request-Id", "req_1"), reply(200, acceptedJSON, "X-Request-Id", "req_2"))
	res, err := sendWelcome(h, context.Background())
	require.NoError(t, err)
	assert.Equal(t, "req_2", res.RequestID)
}

func TestBroadcastBuilder(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(200, `[{"id":"n1","event":"deploy","status":"accepted"},{"id":"n2","event":"deploy","status":"accepted"}]`))
	b := h.c.Event("deploy").Broadcast().Payload(Payload{"version": "1.2"})
	assert.True(t, b.Request().Broadcast)
	res, err := b.Send(context.Background())
	require.NoError(t, err)
	assert.Len(t, res.Notifications, 2)
	checkRequest(t, h.last(), wantRequest{"POST", "/v1/send/deploy", "", `{"payload":{"version":"1.2"}}`, true})

	_, err = h.c.Event("deploy").Broadcast().To(Address("ops@example.com")).Send(context.Background())
	assert.ErrorIs(t, err, ErrValidation, "To and Broadcast together")
	_, err = h.c.Event("deploy").Send(context.Background())
	var ve *ValidationError
	require.ErrorAs(t, err, &ve, "a forgotten To is still an error")
	assert.Contains(t, ve.Reason, "Broadcast")
	assert.Len(t, h.requests(), 1)
}
