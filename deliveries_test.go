package sendivent_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

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
