package sendivent_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// Each example runs against the fake server, so `go test` checks its output.

func ExampleNewClient() {
	srv := sendiventtest.NewServer()
	defer srv.Close()

	// In production: sendivent.NewClient("") reads $SENDIVENT_API_KEY and
	// picks the URL from the key's prefix (live_ or test_).
	client, err := sendivent.NewClient(srv.APIKey(),
		sendivent.WithBaseURL(srv.URL),
		sendivent.WithTimeout(10*time.Second),
		sendivent.WithMaxRetries(2),
		sendivent.WithUserAgent("signup-service/1.4"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%v\n", client != nil)

	_, err = sendivent.NewClient("sk_123")
	fmt.Println(err)
	// Output:
	// true
	// sendivent: the API key (****) starts with neither live_ nor test_; set a base URL with WithBaseURL to use it
}

func ExampleClient_Event() {
	srv := sendiventtest.NewServer()
	defer srv.Close()
	client := srv.Client()

	res, err := client.Event("welcome").
		To(sendivent.Address("alice@example.com")).
		Payload(sendivent.Payload{"company": "ACME"}).
		Language("sv").
		Send(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Event, res.Status, len(res.IdempotencyKey))
	// Output: welcome accepted 36
}

func ExampleClient_Send() {
	srv := sendiventtest.NewServer()
	defer srv.Close()
	client := srv.Client()

	res, err := client.Send(context.Background(), "welcome", sendivent.SendRequest{
		To: []sendivent.Recipient{
			sendivent.Contact{Email: "alice@example.com", Name: "Alice"},
			sendivent.Contact{Email: "bob@example.com", Name: "Bob"},
		},
		Channel:        sendivent.ChannelEmail,
		Payload:        sendivent.Payload{"company": "ACME"},
		Overrides:      &sendivent.Overrides{Email: &sendivent.EmailOverrides{Subject: "Welcome to ACME"}},
		IdempotencyKey: sendivent.IdempotencyKeyFrom("order-42", "welcome"),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(res.Notifications), "notifications, first is", res.ID == res.Notifications[0].ID)
	// Output: 2 notifications, first is true
}

func ExampleClient_GetNotification() {
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	res, _ := client.Event("welcome").To(sendivent.Address("alice@example.com")).Send(ctx)
	_ = srv.Advance(res.ID) // the fake moves the message on: queued → sent

	n, err := client.GetNotification(ctx, res.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(n.Status, n.Messages[0].Channel, n.Messages[0].Status)
	// Output: running email sent
}

func ExampleClient_Wait() {
	srv := sendiventtest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	res, _ := client.Event("welcome").To(sendivent.Address("alice@example.com")).Send(ctx)
	n, err := client.Wait(ctx, res.ID,
		sendivent.PollEvery(20*time.Millisecond, 200*time.Millisecond), // the defaults are 1 s and 30 s
		sendivent.WaitAtMost(time.Minute))
	var timeout *sendivent.WaitTimeoutError
	switch {
	case errors.As(err, &timeout):
		fmt.Println("still", timeout.Last.Status)
	case err != nil:
		fmt.Println(err)
	case n.Failed() && n.FailedMessage() != nil:
		fmt.Println("failed:", n.FailedMessage().Error)
	default:
		fmt.Println(n.Status, "delivered:", n.Delivered())
	}
	// Output: completed delivered: true
}

func ExampleClient_Watch() {
	srv := sendiventtest.NewServer(sendiventtest.WithStepDelay(60 * time.Millisecond))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	res, _ := client.Event("welcome").To(sendivent.Address("alice@example.com")).Send(ctx)
	for n, err := range client.Watch(ctx, res.ID, sendivent.PollEvery(5*time.Millisecond, 10*time.Millisecond)) {
		if err != nil {
			fmt.Println(err)
			break
		}
		fmt.Println(n.Status, n.Messages[0].Status)
	}
	// Output:
	// running queued
	// running sent
	// completed delivered
}

func ExampleClient_Cancel() {
	srv := sendiventtest.NewServer(sendiventtest.WithEvent("drip",
		sendiventtest.Send(sendivent.ChannelEmail),
		sendiventtest.Wait(24*time.Hour),
		sendiventtest.Send(sendivent.ChannelEmail)))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	_, _ = client.Event("drip").To(sendivent.Address("alice@example.com")).Send(ctx)
	c, err := client.Cancel(ctx, "drip", sendivent.Address("alice@example.com"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("cancelled:", c.Cancelled)
	// Output: cancelled: 1
}

func ExampleAPIError() {
	srv := sendiventtest.NewServer(sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail)))
	defer srv.Close()
	client := srv.Client()

	_, err := client.Event("welcom").To(sendivent.Address("alice@example.com")).Send(context.Background())

	var apiErr *sendivent.APIError
	switch {
	case errors.Is(err, sendivent.ErrValidation):
		fmt.Println("fix the request:", err)
	case errors.Is(err, sendivent.ErrRateLimited):
		fmt.Println("slow down")
	case errors.As(err, &apiErr):
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Message)
	}

	_, err = client.Event("welcome").To(sendivent.Address("+46 70 123 45 67")).Send(context.Background())
	fmt.Println(err)
	// Output:
	// 404 EVENT_NOT_FOUND Event 'welcom' not found
	// sendivent: invalid to: phone number must be E.164, such as +46701234567
}
