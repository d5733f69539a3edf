package sendiventtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/webhook"
)

// These tests are what an application's own tests look like: the
// application sends through the SDK, the fake delivers the webhooks, and
// the application's webhook.Handler updates its state. Nobody signs
// anything by hand, and with WithWebhookHandler nothing goes over a network.

// tracker is the application: it ships orders, keeps the last event of
// each delivery and of each order, and suppresses the recipients of
// bounces. An order is found again by the request id of its send, which
// every webhook event about it carries. Events are kept by request id and
// joined to the order when it is read: the first events can come before
// Ship has the send's answer in hand, the more so on a loaded machine.
type tracker struct {
	client     *sendivent.Client
	mu         sync.Mutex
	last       map[string]webhook.EventType // by delivery uuid
	byRequest  map[string]webhook.EventType // by the send's request id
	requestOf  map[string]string            // the send's request id by order id
	seen       []webhook.EventType
	suppressed []string // delivery uuids
	outages    int      // the next calls that fail, as when the database is down
}

// newShop is the application, built with its client as main builds it.
func newShop(client *sendivent.Client) *tracker {
	return &tracker{client: client, last: map[string]webhook.EventType{},
		byRequest: map[string]webhook.EventType{}, requestOf: map[string]string{}}
}

func newTracker() *tracker { return newShop(nil) }

// Ship sends the order's shipping notice to email and remembers the send's
// request id with the order.
func (a *tracker) Ship(ctx context.Context, order, email string) (*sendivent.SendResponse, error) {
	res, err := a.client.Event("order-shipped").To(sendivent.Address(email)).Send(ctx)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requestOf[order] = res.RequestID
	return res, nil
}

func (a *tracker) handle(_ context.Context, ev *webhook.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.outages > 0 {
		a.outages--
		return errors.New("database unavailable")
	}
	a.last[ev.Delivery.UUID] = ev.Type
	a.byRequest[ev.RequestID] = ev.Type
	a.seen = append(a.seen, ev.Type)
	if ev.Type == webhook.DeliveryBounced {
		a.suppressed = append(a.suppressed, ev.Delivery.UUID)
	}
	return nil
}

// Webhooks is the application's webhook endpoint, to mount on its server.
func (a *tracker) Webhooks(secret string) http.Handler { return webhook.Handler(secret, a.handle) }

func (a *tracker) status(delivery string) webhook.EventType {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.last[delivery]
}

// OrderStatus is the last event about the order's notice.
func (a *tracker) OrderStatus(order string) webhook.EventType {
	a.mu.Lock()
	defer a.mu.Unlock()
	req, ok := a.requestOf[order]
	if !ok {
		return ""
	}
	return a.byRequest[req]
}

func (a *tracker) events() []webhook.EventType {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]webhook.EventType(nil), a.seen...)
}

const appSecret = "whsec_app_e2e"

// settle waits until the fake has no delivery going.
func settle(t *testing.T, srv *sendiventtest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.WaitWebhooks(ctx))
}

func hookStatuses(ds []sendiventtest.WebhookDelivery) []int {
	out := make([]int, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.StatusCode)
	}
	return out
}

// TestWebhooksEndToEnd is the README's: the application is built as main
// builds it (the fake and its client first, then the application, then
// its webhook handler), and finds its order from the webhook events by the
// send's request id.
func TestWebhooksEndToEnd(t *testing.T) {
	t.Parallel()
	ctx, secret := context.Background(), appSecret

	srv := sendiventtest.New(t)
	app := newShop(srv.Client())                        // the application, built with its client
	srv.SetWebhookHandler(app.Webhooks(secret), secret) // its webhook endpoint, called in process
	res, err := app.Ship(ctx, "order-42", "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	n, err := srv.Client().Wait(ctx, res.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitWebhooks(ctx); err != nil { // deliveries run in the background
		t.Fatal(err)
	}
	if got := app.OrderStatus("order-42"); got != webhook.DeliveryDelivered {
		t.Errorf("order-42: %q, want delivery.delivered", got)
	}

	delivery := n.Messages[0].ID
	assert.Equal(t, webhook.DeliveryDelivered, app.status(delivery), "a message's id is its deliveries' uuid")
	assert.Equal(t, []webhook.EventType{webhook.DeliverySent, webhook.DeliveryDelivered}, app.events())
	ds := srv.WebhookDeliveries()
	assert.Equal(t, []int{204, 204}, hookStatuses(ds), "each taken at the first attempt")
	for _, d := range ds {
		assert.Equal(t, res.ID, d.NotificationID)
		assert.Equal(t, res.RequestID, d.Event.RequestID)
		assert.Equal(t, delivery, d.Event.Delivery.UUID)
	}
}

