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

// orderStore is an application's state, which its webhook handler updates.
type orderStore struct {
	mu     sync.Mutex
	status map[string]string // by delivery uuid
}

func (o *orderStore) MarkDelivered(_ context.Context, delivery string, at time.Time) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.status[delivery] = "delivered"
	return nil
}

func (o *orderStore) Suppress(_ context.Context, delivery string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.status[delivery] = "suppressed"
	return nil
}

// setUpWebhooks makes the application's webhook endpoint and mounts its
// handler on mux: the README's Webhooks section.
func setUpWebhooks(ctx context.Context, client *sendivent.Client, mux *http.ServeMux, orders *orderStore) error {
	hook, err := client.Webhooks.Create(ctx, sendivent.WebhookConfig{
		URL:           "https://example.com/webhooks/sendivent", // https; plain http only for localhost
		EnabledEvents: []webhook.EventType{webhook.DeliveryDelivered, webhook.DeliveryFailed, webhook.DeliveryBounced},
	})
	if err != nil {
		return err // errors.Is(err, sendivent.ErrConflict): the application has one already
	}
	secret := string(hook.SigningSecret) // the service shows it once: keep it in your secret store

	mux.Handle("/webhooks/sendivent", webhook.Handler(secret,
		func(ctx context.Context, ev *webhook.Event) error {
			switch ev.Type {
			case webhook.DeliveryDelivered:
				return orders.MarkDelivered(ctx, ev.Delivery.UUID, ev.Delivery.DeliveredAt)
			case webhook.DeliveryBounced, webhook.DeliveryComplained:
				return orders.Suppress(ctx, ev.Delivery.UUID)
			}
			return nil // other and future types: nothing to do
		}))
	return nil
}

// Make the webhook endpoint, and receive its events. The fake stands in
// for the service.
func Example_webhooks() {
	srv := sendiventtest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	mux := http.NewServeMux()
	orders := &orderStore{status: map[string]string{}}
	if err := setUpWebhooks(ctx, srv.Client(), mux, orders); err != nil {
		fmt.Println(err)
		return
	}
	err := setUpWebhooks(ctx, srv.Client(), http.NewServeMux(), orders)
	fmt.Println(errors.Is(err, sendivent.ErrConflict))

	// A delivery as the service sends it. (With the fake's
	// WithWebhookHandler, the fake sends them as notifications move.)
	hook, _ := srv.Webhook()
	body := []byte(`{"event":"delivery.bounced","delivery":{"uuid":"d-1","channel":"email","status":"bounced"}}`)
	r, _ := webhook.NewRequest(ctx, hook.URL, body, string(hook.SigningSecret), time.Now())
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r)
	fmt.Println(w.Code, orders.status["d-1"])
	// Output:
	// true
	// 204 suppressed
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
