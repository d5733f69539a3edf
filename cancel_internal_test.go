package sendivent

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCancel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, event string
		to          Recipient
		path        string
		body        string
	}{
		{"address", "drip", Address("user@example.com"), "/v1/cancel/drip", `{"to":"user@example.com"}`},
		{"contact", "drip", Contact{Email: "user@example.com", Name: "Alice"}, "/v1/cancel/drip",
			`{"to":{"email":"user@example.com","name":"Alice"}}`},
		{"*contact", "drip", &Contact{Phone: "+46701234567"}, "/v1/cancel/drip", `{"to":{"phone":"+46701234567"}}`},
		{"escaped event", "drip/week 1", Address("user@example.com"), "/v1/cancel/drip%2Fweek%201", `{"to":"user@example.com"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, `{"success":true,"cancelled":2,"extra":"ignored"}`))
			res, err := h.c.Cancel(context.Background(), tt.event, tt.to)
			require.NoError(t, err)
			assert.True(t, res.Success)
			assert.Equal(t, 2, res.Cancelled)
			assert.JSONEq(t, `{"success":true,"cancelled":2,"extra":"ignored"}`, string(res.Raw))

			r := h.last()
			assert.Equal(t, "POST", r.Method)
			assert.Equal(t, tt.path, r.EscapedPath)
			assert.Equal(t, tt.body, string(r.Body))
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			assert.Equal(t, "Bearer test_key", r.Header.Get("Authorization"))
			assert.Regexp(t, uuidV4, r.Header.Get("X-Idempotency-Key"))
		})
	}
}

func TestCancelRetriesUnderOneKey(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(503, `{"error":"busy"}`), reply(200, `{"success":true,"cancelled":0}`))
	res, err := h.c.Cancel(context.Background(), "drip", Address("user@example.com"))
	require.NoError(t, err)
	assert.Equal(t, 0, res.Cancelled)
	rs := h.requests()
	require.Len(t, rs, 2)
	assert.Equal(t, rs[0].Header.Get("X-Idempotency-Key"), rs[1].Header.Get("X-Idempotency-Key"))
	assert.Equal(t, string(rs[0].Body), string(rs[1].Body), "the body is sent again whole")
}

func TestCancelErrors(t *testing.T) {
	t.Parallel()
	var nilContact *Contact
	tests := []struct {
		name  string
		event string
		to    Recipient
		field string
	}{
		{"empty event", "", Address("a@example.com"), "event"},
		{"nil recipient", "drip", nil, "to"},
		{"nil contact", "drip", nilContact, "to"},
		{"contact without identifier", "drip", Contact{Name: "x"}, "to"},
		{"bad phone", "drip", Address("+46abc"), "to"},
		{"meta not encodable", "drip", Contact{Email: "a@example.com", Meta: map[string]any{"c": make(chan int)}}, "to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, `{"success":true,"cancelled":1}`))
			res, err := h.c.Cancel(context.Background(), tt.event, tt.to)
			assert.Nil(t, res)
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.Zero(t, h.mt.GetTotalCallCount())
		})
	}

	t.Run("not found", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t)
		h.script(reply(404, `{"error":"Event 'drip' not found","code":"EVENT_NOT_FOUND"}`))
		_, err := h.c.Cancel(context.Background(), "drip", Address("a@example.com"))
		assert.ErrorIs(t, err, ErrNotFound)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, "EVENT_NOT_FOUND", apiErr.Code)
		assert.NotEmpty(t, apiErr.IdempotencyKey)
	})
	t.Run("malformed", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t)
		h.script(reply(200, `{"cancelled":"two"}`))
		_, err := h.c.Cancel(context.Background(), "drip", Address("a@example.com"))
		var te *TransportError
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, ErrMalformed)
		assert.Equal(t, "/v1/cancel/{event}", te.Path)
		assert.NotEmpty(t, te.IdempotencyKey)
	})
}
