package sendivent_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

func TestE2EErrorsFromTheService(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail)))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()

	_, err := c.Event("nope").To(alice()...).Send(ctx)
	var apiErr *sendivent.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, sendivent.ErrNotFound)
	assert.Equal(t, "EVENT_NOT_FOUND", apiErr.Code)
	assert.Equal(t, "Event 'nope' not found", apiErr.Message)
	assert.NotEmpty(t, apiErr.RequestID)
	assert.Len(t, apiErr.Attempts, 1, "404 is not retried")

	_, err = c.Event("welcome").To(sendivent.Address("+46701234567")).Channel(sendivent.ChannelSMS).Send(ctx)
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, sendivent.ErrValidation)

	bad, err := sendivent.NewClient("test_wrong", sendivent.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = bad.Event("welcome").To(alice()...).Send(ctx)
	assert.ErrorIs(t, err, sendivent.ErrUnauthorized)

	_, err = c.GetNotification(ctx, "00000000-0000-4000-8000-000000000000")
	assert.ErrorIs(t, err, sendivent.ErrNotFound)

	_, err = c.Wait(ctx, "00000000-0000-4000-8000-000000000000", quick...)
	assert.ErrorAs(t, err, &apiErr)
	var wt *sendivent.WaitTimeoutError
	assert.False(t, errors.As(err, &wt), "404 ends the wait at once")
}
