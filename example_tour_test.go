package sendivent_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// Example_tour is README's tour, run as written against the fake server:
// TestReadmeSnippetsRun checks that README's code is this code.
func Example_tour() {
	srv := sendiventtest.NewServer(
		sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail)),
		sendiventtest.WithEvent("drip", sendiventtest.Send(sendivent.ChannelEmail),
			sendiventtest.Wait(24*time.Hour), sendiventtest.Send(sendivent.ChannelEmail)),
		sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "deploy",
			Steps:     []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelSlack)},
			Listeners: []sendivent.Recipient{sendivent.Address("#deploys")}}))
	defer srv.Close()
	ctx := context.Background()
	if err := tour(ctx, srv.Client()); err != nil {
		fmt.Println("error:", err)
	}
	if err := tourServices(ctx, srv.Client(), "device-token-1"); err != nil {
		fmt.Println("error:", err)
	}
	// A client made the way README says, from the environment.
	os.Setenv("SENDIVENT_API_URL", srv.URL)
	defer os.Unsetenv("SENDIVENT_API_URL")
	if err := newClientFromEnv(srv.APIKey()); err != nil {
		fmt.Println("error:", err)
	}
	// Output:
	// welcome accepted
	// completed, delivered: true
	// cancelled: 0
	// 404 EVENT_NOT_FOUND Event 'welcom' not found
	// broadcast accepted
	// Ada ada@example.com
	// events: deploy drip welcome
	// client ready
}

func newClientFromEnv(key string) error {
	os.Setenv("SENDIVENT_API_KEY", key)
	defer os.Unsetenv("SENDIVENT_API_KEY")

	client, err := sendivent.NewClient("") // "" reads $SENDIVENT_API_KEY; share one client
	if err != nil {
		return err
	}
	_ = client
	fmt.Println("client ready")
	return nil
}

func tour(ctx context.Context, client *sendivent.Client) error {
	res, err := client.Event("welcome").
		To(sendivent.Address("alice@example.com")).
		Payload(sendivent.Payload{"company": "ACME"}).
		Send(ctx)
	if err != nil {
		return err
	}
	fmt.Println(res.Event, res.Status)

	n, err := client.Wait(ctx, res.ID) // polls until completed, failed or stopped
	if err != nil {
		return err
	}
	if m := n.FailedMessage(); n.Failed() && m != nil {
		log.Printf("not delivered over %s: %s", m.Channel, m.Error)
	}
	fmt.Printf("%s, delivered: %v\n", n.Status, n.Delivered())

	c, err := client.Cancel(ctx, "drip", sendivent.Address("alice@example.com"))
	if err != nil {
		return err
	}
	fmt.Println("cancelled:", c.Cancelled) // 0: nothing of "drip" was pending for alice

	_, err = client.Event("welcom").To(sendivent.Address("alice@example.com")).Send(ctx)
	var apiErr *sendivent.APIError
	switch {
	case errors.Is(err, sendivent.ErrRateLimited): // retried already; back off further
	case errors.As(err, &apiErr):
		fmt.Println(apiErr.StatusCode, apiErr.Code, apiErr.Message)
	}
	return nil
}

func tourServices(ctx context.Context, client *sendivent.Client, deviceToken string) error {
	res, err := client.Event("deploy").Broadcast().Send(ctx)
	if err != nil {
		return err
	}
	fmt.Println("broadcast", res.Status)

	ada, err := client.Contacts.Upsert(ctx, sendivent.Contact{Email: "ada@example.com", Name: "Ada"})
	if err != nil {
		return err
	}
	_ = ada.UUID // the service's id for her
	err = client.Contacts.AddPushToken(ctx, "ada@example.com", deviceToken)
	if err != nil {
		return err
	}
	for c, err := range client.Contacts.List(ctx, sendivent.ContactListParams{Search: "ada"}) { // pages read as you go
		if err != nil {
			return err
		}
		fmt.Println(c.Name, c.Email)
	}

	// At start-up: every event name the application sends exists (a typo
	// otherwise fails in production only).
	events, err := client.Events.List(ctx)
	if err != nil {
		return err
	}
	fmt.Print("events:")
	for _, e := range events {
		fmt.Print(" ", e.Identifier)
	}
	fmt.Println()
	return nil
}
