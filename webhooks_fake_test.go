package sendivent_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/webhook"
)

// TestWebhooksAgainstTheFake runs an endpoint's whole life through the SDK
// and the fake.
func TestWebhooksAgainstTheFake(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	c := srv.Client()
	ctx := context.Background()

	_, err := c.Webhooks.Get(ctx)
	require.ErrorIs(t, err, sendivent.ErrNotFound)

	hook, err := c.Webhooks.Create(ctx, sendivent.WebhookConfig{
		URL:           "https://example.com/webhooks/sendivent",
		EnabledEvents: []webhook.EventType{webhook.DeliveryDelivered, webhook.DeliveryBounced},
		Description:   "orders",
	})
	require.NoError(t, err)
	fake, _ := srv.Webhook()
	assert.Equal(t, fake.SigningSecret, hook.SigningSecret)
	assert.Equal(t, fake.UUID, hook.UUID)
	assert.True(t, hook.Active)
	assert.Equal(t, "orders", hook.Description)
	assert.False(t, hook.CreatedAt.IsZero())
	assert.NotContains(t, fmt.Sprintf("%+v", hook), string(hook.SigningSecret)[6:])

	_, err = c.Webhooks.Create(ctx, sendivent.WebhookConfig{URL: "https://example.com/other", EnabledEvents: []webhook.EventType{webhook.DeliverySent}})
	require.ErrorIs(t, err, sendivent.ErrConflict)
	var ae *sendivent.APIError
	require.ErrorAs(t, err, &ae)
	assert.Len(t, ae.Attempts, 1)

	got, err := c.Webhooks.Get(ctx)
	require.NoError(t, err)
	assert.Empty(t, got.SigningSecret, "shown once")
	assert.Equal(t, hook.EnabledEvents, got.EnabledEvents)

	upd, err := c.Webhooks.Update(ctx, hook.UUID, sendivent.WebhookUpdate{Active: sendivent.Ptr(false), Description: sendivent.Ptr("")})
	require.NoError(t, err)
	assert.False(t, upd.Active)
	assert.Empty(t, upd.Description)
	assert.Equal(t, "https://example.com/webhooks/sendivent", upd.URL, "what was not set stays")
	assert.Equal(t, hook.EnabledEvents, upd.EnabledEvents)

	_, err = c.Webhooks.Update(ctx, "no-such-uuid", sendivent.WebhookUpdate{Active: sendivent.Ptr(true)})
	require.ErrorIs(t, err, sendivent.ErrNotFound)
	_, err = c.Webhooks.Update(ctx, hook.UUID, sendivent.WebhookUpdate{EnabledEvents: []webhook.EventType{"delivery.opened"}})
	require.ErrorIs(t, err, sendivent.ErrValidation, "the SDK lets an unknown type through; the service refuses it")

	require.NoError(t, c.Webhooks.Delete(ctx, hook.UUID))
	_, err = c.Webhooks.Get(ctx)
	require.ErrorIs(t, err, sendivent.ErrNotFound)
	require.ErrorIs(t, c.Webhooks.Delete(ctx, hook.UUID), sendivent.ErrNotFound)
}

// TestWebhooksCreateSurvivesALostAnswer: the fake makes the endpoint, then
// drops the connection; the retry carries the same idempotency key, so the
// answer is the first one, secret included, not a 409.
func TestWebhooksCreateSurvivesALostAnswer(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	srv.Inject(sendiventtest.DropNext(1).On(sendiventtest.EndpointWebhooks))
	hook, err := srv.Client().Webhooks.Create(context.Background(), sendivent.WebhookConfig{
		URL: "https://example.com/hooks", EnabledEvents: []webhook.EventType{webhook.DeliverySent},
	})
	require.NoError(t, err)
	fake, _ := srv.Webhook()
	assert.Equal(t, fake.SigningSecret, hook.SigningSecret)
	rs := srv.Requests(sendiventtest.EndpointWebhooks)
	require.Len(t, rs, 2)
	assert.Equal(t, sendiventtest.FaultDrop, rs[0].Fault)
	assert.True(t, rs[1].Replayed)
	assert.Equal(t, rs[0].IdempotencyKey, rs[1].IdempotencyKey)
}