// TestWebhooksEndToEndOverLoopback configures the endpoint as production
// code does, through client.Webhooks, with the application's handler on a
// loopback server that learns its secret from Create's answer.
func TestWebhooksEndToEndOverLoopback(t *testing.T) {
	t.Parallel()
	app := newTracker()
	var (
		mu sync.Mutex
		h  http.Handler = http.NotFoundHandler()
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		cur := h
		mu.Unlock()
		cur.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle(),
		sendiventtest.WithEvent("order-shipped", sendiventtest.Send(sendivent.ChannelEmail)))
	client := srv.Client()
	ctx := context.Background()

	hook, err := client.Webhooks.Create(ctx, sendivent.WebhookConfig{
		URL:           ts.URL + "/webhooks/sendivent",
		EnabledEvents: []webhook.EventType{webhook.DeliveryFailed, webhook.DeliveryBounced},
	})
	require.NoError(t, err)
	mu.Lock()
	h = webhook.Handler(string(hook.SigningSecret), app.handle)
	mu.Unlock()

	_, err = client.Webhooks.Create(ctx, sendivent.WebhookConfig{URL: ts.URL, EnabledEvents: []webhook.EventType{webhook.DeliverySent}})
	require.ErrorIs(t, err, sendivent.ErrConflict)
	assert.Len(t, srv.Requests(sendiventtest.EndpointWebhooks), 2, "the 409 is not retried")

	bounced, err := client.Event("order-shipped").To(sendivent.Address("bob@example.com")).Send(ctx)
	require.NoError(t, err)
	failed, err := client.Event("order-shipped").To(sendivent.Address("carol@example.com")).Send(ctx)
	require.NoError(t, err)
	require.NoError(t, srv.Advance(bounced.ID)) // sent: not enabled, so not delivered
	require.NoError(t, srv.SuppressMessage(bounced.ID, "mailbox does not exist"))
	require.NoError(t, srv.FailMessage(failed.ID, "provider refused"))
	settle(t, srv)

	b, _ := srv.Notification(bounced.ID)
	f, _ := srv.Notification(failed.ID)
	assert.Equal(t, webhook.DeliveryBounced, app.status(b.Messages[0].ID))
	assert.Equal(t, webhook.DeliveryFailed, app.status(f.Messages[0].ID))
	app.mu.Lock()
	assert.Equal(t, []string{b.Messages[0].ID}, app.suppressed)
	app.mu.Unlock()
	assert.ElementsMatch(t, []webhook.EventType{webhook.DeliveryBounced, webhook.DeliveryFailed}, app.events())
	for _, d := range srv.WebhookDeliveries() {
		assert.Equal(t, ts.URL+"/webhooks/sendivent", d.URL)
	}
}

// TestWebhooksEndToEndHandlerFails: the application's function fails
// (its database is down); the handler answers 500, the fake tries again,
// and the event is handled once.
func TestWebhooksEndToEndHandlerFails(t *testing.T) {
	t.Parallel()
	app := newTracker()
	app.outages = 2
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle(),
		sendiventtest.WithWebhookHandler(webhook.Handler(appSecret, app.handle), appSecret))
	res, err := srv.Client().Event("order-shipped").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)
	require.NoError(t, srv.Advance(res.ID))
	settle(t, srv)

	n, _ := srv.Notification(res.ID)
	assert.Equal(t, webhook.DeliverySent, app.status(n.Messages[0].ID))
	assert.Equal(t, []webhook.EventType{webhook.DeliverySent}, app.events(), "handled once")
	ds := srv.WebhookDeliveries()
	assert.Equal(t, []int{500, 500, 204}, hookStatuses(ds))
	for i, d := range ds {
		assert.Equal(t, i+1, d.Attempt)
		assert.Equal(t, webhook.DeliverySent, d.Event.Type)
	}
}

// TestWebhooksEndToEndWrongSecret: an application configured with another
// secret refuses every attempt with 400 and never runs its function.
func TestWebhooksEndToEndWrongSecret(t *testing.T) {
	t.Parallel()
	app := newTracker()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle(),
		sendiventtest.WithWebhookHandler(webhook.Handler("whsec_stale", app.handle), appSecret))
	res, err := srv.Client().Event("order-shipped").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)
	require.NoError(t, srv.Advance(res.ID))
	settle(t, srv)

	assert.Empty(t, app.events())
	ds := srv.WebhookDeliveries()
	require.Len(t, ds, sendiventtest.WebhookAttempts)
	for _, d := range ds {
		assert.Equal(t, http.StatusBadRequest, d.StatusCode)
		assert.False(t, d.OK())
	}
}

// TestSetWebhookHandler: attached after the server is made, the handler
// replaces the endpoint the server had (one made through the API here),
// Reset restores it, and events of messages that moved before the call
// stay with the old endpoint.
func TestSetWebhookHandler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	old, app := newTracker(), newTracker()
	oldSrv := httptest.NewServer(old.Webhooks(appSecret))
	t.Cleanup(oldSrv.Close)
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle(), sendiventtest.WithWebhook(oldSrv.URL, appSecret))
	client := srv.Client()
	before, err := client.Event("order-shipped").To(sendivent.Address("alice@example.com")).Send(ctx)
	require.NoError(t, err)
	require.NoError(t, srv.Advance(before.ID)) // delivery.sent, to the old endpoint
	settle(t, srv)

	srv.SetWebhookHandler(app.Webhooks("whsec_new"), "whsec_new")
	hook, ok := srv.Webhook()
	require.True(t, ok)
	assert.Equal(t, "whsec_new", string(hook.SigningSecret))
	assert.Equal(t, "https://handler.sendiventtest.invalid/webhooks", hook.URL)
	got, err := client.Webhooks.Get(ctx)
	require.NoError(t, err)
	assert.Equal(t, hook.UUID, got.UUID, "the API shows the new endpoint")

	require.NoError(t, srv.Deliver(before.ID)) // delivery.delivered, to the new handler
	settle(t, srv)
	assert.Equal(t, []webhook.EventType{webhook.DeliverySent}, old.events())
	assert.Equal(t, []webhook.EventType{webhook.DeliveryDelivered}, app.events())

	srv.Reset()
	again, ok := srv.Webhook()
	require.True(t, ok)
	assert.Equal(t, "whsec_new", string(again.SigningSecret), "Reset restores the handler's endpoint")

	assert.Panics(t, func() { srv.SetWebhookHandler(nil, "whsec_x") })
}
