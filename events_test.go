package sendivent_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

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
