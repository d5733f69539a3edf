package sendivent_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// End-to-end: broadcast, the fields the SDK does not model and the
// read-only services against the fake server.

func TestE2EBroadcast(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithEvents(
		sendiventtest.EventConfig{Name: "deploy", Steps: []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelSlack), sendiventtest.Send(sendivent.ChannelEmail)},
			Listeners: []sendivent.Recipient{sendivent.Address("#ops"), sendivent.Contact{Email: "oncall@example.com", Name: "On Call"}}},
		sendiventtest.EventConfig{Name: "welcome"},
	))
	c := srv.Client()
	ctx := context.Background()

	res, err := c.Event("deploy").Broadcast().Payload(sendivent.Payload{"version": "1.2"}).Send(ctx)
	require.NoError(t, err)
	require.Len(t, res.Notifications, 2, "one per listener")
	ns := srv.Notifications()
	require.Len(t, ns, 2)
	assert.Equal(t, "#ops", ns[0].Recipient.Slack)
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelSlack}, ns[0].Channels)
	assert.Equal(t, "oncall@example.com", ns[1].Recipient.Email)
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelEmail}, ns[1].Channels)
	assert.Equal(t, sendivent.Payload{"version": "1.2"}, ns[1].Payload)
	r, _ := srv.LastRequest()
	assert.NotContains(t, r.Body, "to", "a broadcast has no to at all")
	stored := srv.Contacts()
	require.Len(t, stored, 1, "the person is a contact, the channel is not")
	assert.Equal(t, "oncall@example.com", stored[0].Email)

	_, err = c.Event("welcome").Broadcast().Send(ctx)
	var ae *sendivent.APIError
	require.ErrorAs(t, err, &ae, "an event without listeners")
	assert.Equal(t, 400, ae.StatusCode)
	assert.Equal(t, "to", ae.Field)
}

func TestE2EExtraFields(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	c := srv.Client()
	_, err := c.Send(context.Background(), "welcome", sendivent.SendRequest{
		To: []sendivent.Recipient{sendivent.Contact{Email: "ada@example.com", Extra: map[string]any{"favourite_colour": "red"}}},
		Overrides: &sendivent.Overrides{
			Email: &sendivent.EmailOverrides{Subject: "Hi", Extra: map[string]any{"from_name": "ACME"}},
			Extra: map[string]any{"push": map[string]any{"title": "Hi"}, "discord": map[string]any{"tts": false}},
		},
		Extra: map[string]any{"campaign": "spring"},
	})
	require.NoError(t, err)
	n := srv.Notifications()[0]
	require.NotNil(t, n.Overrides)
	assert.Equal(t, "Hi", n.Overrides.Email.Subject)
	assert.Equal(t, map[string]any{"from_name": "ACME"}, n.Overrides.Email.Extra)
	assert.Equal(t, map[string]any{"push": map[string]any{"title": "Hi"}, "discord": map[string]any{"tts": false}}, n.Overrides.Extra)
	assert.Equal(t, map[string]any{"favourite_colour": "red"}, n.Recipient.Extra)
	r, _ := srv.LastRequest()
	assert.Equal(t, "spring", r.Body["campaign"])
	sc, ok := srv.Contact("ada@example.com")
	require.True(t, ok)
	assert.Equal(t, map[string]any{"favouriteColour": "red"}, sc.Meta)
}

func TestE2EEventsCatalogue(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t,
		sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail), sendiventtest.Send(sendivent.ChannelSMS)),
		sendiventtest.WithEvent("drip", sendiventtest.Send(sendivent.ChannelEmail), sendiventtest.Wait(time.Hour),
			sendiventtest.Send(sendivent.ChannelSMS), sendiventtest.Send(sendivent.ChannelEmail)))
	c := srv.Client()
	ctx := context.Background()
	events, err := c.Events.List(ctx)
	require.NoError(t, err)
	require.Len(t, events, 2)
	assert.Equal(t, "drip", events[0].Identifier)
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelEmail, sendivent.ChannelSMS}, events[0].Channels)
	assert.Equal(t, "welcome", events[1].Identifier)

	e, err := c.Events.Get(ctx, "welcome")
	require.NoError(t, err)
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelEmail, sendivent.ChannelSMS}, e.Channels)
	assert.JSONEq(t, `[{"channel":"email","language":"en"},{"channel":"sms","language":"en"}]`, string(e.Templates))
	_, err = c.Events.Get(ctx, "welcom")
	assert.ErrorIs(t, err, sendivent.ErrNotFound, "a start-up check is no undeclared send: New does not complain")

	open := sendiventtest.New(t)
	events, err = open.Client().Events.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, events, "with no event declared the catalogue is empty")
	e, err = open.Client().Events.Get(ctx, "anything")
	require.NoError(t, err, "though any name can be sent, and got")
	assert.Len(t, e.Channels, 7)
}

