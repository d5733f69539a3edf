package sendivent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/webhook"
)

// Hostile servers for the webhooks configuration service. Property: each
// call (Create, Get, Update, Delete) ends by itself, soon, within its
// attempts, with the documented outcome, whatever sequence of statuses the
// server answers across retries, and against 1xx answers and bodies of any
// size.

const endsHook = `{"success":true,"webhook":{"uuid":"wh-1","url":"https://example.com/hooks","enabled_events":["delivery.sent"],"is_active":true,"signing_secret":"whsec_EndsTest123"}}`

type webhookCall struct {
	name string
	call func(context.Context, *sendivent.Client) error
}

var hookCalls = map[string]webhookCall{
	"Create": {"Create", func(ctx context.Context, c *sendivent.Client) error {
		_, err := c.Webhooks.Create(ctx, keptConfig)
		return err
	}},
	"Get": {"Get", func(ctx context.Context, c *sendivent.Client) error {
		_, err := c.Webhooks.Get(ctx)
		return err
	}},
	"Update": {"Update", func(ctx context.Context, c *sendivent.Client) error {
		_, err := c.Webhooks.Update(ctx, "wh-1", sendivent.WebhookUpdate{Active: sendivent.Ptr(false)})
		return err
	}},
	"Delete": {"Delete", func(ctx context.Context, c *sendivent.Client) error {
		return c.Webhooks.Delete(ctx, "wh-1")
	}},
}

func TestWebhooksAgainstStatusSequences(t *testing.T) {
	t.Parallel()
	notFound := rawStatus(404, `{"error":"Webhook not found","code":"NOT_FOUND"}`)
	busy := rawStatus(503, `{"error":"busy"}`)
	tests := []struct {
		call    string
		answers []ans
		want    error // nil: success
		calls   int64
	}{
		{"Create", []ans{busy, busy, busy}, sendivent.ErrServer, 3},
		{"Create", []ans{busy, rawStatus(201, endsHook)}, nil, 2},
		{"Create", []ans{noAnswer, rawStatus(201, endsHook)}, nil, 2},
		{"Create", []ans{rawStatus(409, `{"error":"exists","code":"CONFLICT"}`)}, sendivent.ErrConflict, 1},
		{"Create", []ans{rawStatus(409, `{"error":"in flight","code":"IDEMPOTENCY_KEY_IN_PROGRESS"}`), rawStatus(201, endsHook)}, nil, 2},
		{"Create", []ans{rawStatus(409, `{"error":"in flight","code":"IDEMPOTENCY_KEY_IN_PROGRESS"}`)}, sendivent.ErrConflict, 3},
		{"Create", []ans{rawStatus(429, `{}`, "Retry-After", "0"), rawStatus(201, endsHook)}, nil, 2},
		{"Create", []ans{rawStatus(429, `{}`, "Retry-After", "3600")}, sendivent.ErrRateLimited, 1},
		{"Create", []ans{rawStatus(500, `{}`), rawStatus(409, `{"error":"exists"}`)}, sendivent.ErrConflict, 2},
		{"Get", []ans{notFound}, sendivent.ErrNotFound, 1},
		{"Get", []ans{busy, notFound}, sendivent.ErrNotFound, 2},
		{"Get", []ans{rawStatus(200, `{"webhook":null}`)}, sendivent.ErrNotFound, 1},
		{"Get", []ans{rawStatus(200, `{"webhooks":[]}`)}, sendivent.ErrNotFound, 1},
		{"Update", []ans{busy, notFound}, sendivent.ErrNotFound, 2},
		{"Update", []ans{noAnswer, notFound}, sendivent.ErrNotFound, 2}, // an update is not done by a 404
		{"Update", []ans{rawStatus(409, `{"error":"conflict"}`)}, sendivent.ErrConflict, 1},
		{"Delete", []ans{notFound}, sendivent.ErrNotFound, 1},
		{"Delete", []ans{busy, notFound}, sendivent.ErrNotFound, 2},
		{"Delete", []ans{busy, busy, notFound}, sendivent.ErrNotFound, 3},
		{"Delete", []ans{noAnswer, notFound}, nil, 2},
		{"Delete", []ans{busy, noAnswer, notFound}, nil, 3},
		{"Delete", []ans{rawStatus(200, `{"success":true,"deleted":false}`)}, sendivent.ErrRejected, 1},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.call, i), func(t *testing.T) {
			t.Parallel()
			srv := keptServer(t, tt.answers...)
			c := hookClient(t, srv.url, sendivent.WithMaxRetries(2), sendivent.WithMaxRetryWait(time.Second))
			_, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { return hookCalls[tt.call].call(ctx, c) })
			if tt.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
				atkTyped(t, err)
			}
			assert.Equal(t, tt.calls, srv.n.Load())
		})
	}
}

