package sendivent_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/webhook"
)

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
