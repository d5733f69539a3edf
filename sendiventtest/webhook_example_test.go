package sendiventtest_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/webhook"
)

// The application's own webhook handler gets the fake's signed events, in
// process: send, let the notification end, wait for the deliveries, then
// look at what the application did.
func ExampleWithWebhookHandler() {
	const secret = "whsec_test"
	var (
		mu  sync.Mutex
		got []webhook.EventType
	)
	app := webhook.Handler(secret, func(_ context.Context, ev *webhook.Event) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev.Type)
		return nil
	})
	srv := sendiventtest.NewServer(sendiventtest.WithWebhookHandler(app, secret))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	res, _ := client.Event("welcome").To(sendivent.Address("alice@example.com")).Send(ctx)
	n, _ := client.Wait(ctx, res.ID)
	_ = srv.WaitWebhooks(ctx)

	mu.Lock()
	fmt.Println(n.Status, got)
	mu.Unlock()
	for _, d := range srv.WebhookDeliveries() {
		fmt.Println(d.Event.Type, d.Attempt, d.StatusCode)
	}
	// Output:
	// completed [delivery.sent delivery.delivered]
	// delivery.sent 1 204
	// delivery.delivered 1 204
}
