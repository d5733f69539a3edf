package sendivent

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStoredContactDecoding(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		answer string
		want   StoredContact
	}{
		{"snake case", `{"success":true,"contact":{"id":7,"uuid":"c-1","external_id":"user_1","email":"ada@example.com",
			"phone":"+46701234567","name":"Ada Lovelace","first_name":"Ada","last_name":"Lovelace","avatar":"https://example.com/a.png",
			"username":"ada","slack_id":"U1","telegram":12345,"discord":"987","push_tokens":["t1","t2"],"language":"sv",
			"meta":{"plan":"pro"},"created_at":"2026-04-01T12:00:00.000Z","updated_at":"2026-04-01T12:00:00Z"}}`,
			StoredContact{UUID: "c-1", ExternalID: "user_1", Email: "ada@example.com", Phone: "+46701234567", Name: "Ada Lovelace",
				FirstName: "Ada", LastName: "Lovelace", Avatar: "https://example.com/a.png", Username: "ada", Slack: "U1",
				Telegram: "12345", Discord: "987", PushTokens: []string{"t1", "t2"}, Language: "sv",
				Meta: map[string]any{"plan": "pro"}, CreatedAt: created, UpdatedAt: created}},
		{"camel case in a data envelope", `{"success":true,"data":{"contact":{"uuid":"c-1","externalId":"user_1","firstName":"Ada",
			"lastName":"Lovelace","slack":"U1","pushTokens":["t1"],"createdAt":"2026-04-01 12:00:00Z"}}}`,
			StoredContact{UUID: "c-1", ExternalID: "user_1", FirstName: "Ada", LastName: "Lovelace", Slack: "U1",
				PushTokens: []string{"t1"}, CreatedAt: created}},
		{"the contact itself", `{"uuid":"c-1","email":"ada@example.com","push_token":"t9"}`,
			StoredContact{UUID: "c-1", Email: "ada@example.com", PushTokens: []string{"t9"}}},
		{"a string id and fields of odd types", `{"contact":{"id":"c-2","name":["x"],"meta":"x","push_tokens":"t","created_at":"yesterday"}}`,
			StoredContact{UUID: "c-2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, tt.answer))
			got, err := h.c.Contacts.Get(context.Background(), "c-1")
			require.NoError(t, err)
			assert.NotEmpty(t, got.Raw)
			got.Raw = nil
			assert.Equal(t, tt.want, *got)
		})
	}
}

func TestContactValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    Contact
		field string
	}{
		{"email", Contact{Email: "a@example.com"}, ""},
		{"id", Contact{ID: "u1"}, ""},
		{"phone", Contact{Phone: "+46701234567"}, ""},
		{"slack", Contact{Slack: "U1"}, ""},
		{"telegram", Contact{Telegram: "1"}, ""},
		{"discord", Contact{Discord: "1"}, ""},
		{"push", Contact{PushTokens: []string{"t"}}, ""},
		{"nothing", Contact{}, "to[2]"},
		{"name and meta only", Contact{Name: "A", Language: "sv", Meta: map[string]any{"a": 1}}, "to[2]"},
		{"empty push token list", Contact{PushTokens: []string{}}, "to[2]"},
		{"local phone", Contact{Email: "a@example.com", Phone: "0701234567"}, "to[2].phone"},
		{"empty push token", Contact{PushTokens: []string{""}}, "to[2].push_tokens[0]"},
	}
	for _, tt := range tests {
		err := tt.in.validate("to[2]")
		if tt.field == "" {
			assert.NoError(t, err, tt.name)
			continue
		}
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, tt.name)
		assert.Equal(t, tt.field, ve.Field, tt.name)
		assert.ErrorIs(t, err, ErrValidation)
	}
}

func TestContactJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Contact{Email: "a@example.com"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"email":"a@example.com"}`, string(b), "unset fields are left out")
	b, err = json.Marshal(Address("a@example.com"))
	require.NoError(t, err)
	assert.Equal(t, `"a@example.com"`, string(b))
}
