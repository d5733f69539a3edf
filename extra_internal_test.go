package sendivent

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExtraOnTheWire(t *testing.T) {
	t.Parallel()
	ada := []Recipient{Address("ada@example.com")}
	tests := []struct {
		name string
		req  SendRequest
		want string
	}{
		{"overrides of every undocumented channel", SendRequest{To: ada, Overrides: &Overrides{
			Email: &EmailOverrides{Subject: "Hi"},
			Extra: map[string]any{
				"push":     map[string]any{"title": "Your order", "badge": 1},
				"slack":    map[string]any{"unfurl_links": false},
				"telegram": map[string]any{"parse_mode": "HTML"},
				"whatsapp": map[string]any{"preview_url": true},
				"discord":  map[string]any{"embeds": []any{map[string]any{"title": "Shipped"}}},
			},
		}}, `{"to":"ada@example.com","payload":{},"overrides":{"email":{"subject":"Hi"},` +
			`"discord":{"embeds":[{"title":"Shipped"}]},"push":{"badge":1,"title":"Your order"},` +
			`"slack":{"unfurl_links":false},"telegram":{"parse_mode":"HTML"},"whatsapp":{"preview_url":true}}}`},
		{"only extra overrides", SendRequest{To: ada, Overrides: &Overrides{Extra: map[string]any{"push": map[string]any{"sound": "default"}}}},
			`{"to":"ada@example.com","payload":{},"overrides":{"push":{"sound":"default"}}}`},
		{"inside email, sms and brand", SendRequest{To: ada, Overrides: &Overrides{
			Email: &EmailOverrides{Subject: "Hi", Extra: map[string]any{"from_name": "ACME"}},
			SMS:   &SMSOverrides{Extra: map[string]any{"flash": true}},
			Brand: &BrandOverrides{Logotype: "https://example.com/l.png", Extra: map[string]any{"color": "#f00"}},
		}}, `{"to":"ada@example.com","payload":{},"overrides":{"email":{"subject":"Hi","from_name":"ACME"},` +
			`"sms":{"flash":true},"brand":{"logotype":"https://example.com/l.png","color":"#f00"}}}`},
		{"a body field", SendRequest{To: ada, Language: "sv", Extra: map[string]any{"send_at": "2026-05-01T08:00:00Z", "tags": []string{"a"}}},
			`{"to":"ada@example.com","payload":{},"language":"sv","send_at":"2026-05-01T08:00:00Z","tags":["a"]}`},
		{"a contact field", SendRequest{To: []Recipient{Contact{Email: "ada@example.com", Extra: map[string]any{"account_credits": 5}}}},
			`{"to":{"email":"ada@example.com","account_credits":5},"payload":{}}`},
		{"an empty map adds nothing", SendRequest{To: ada, Extra: map[string]any{}, Overrides: &Overrides{Extra: map[string]any{}}},
			`{"to":"ada@example.com","payload":{},"overrides":{}}`},
		{"broadcast", SendRequest{Broadcast: true, Payload: Payload{"version": "1.2"}},
			`{"payload":{"version":"1.2"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, acceptedJSON))
			_, err := h.c.Send(context.Background(), "welcome", tt.req)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(h.last().Body))
			enc, err := encodeSend("welcome", tt.req)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(enc), "the same bytes every time")
		})
	}
}

func TestExtraRefused(t *testing.T) {
	t.Parallel()
	ada := []Recipient{Address("ada@example.com")}
	tests := []struct {
		name  string
		req   SendRequest
		field string
	}{
		{"a body field", SendRequest{To: ada, Extra: map[string]any{"payload": 1}}, "request.extra"},
		{"to of a broadcast", SendRequest{Broadcast: true, Extra: map[string]any{"to": "x"}}, "request.extra"},
		{"an empty key", SendRequest{To: ada, Extra: map[string]any{"": 1}}, "request.extra"},
		{"a value that cannot be encoded", SendRequest{To: ada, Extra: map[string]any{"f": func() {}}}, "request.extra"},
		{"an overrides field", SendRequest{To: ada, Overrides: &Overrides{Extra: map[string]any{"email": map[string]any{}}}}, "overrides.extra"},
		{"an email field", SendRequest{To: ada, Overrides: &Overrides{Email: &EmailOverrides{Extra: map[string]any{"reply_to": "x"}}}}, "overrides.email.extra"},
		{"an sms field", SendRequest{To: ada, Overrides: &Overrides{SMS: &SMSOverrides{Extra: map[string]any{"sender_id": "x"}}}}, "overrides.sms.extra"},
		{"a brand field", SendRequest{To: ada, Overrides: &Overrides{Brand: &BrandOverrides{Extra: map[string]any{"logotype": "x"}}}}, "overrides.brand.extra"},
		{"a contact field", SendRequest{To: []Recipient{Contact{Email: "a@example.com", Extra: map[string]any{"email": "b@example.com"}}}}, "to.extra"},
		{"another spelling of one", SendRequest{To: ada, From: Contact{Email: "a@example.com", Extra: map[string]any{"externalId": "u1"}}}, "from.extra"},
		{"in the second recipient", SendRequest{To: []Recipient{Address("a@example.com"), &Contact{ID: "u", Extra: map[string]any{"slack": "U1"}}}}, "to[1].extra"},
		{"broadcast with recipients", SendRequest{Broadcast: true, To: ada}, "to"},
		{"neither", SendRequest{}, "to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, acceptedJSON))
			_, err := h.c.Send(context.Background(), "welcome", tt.req)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.Empty(t, h.requests())
		})
	}
}

func TestExtraJSON(t *testing.T) {
	t.Parallel()
	_, err := json.Marshal(Contact{Email: "a@example.com", Extra: map[string]any{"push_token": "t"}})
	assert.ErrorIs(t, err, ErrValidation, "a clash fails the encoding too")
	_, err = json.Marshal(&Overrides{Extra: map[string]any{"f": func() {}}})
	assert.Error(t, err)

	var o Overrides
	require.NoError(t, json.Unmarshal([]byte(`{"email":{"subject":"Hi","from_name":"ACME"},"sms":{"sender_id":"ACME","flash":true},`+
		`"brand":{"logotype":"l","color":"red"},"push":{"title":"T"}}`), &o))
	assert.Equal(t, "Hi", o.Email.Subject)
	assert.Equal(t, map[string]any{"from_name": "ACME"}, o.Email.Extra)
	assert.Equal(t, map[string]any{"flash": true}, o.SMS.Extra)
	assert.Equal(t, map[string]any{"color": "red"}, o.Brand.Extra)
	assert.Equal(t, map[string]any{"push": map[string]any{"title": "T"}}, o.Extra)
	back, err := json.Marshal(o)
	require.NoError(t, err)
	assert.JSONEq(t, `{"email":{"subject":"Hi","from_name":"ACME"},"sms":{"sender_id":"ACME","flash":true},`+
		`"brand":{"logotype":"l","color":"red"},"push":{"title":"T"}}`, string(back), "a round trip keeps everything")

	assert.Error(t, json.Unmarshal([]byte(`{"email":{"subject":5}}`), &o))
	assert.Error(t, json.Unmarshal([]byte(`[1]`), &o))
}
