package sendivent_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// TestPushTokenSpelling: one push token is sent as push_token, the spelling
// the service's docs use; several as push_tokens; either is read back.
func TestPushTokenSpelling(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		tokens []string
		want   string
	}{
		{nil, `{"email":"ada@example.com"}`},
		{[]string{"ExponentPushToken[a]"}, `{"email":"ada@example.com","push_token":"ExponentPushToken[a]"}`},
		{[]string{"ExponentPushToken[a]", "ExponentPushToken[b]"}, `{"email":"ada@example.com","push_tokens":["ExponentPushToken[a]","ExponentPushToken[b]"]}`},
	} {
		b, err := json.Marshal(sendivent.Contact{Email: "ada@example.com", PushTokens: tt.tokens})
		require.NoError(t, err)
		assert.JSONEq(t, tt.want, string(b))
	}
	_, err := json.Marshal(sendivent.Contact{Email: "ada@example.com", PushTokens: []string{"a"}, Extra: map[string]any{"push_token": "b"}})
	assert.ErrorIs(t, err, sendivent.ErrValidation, "push_token is a modelled field, not an extra one")

	// Through the fake, which reads both spellings as the service does.
	srv := sendiventtest.New(t, sendiventtest.WithEvent("ping", sendiventtest.Send(sendivent.ChannelPush)))
	client := srv.Client()
	ctx := context.Background()
	c, err := client.Contacts.Upsert(ctx, sendivent.Contact{Email: "ada@example.com", PushTokens: []string{"ExponentPushToken[a]"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"ExponentPushToken[a]"}, c.PushTokens)
	last, _ := srv.LastRequest()
	assert.Equal(t, "ExponentPushToken[a]", last.Body["push_token"])

	res, err := client.Event("ping").To(sendivent.Contact{ID: "u2", PushTokens: []string{"ExponentPushToken[b]"}}).Send(ctx)
	require.NoError(t, err)
	n, ok := srv.Notification(res.ID)
	require.True(t, ok)
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelPush}, n.Channels, "routed by the one token")
	assert.Equal(t, []string{"ExponentPushToken[b]"}, n.Recipient.PushTokens)
}
