package sendivent

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventsList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		answer string
		want   []EventInfo
	}{
		{"documented shape", `{"success":true,"data":{"events":[{"identifier":"user.welcome","name":"Welcome","channels":["email","sms"]}]}}`,
			[]EventInfo{{Identifier: "user.welcome", Name: "Welcome", Channels: []Channel{ChannelEmail, ChannelSMS}}}},
		{"channels as objects, no envelope", `{"events":[{"identifier":"a","channels":[{"channel":"push","enabled":true},{"name":"slack"},{"type":"sms"},{},3]}]}`,
			[]EventInfo{{Identifier: "a", Channels: []Channel{ChannelPush, ChannelSlack, ChannelSMS}}}},
		{"none", `{"success":true,"data":{"events":[]}}`, []EventInfo{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, tt.answer))
			got, err := h.c.Events.List(context.Background())
			require.NoError(t, err)
			checkRequest(t, h.last(), wantRequest{method: "GET", path: "/v1/events"})
			for i := range got {
				assert.NotEmpty(t, got[i].Raw)
				got[i].Raw = nil
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestEventsGet(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{
		`{"success":true,"data":{"event":{"identifier":"order.shipped","name":"Order shipped","channels":["email"],"templates":[{"channel":"email","language":"en"}]}}}`,
		`{"identifier":"order.shipped","name":"Order shipped","channels":["email"],"templates":[{"channel":"email","language":"en"}]}`,
	} {
		h := newMockHarness(t)
		h.script(reply(200, answer))
		e, err := h.c.Events.Get(context.Background(), "order.shipped")
		require.NoError(t, err)
		checkRequest(t, h.last(), wantRequest{method: "GET", path: "/v1/events/order.shipped"})
		assert.Equal(t, "order.shipped", e.Identifier)
		assert.Equal(t, "Order shipped", e.Name)
		assert.Equal(t, []Channel{ChannelEmail}, e.Channels)
		assert.JSONEq(t, `[{"channel":"email","language":"en"}]`, string(e.Templates))
	}

	h := newMockHarness(t)
	h.script(reply(404, `{"error":"Event 'nope' not found","code":"EVENT_NOT_FOUND"}`), reply(200, `{"success":true,"data":{}}`),
		reply(200, `{"success":true,"data":{"events":{"a":1}}}`))
	_, err := h.c.Events.Get(context.Background(), "nope")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = h.c.Events.Get(context.Background(), "a b/c")
	assert.ErrorIs(t, err, ErrMalformed)
	assert.Equal(t, "/v1/events/a%20b%2Fc", h.last().EscapedPath)
	_, err = h.c.Events.List(context.Background())
	assert.ErrorIs(t, err, ErrMalformed, "events of the wrong type")
	_, err = h.c.Events.Get(context.Background(), "")
	assert.ErrorIs(t, err, ErrValidation)
	assert.Len(t, h.requests(), 3)
}
