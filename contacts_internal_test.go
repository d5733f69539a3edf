package sendivent

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const storedJSON = `{"success":true,"contact":{"uuid":"c-1","email":"ada@example.com"}}`

func TestContactsRequestShapes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		answer string
		call   func(c *Client) error
		want   wantRequest
	}{
		{"upsert", storedJSON, func(c *Client) error {
			_, err := c.Contacts.Upsert(ctx, Contact{Email: "ada@example.com", Name: "Ada Lovelace", Avatar: "https://example.com/a.png", Username: "ada"})
			return err
		}, wantRequest{"POST", "/v1/contacts", "", `{"email":"ada@example.com","name":"Ada Lovelace","avatar":"https://example.com/a.png","username":"ada"}`, true}},
		{"upsert with extra", storedJSON, func(c *Client) error {
			_, err := c.Contacts.Upsert(ctx, Contact{ID: "user_1", Extra: map[string]any{"account_credits": 5}})
			return err
		}, wantRequest{"POST", "/v1/contacts", "", `{"id":"user_1","account_credits":5}`, true}},
		{"get by plus-tagged email", storedJSON, func(c *Client) error {
			_, err := c.Contacts.Get(ctx, "user+tag@example.com")
			return err
		}, wantRequest{"GET", "/v1/contacts/user%2Btag%40example.com", "", "", false}},
		{"get by phone", storedJSON, func(c *Client) error {
			_, err := c.Contacts.Get(ctx, "+46701234567")
			return err
		}, wantRequest{"GET", "/v1/contacts/%2B46701234567", "", "", false}},
		{"get by id with slash and space", storedJSON, func(c *Client) error {
			_, err := c.Contacts.Get(ctx, "team a/b")
			return err
		}, wantRequest{"GET", "/v1/contacts/team%20a%2Fb", "", "", false}},
		{"update", storedJSON, func(c *Client) error {
			_, err := c.Contacts.Update(ctx, "ada@example.com", Contact{Language: "sv"})
			return err
		}, wantRequest{"PATCH", "/v1/contacts/ada%40example.com", "", `{"language":"sv"}`, false}},
		{"delete", `{"success":true,"deleted":true}`, func(c *Client) error {
			return c.Contacts.Delete(ctx, "550e8400-e29b-41d4-a716-446655440000")
		}, wantRequest{"DELETE", "/v1/contacts/550e8400-e29b-41d4-a716-446655440000", "", "", false}},
		{"list page", `{"success":true,"data":{"contacts":[],"total":0,"limit":50,"offset":100}}`, func(c *Client) error {
			_, err := c.Contacts.ListPage(ctx, ContactListParams{Search: "ada lovelace", Limit: 50, Offset: 100})
			return err
		}, wantRequest{"GET", "/v1/contacts", "limit=50&offset=100&search=ada+lovelace", "", false}},
		{"list page, defaults", `{"success":true,"data":{"contacts":[],"total":0}}`, func(c *Client) error {
			_, err := c.Contacts.ListPage(ctx, ContactListParams{})
			return err
		}, wantRequest{"GET", "/v1/contacts", "", "", false}},
		{"add push token", `{"success":true}`, func(c *Client) error {
			return c.Contacts.AddPushToken(ctx, "ada@example.com", "ExponentPushToken[xxxx]")
		}, wantRequest{"POST", "/v1/contacts/ada%40example.com/push-tokens", "", `{"token":"ExponentPushToken[xxxx]"}`, true}},
		{"remove push token", `{"success":true}`, func(c *Client) error {
			return c.Contacts.RemovePushToken(ctx, "ada@example.com", "ExponentPushToken[xxxx]")
		}, wantRequest{"DELETE", "/v1/contacts/ada%40example.com/push-tokens", "", `{"token":"ExponentPushToken[xxxx]"}`, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, tt.answer))
			require.NoError(t, tt.call(h.c))
			require.Len(t, h.requests(), 1)
			checkRequest(t, h.last(), tt.want)
		})
	}
}

