package sendivent_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/webhook"
)

// orderStore is an application's state, which its webhook handler
// updates. It finds an order by the request id of the send that notified
// it, which every webhook event about that send carries.
type orderStore struct {
	mu        sync.Mutex
	byRequest map[string]string // order id by the send's request id
	status    map[string]string // by order id
	early     map[string]string // status by request id, of events that came before Sent
}

func newOrderStore() *orderStore {
	return &orderStore{byRequest: map[string]string{}, status: map[string]string{}, early: map[string]string{}}
}

// Sent keeps the send's request id with the order.
func (o *orderStore) Sent(_ context.Context, order, requestID string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.byRequest[requestID] = order
	o.status[order] = "sent"
	if status, ok := o.early[requestID]; ok {
		o.status[order] = status
		delete(o.early, requestID)
	}
	return nil
}

func (o *orderStore) set(requestID, status string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	order, ok := o.byRequest[requestID]
	if !ok {
		// Not one of ours yet: the send's answer and its first events race,
		// so Sent may still come. (A real store keeps this with the rest.)
		o.early[requestID] = status
		return nil
	}
	o.status[order] = status
	return nil
}

func (o *orderStore) MarkDelivered(_ context.Context, requestID string, at time.Time) error {
	return o.set(requestID, "delivered")
}

func (o *orderStore) Suppress(_ context.Context, requestID string) error {
	return o.set(requestID, "suppressed")
}

func (o *orderStore) Status(order string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.status[order]
}

// shipOrder notifies the customer, and keeps the send's request id with
// the order: the README's Webhooks section.
func shipOrder(ctx context.Context, client *sendivent.Client, orders *orderStore, orderID, email string) (*sendivent.SendResponse, error) {
	res, err := client.Event("order-shipped").To(sendivent.Address(email)).Send(ctx)
	if err != nil {
		return nil, err
	}
	// Every webhook event about this send carries res.RequestID as ev.RequestID.
	return res, orders.Sent(ctx, orderID, res.RequestID)
}

// setUpWebhooks makes the application's webhook endpoint at publicURL and
// mounts its handler on mux: the README's Webhooks section.
func setUpWebhooks(ctx context.Context, client *sendivent.Client, mux *http.ServeMux, orders *orderStore, publicURL string) error {
	hook, err := client.Webhooks.Create(ctx, sendivent.WebhookConfig{
		URL:           publicURL + "/webhooks/sendivent", // https; plain http only for localhost
		EnabledEvents: []webhook.EventType{webhook.DeliveryDelivered, webhook.DeliveryFailed, webhook.DeliveryBounced},
	})
	if err != nil {
		return err // errors.Is(err, sendivent.ErrConflict): the application has one already
	}
	secret := string(hook.SigningSecret) // the service shows it once: keep it in your secret store

	mux.Handle("/webhooks/sendivent", webhook.Handler(secret,
		func(ctx context.Context, ev *webhook.Event) error {
			switch ev.Type { // ev.RequestID is the send's res.RequestID
			case webhook.DeliveryDelivered:
				return orders.MarkDelivered(ctx, ev.RequestID, ev.Delivery.DeliveredAt)
			case webhook.DeliveryBounced, webhook.DeliveryComplained:
				return orders.Suppress(ctx, ev.RequestID)
			}
			return nil // other and future types: nothing to do
		}))
	return nil
}

// Make the webhook endpoint, send, and follow the send through its
// events. The fake stands in for the service and delivers to the
// application's server on loopback.
func Example_webhooks() {
	srv := sendiventtest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	client := srv.Client()
	mux := http.NewServeMux()
	app := httptest.NewServer(mux) // the application's server
	defer app.Close()
	orders := newOrderStore()
	if err := setUpWebhooks(ctx, client, mux, orders, app.URL); err != nil {
		fmt.Println(err)
		return
	}
	err := setUpWebhooks(ctx, client, http.NewServeMux(), orders, app.URL)
	fmt.Println(errors.Is(err, sendivent.ErrConflict))

	res, err := shipOrder(ctx, client, orders, "order-42", "alice@example.com")
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := client.Wait(ctx, res.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = srv.WaitWebhooks(ctx) // deliveries run in the background
	fmt.Println(n.Status, orders.Status("order-42"))
	// Output:
	// true
	// completed delivered
}

func ExampleWebhooksService_Create() {
	srv := sendiventtest.NewServer() // the fake; in production, NewClient("")
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	hook, err := client.Webhooks.Create(ctx, sendivent.WebhookConfig{
		URL:           "https://example.com/webhooks/sendivent",
		EnabledEvents: []webhook.EventType{webhook.DeliveryDelivered, webhook.DeliveryBounced},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The service shows the secret this once: store string(hook.SigningSecret)
	// in your secret store, and give it to webhook.Handler. It prints masked.
	fmt.Println(hook.URL, hook.Active, hook.SigningSecret)

	// One endpoint per application: a second Create is refused.
	_, err = client.Webhooks.Create(ctx, sendivent.WebhookConfig{
		URL: "https://example.com/other", EnabledEvents: []webhook.EventType{webhook.DeliverySent},
	})
	fmt.Println(errors.Is(err, sendivent.ErrConflict))
	// Output:
	// https://example.com/webhooks/sendivent true whsec_****
	// true
}

func ExampleWebhooksService_Update() {
	srv := sendiventtest.NewServer(sendiventtest.WithWebhook("https://example.com/webhooks/sendivent", ""))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	hook, err := client.Webhooks.Get(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Only the fields set change: pause deliveries, keep the URL and types.
	hook, err = client.Webhooks.Update(ctx, hook.UUID, sendivent.WebhookUpdate{Active: sendivent.Ptr(false)})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(hook.URL, hook.Active, len(hook.EnabledEvents))

	err = client.Webhooks.Delete(ctx, hook.UUID)
	fmt.Println(err)
	_, err = client.Webhooks.Get(ctx)
	fmt.Println(errors.Is(err, sendivent.ErrNotFound))
	// Output:
	// https://example.com/webhooks/sendivent false 5
	// <nil>
	// true
}
