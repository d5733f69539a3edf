package sendiventtest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// A snapshot holds the SDK's own Notification, equal to what a client
// decodes, so a test compares statuses and contacts with the SDK's types.
func TestSnapshotIsTheSDKsNotification(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	c := srv.Client()
	ctx := context.Background()
	to := sendivent.Contact{ID: "u_42", Email: "alice@example.com", Name: "Alice Smith",
		Language: "sv", Meta: map[string]any{"plan": "pro", "seats": 3.0}}
	res, err := c.Send(ctx, "welcome", sendivent.SendRequest{
		To: []sendivent.Recipient{to}, Payload: sendivent.Payload{"company": "ACME"}, Language: "sv",
		Overrides: &sendivent.Overrides{Email: &sendivent.EmailOverrides{Subject: "Hej", CC: []string{"b@example.com"}}},
		From:      sendivent.Contact{Email: "team@acme.example", Name: "ACME"},
	})
	require.NoError(t, err)
	require.NoError(t, srv.Advance(res.ID))

	got, err := c.GetNotification(ctx, res.ID)
	require.NoError(t, err)
	n, ok := srv.Notification(res.ID)
	require.True(t, ok)
	assert.Equal(t, *got, n.Notification, "the snapshot is what the client decodes, Raw included")

	assert.Equal(t, sendivent.StatusRunning, n.Status)
	assert.Equal(t, sendivent.MessageSent, n.Messages[0].Status)
	assert.Equal(t, to, n.Recipient)
	assert.Equal(t, sendivent.Contact{Email: "team@acme.example", Name: "ACME"}, n.From)
	assert.Equal(t, sendivent.Payload{"company": "ACME"}, n.Payload)
	assert.Equal(t, "Hej", n.Overrides.Email.Subject)
	assert.Equal(t, []string{"b@example.com"}, n.Overrides.Email.CC)
	assert.Equal(t, "sv", n.Language)
	assert.Equal(t, res.IdempotencyKey, n.IdempotencyKey)
	sends := srv.Requests(sendiventtest.EndpointSend)
	require.Len(t, sends, 1)
	assert.Equal(t, sends[0].RequestID, n.RequestID)
	assert.Equal(t, []string{n.ID}, sends[0].Created)

	require.NoError(t, srv.SuppressMessage(res.ID, "unsubscribed"))
	n, _ = srv.Notification(res.ID)
	assert.Equal(t, sendivent.StatusFailed, n.Status)
	assert.Equal(t, sendivent.MessageSuppressed, n.Messages[0].Status)
	assert.Equal(t, "unsubscribed", n.Messages[0].Error)
	assert.True(t, n.Failed(), "the SDK's methods come with it")
	got, err = c.GetNotification(ctx, res.ID)
	require.NoError(t, err)
	assert.Equal(t, *got, n.Notification)
}

func TestRecipientOfEachForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		to   sendivent.Recipient
		want sendivent.Contact
	}{
		{sendivent.Address("alice@example.com"), sendivent.Contact{Email: "alice@example.com"}},
		{sendivent.Address("+46701234567"), sendivent.Contact{Phone: "+46701234567"}},
		{sendivent.Address("U024BE7LH"), sendivent.Contact{Slack: "U024BE7LH"}},
		{sendivent.Contact{Telegram: "12345", Discord: "99", PushTokens: []string{"tok"}},
			sendivent.Contact{Telegram: "12345", Discord: "99", PushTokens: []string{"tok"}}},
	}
	for _, tt := range tests {
		srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
		_, err := srv.Client().Event("welcome").To(tt.to).Send(context.Background())
		require.NoError(t, err)
		assert.Equal(t, tt.want, srv.Notifications()[0].Recipient)
		assert.Nil(t, srv.Notifications()[0].From)
	}

	// A known contact's id: the recipient is what the request named.
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	c := srv.Client()
	_, err := c.Event("welcome").To(sendivent.Contact{ID: "u_1", Email: "u1@example.com"}).Send(context.Background())
	require.NoError(t, err)
	_, err = c.Event("welcome").To(sendivent.Address("u_1")).From(sendivent.Address("team@acme.example")).Send(context.Background())
	require.NoError(t, err)
	ns := srv.Notifications()
	assert.Equal(t, sendivent.Contact{ID: "u_1"}, ns[1].Recipient)
	assert.Equal(t, "u1@example.com", ns[1].Contact.Email, "the notification's contact is the stored one")
	assert.Equal(t, ns[0].ContactID, ns[1].ContactID)
	assert.Equal(t, sendivent.Address("team@acme.example"), ns[1].From)
}

// TestNotificationCountReplacesSendCount: CHANGELOG 0.2.0 names
// NotificationCount(event) as SendCount's replacement. Counting
// Requests(EndpointSend) instead counts refused attempts, replays and
// other events' sends: a retried send is two requests and one
// notification.
func TestNotificationCountReplacesSendCount(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	c := srv.Client()
	ctx := context.Background()
	srv.Inject(sendiventtest.FailNext(1, 503))
	_, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(ctx) // 503, then created
	require.NoError(t, err)
	same := sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address("bob@example.com")}, IdempotencyKey: "signup-bob"}
	_, err = c.Send(ctx, "welcome", same)
	require.NoError(t, err)
	res, err := c.Send(ctx, "welcome", same) // a replay: nothing new
	require.NoError(t, err)
	assert.True(t, res.Replayed)
	_, err = c.Event("reminder").To(sendivent.Address("alice@example.com")).Send(ctx)
	require.NoError(t, err)

	assert.Equal(t, 2, srv.NotificationCount("welcome"), "what SendCount(\"welcome\") counted")
	assert.Equal(t, 3, srv.NotificationCount(""))
	assert.Len(t, srv.Requests(sendiventtest.EndpointSend), 5, "not a count of sends")
}
