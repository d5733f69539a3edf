package sendivent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

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