func TestE2EDeliveries(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	c := srv.Client()
	ctx := context.Background()
	var ids []string
	for _, to := range []string{"a@example.com", "b@example.com", "+46701234567"} {
		res, err := c.Event("welcome").To(sendivent.Address(to)).Send(ctx)
		require.NoError(t, err)
		ids = append(ids, res.ID)
	}
	require.NoError(t, srv.Deliver(ids[0]))
	require.NoError(t, srv.FailMessage(ids[1], "Mailbox does not exist"))

	var all []*sendivent.Delivery
	for d, err := range c.Deliveries.List(ctx, sendivent.DeliveryListParams{}) {
		require.NoError(t, err)
		all = append(all, d)
	}
	require.Len(t, all, 3)
	assert.Equal(t, ids[0], all[0].NotificationID)
	assert.Equal(t, sendivent.MessageDelivered, all[0].Status)
	assert.Equal(t, "welcome", all[0].Event)
	assert.Equal(t, sendivent.MessageFailed, all[1].Status)
	assert.Equal(t, "Mailbox does not exist", all[1].Error)
	assert.Equal(t, sendivent.ChannelSMS, all[2].Channel)

	for _, tt := range []struct {
		p    sendivent.DeliveryListParams
		want int
	}{
		{sendivent.DeliveryListParams{Channel: sendivent.ChannelEmail}, 2},
		{sendivent.DeliveryListParams{Status: "pending"}, 1},
		{sendivent.DeliveryListParams{Status: sendivent.MessageFailed, Event: "welcome"}, 1},
		{sendivent.DeliveryListParams{Event: "other"}, 0},
	} {
		page, err := c.Deliveries.ListPage(ctx, tt.p)
		require.NoError(t, err)
		assert.Equal(t, tt.want, page.Total, "%+v", tt.p)
		assert.Equal(t, 20, page.Limit)
	}

	tr, err := c.Deliveries.Trace(ctx, all[0].UUID)
	require.NoError(t, err)
	assert.Equal(t, all[0].UUID, tr.Delivery.UUID)
	var steps []string
	for _, e := range tr.Timeline {
		steps = append(steps, e.Event)
		assert.False(t, e.Timestamp.IsZero())
	}
	assert.Equal(t, []string{"queued", "sent", "delivered"}, steps)
	assert.JSONEq(t, `{"channel":"email","payload":{},"language":""}`, string(tr.Content))
	tr, err = c.Deliveries.Trace(ctx, all[1].UUID)
	require.NoError(t, err)
	assert.Equal(t, "failed", tr.Timeline[len(tr.Timeline)-1].Event)
	_, err = c.Deliveries.Trace(ctx, "nope")
	assert.ErrorIs(t, err, sendivent.ErrNotFound)
}

func TestE2EDeliveriesShortPages(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	c := srv.Client()
	ctx := context.Background()
	to := make([]sendivent.Recipient, 105)
	for i := range to {
		to[i] = sendivent.Address(fmt.Sprintf("p%d@example.com", i))
	}
	_, err := c.Send(ctx, "welcome", sendivent.SendRequest{To: to})
	require.NoError(t, err)

	n := 0
	for _, err := range c.Deliveries.List(ctx, sendivent.DeliveryListParams{Limit: 150}) {
		require.NoError(t, err)
		n++
	}
	assert.Equal(t, 105, n, "the fake serves at most 100 a page: the total carries the listing on")
	reqs := srv.Requests(sendiventtest.EndpointDeliveries)
	require.Len(t, reqs, 2)
	assert.Equal(t, "100", reqs[1].Query.Get("offset"))
}

func TestE2EIntegrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := sendiventtest.New(t, sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail), sendiventtest.Send(sendivent.ChannelSMS)))
	got, err := srv.Client().Integrations.List(ctx, "")
	require.NoError(t, err)
	require.Len(t, got, 2, "one per channel the events use")
	assert.Equal(t, sendivent.ChannelEmail, got[0].Channel)
	assert.Equal(t, "ses", got[0].Provider)
	assert.Equal(t, "active", got[0].Status)

	srv2 := sendiventtest.New(t, sendiventtest.WithIntegrations(
		sendivent.Integration{Channel: sendivent.ChannelEmail, Provider: "sendgrid"},
		sendivent.Integration{Channel: sendivent.ChannelPush, Provider: "fcm", Status: "inactive"}))
	got, err = srv2.Client().Integrations.List(ctx, sendivent.ChannelPush)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, "fcm", got[0].Provider)
	assert.Equal(t, "inactive", got[0].Status)
	all, err := srv2.Client().Integrations.List(ctx, "")
	require.NoError(t, err)
	assert.Len(t, all, 2)

	open := sendiventtest.New(t)
	all, err = open.Client().Integrations.List(ctx, "")
	require.NoError(t, err)
	assert.Len(t, all, 7, "every channel when no event is declared")
}