func TestContactsAnswers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name     string
		status   int
		answer   string
		call     func(c *Client) error
		sentinel error
		attempts int
	}{
		{"unknown contact", 404, `{"error":"Contact not found: user_123"}`, func(c *Client) error {
			_, err := c.Contacts.Get(ctx, "user_123")
			return err
		}, ErrNotFound, 1},
		{"sandbox's 500 for an unknown contact", 500, `{"error":"Internal server error"}`, func(c *Client) error {
			_, err := c.Contacts.Get(ctx, "user_123")
			return err
		}, ErrServer, 3},
		{"update of an unknown contact", 404, `{"error":"Contact not found"}`, func(c *Client) error {
			_, err := c.Contacts.Update(ctx, "user_123", Contact{Name: "A"})
			return err
		}, ErrNotFound, 1},
		{"no contact in the answer", 200, `{"success":true}`, func(c *Client) error {
			_, err := c.Contacts.Get(ctx, "c-1")
			return err
		}, ErrMalformed, 1},
		{"not JSON", 200, `<html>`, func(c *Client) error {
			_, err := c.Contacts.Upsert(ctx, Contact{Email: "a@example.com"})
			return err
		}, ErrMalformed, 1},
		{"success false", 200, `{"success":false,"error":"Contact quota exceeded","code":"QUOTA_EXCEEDED"}`, func(c *Client) error {
			_, err := c.Contacts.Upsert(ctx, Contact{Email: "a@example.com"})
			return err
		}, ErrRejected, 1},
		{"deleted false", 200, `{"success":true,"deleted":false}`, func(c *Client) error {
			return c.Contacts.Delete(ctx, "c-1")
		}, ErrRejected, 1},
		{"token refused", 200, `{"success":false}`, func(c *Client) error {
			return c.Contacts.AddPushToken(ctx, "c-1", "t")
		}, ErrRejected, 1},
		{"delete answered 204", 204, ``, func(c *Client) error {
			return c.Contacts.Delete(ctx, "c-1")
		}, nil, 1},
		{"token answered with anything", 200, `not json`, func(c *Client) error {
			return c.Contacts.RemovePushToken(ctx, "c-1", "t")
		}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(tt.status, tt.answer))
			err := tt.call(h.c)
			assert.Len(t, h.requests(), tt.attempts)
			if tt.sentinel == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.sentinel)
			if tt.sentinel == ErrRejected {
				var ae *APIError
				require.ErrorAs(t, err, &ae)
				assert.Equal(t, 200, ae.StatusCode)
				assert.NotEmpty(t, ae.Message)
			}
		})
	}
}

func TestContactsValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newMockHarness(t)
	h.script(reply(200, storedJSON))
	c := h.c.Contacts
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"empty identifier", func() error { _, err := c.Get(ctx, ""); return err }, "identifier"},
		{"spaced identifier", func() error { _, err := c.Get(ctx, " ada@example.com"); return err }, "identifier"},
		{"control character", func() error { return c.Delete(ctx, "a\nb") }, "identifier"},
		{"dot dot", func() error { _, err := c.Update(ctx, "..", Contact{Name: "A"}); return err }, "identifier"},
		{"upsert without identifier", func() error { _, err := c.Upsert(ctx, Contact{Name: "A"}); return err }, "contact"},
		{"upsert by slack id only", func() error { _, err := c.Upsert(ctx, Contact{Slack: "U1"}); return err }, "contact"},
		{"upsert bad email", func() error { _, err := c.Upsert(ctx, Contact{Email: "ada"}); return err }, "contact.email"},
		{"upsert bad phone", func() error { _, err := c.Upsert(ctx, Contact{Phone: "0701234567"}); return err }, "contact.phone"},
		{"upsert extra clash", func() error {
			_, err := c.Upsert(ctx, Contact{Email: "a@example.com", Extra: map[string]any{"external_id": "x"}})
			return err
		}, "contact.extra"},
		{"upsert meta that cannot be encoded", func() error {
			_, err := c.Upsert(ctx, Contact{Email: "a@example.com", Meta: map[string]any{"f": func() {}}})
			return err
		}, "contact"},
		{"update with nothing", func() error { _, err := c.Update(ctx, "a@example.com", Contact{Meta: map[string]any{}}); return err }, "contact"},
		{"update bad push token", func() error {
			_, err := c.Update(ctx, "a@example.com", Contact{PushTokens: []string{"t\x00"}})
			return err
		}, "contact.push_tokens[0]"},
		{"empty token", func() error { return c.AddPushToken(ctx, "a@example.com", "") }, "token"},
		{"spaced token", func() error { return c.RemovePushToken(ctx, "a@example.com", " t") }, "token"},
		{"token of a bad identifier", func() error { return c.RemovePushToken(ctx, "", "t") }, "identifier"},
		{"limit over 100", func() error { _, err := c.ListPage(ctx, ContactListParams{Limit: 101}); return err }, "limit"},
		{"negative limit", func() error { _, err := c.ListPage(ctx, ContactListParams{Limit: -1}); return err }, "limit"},
		{"negative offset", func() error { _, err := c.ListPage(ctx, ContactListParams{Offset: -1}); return err }, "offset"},
	}
	for _, tt := range tests {
		err := tt.call()
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, tt.name)
		assert.Equal(t, tt.field, ve.Field, tt.name)
		assert.ErrorIs(t, err, ErrValidation, tt.name)
	}
	assert.Empty(t, h.requests(), "bad input sends nothing")

	var list []error
	for _, err := range c.List(ctx, ContactListParams{Limit: 500}) {
		list = append(list, err)
	}
	require.Len(t, list, 1, "List yields the error once, then stops")
	assert.ErrorIs(t, list[0], ErrValidation)
}