// TestWebhooksAgainstInformationalAnswers: a 101 ends the call at once,
// its connection closed; other 1xx answers before the real one are
// skipped, as net/http does.
func TestWebhooksAgainstInformationalAnswers(t *testing.T) {
	t.Parallel()
	for name, hc := range hookCalls {
		t.Run(name+"/101", func(t *testing.T) {
			t.Parallel()
			srv := keptServer(t, func(s *atkRaw, conn net.Conn, _ *http.Request) {
				_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: evil\r\nConnection: Upgrade\r\n\r\n")
				s.hang()
			})
			c := hookClient(t, srv.url, sendivent.WithMaxRetries(2))
			took, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { return hc.call(ctx, c) })
			require.Error(t, err)
			assert.False(t, errors.Is(err, context.DeadlineExceeded), "ended by the SDK, not the context: %v", err)
			assert.Less(t, took, 5*time.Second)
			assert.EqualValues(t, 1, srv.n.Load(), "not retried")
		})
		t.Run(name+"/103 then the answer", func(t *testing.T) {
			t.Parallel()
			body := endsHook
			code := 200
			if name == "Create" {
				code = 201
			}
			srv := keptServer(t, func(_ *atkRaw, conn net.Conn, r *http.Request) {
				_, _ = io.WriteString(conn, "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\n")
				rawStatus(code, body)(nil, conn, r)
			})
			c := hookClient(t, srv.url)
			_, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { return hc.call(ctx, c) })
			require.NoError(t, err)
		})
	}
}

// TestWebhooksAgainstHugeBodies: a 2xx over the size cap is ErrTooLarge,
// not retried; an error body over it is cut; a body that never ends is cut
// at the cap too. What is read stays at the cap.
func TestWebhooksAgainstHugeBodies(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	huge := strings.Repeat("x", 4*limit)
	endless := func(s *atkRaw, conn net.Conn, _ *http.Request) {
		_, _ = io.WriteString(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
		chunk := fmt.Sprintf("%x\r\n%s\r\n", 4096, strings.Repeat(" ", 4096))
		for i := 0; i < 1<<14; i++ { // 64 MiB at most
			if _, err := io.WriteString(conn, chunk); err != nil {
				return
			}
		}
	}
	for name, hc := range hookCalls {
		for _, tt := range []struct {
			what   string
			answer ans
			want   error
		}{
			{"2xx", rawStatus(200, `{"webhook":{"uuid":"wh-1","pad":"`+huge+`"}}`), sendivent.ErrTooLarge},
			{"endless 2xx", endless, sendivent.ErrTooLarge},
			{"409", rawStatus(409, `{"error":"`+huge+`"}`), sendivent.ErrConflict},
		} {
			t.Run(name+"/"+tt.what, func(t *testing.T) {
				t.Parallel()
				srv := keptServer(t, tt.answer)
				c := hookClient(t, srv.url, sendivent.WithMaxResponseBytes(limit))
				_, err := atkCall(t, 20*time.Second, func(ctx context.Context) error { return hc.call(ctx, c) })
				require.ErrorIs(t, err, tt.want)
				assert.EqualValues(t, 1, srv.n.Load(), "not retried")
				var ae *sendivent.APIError
				if errors.As(err, &ae) {
					assert.LessOrEqual(t, len(ae.Body), limit)
					assert.LessOrEqual(t, len(ae.Error()), 2048, "the error stays readable")
				}
			})
		}
	}
}

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
