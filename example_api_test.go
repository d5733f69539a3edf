package sendivent_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// The start-up check: every event name the application sends exists. A
// misspelt name passes every unit test that mocks the client, and fails in
// production on the first send; checked at start-up, it fails the deploy.
func ExampleEventsService_List() {
	srv := sendiventtest.NewServer(
		sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail)),
		sendiventtest.WithEvent("password-reset", sendiventtest.Send(sendivent.ChannelEmail)))
	defer srv.Close()
	client := srv.Client()

	// The names the application sends, in one place.
	used := []string{"welcome", "password-reset", "order-shiped"}

	events, err := client.Events.List(context.Background())
	if err != nil {
		fmt.Println(err) // the endpoint is documented by one source only: decide whether to fail on it
		return
	}
	var missing []string
	for _, name := range used {
		if !slices.ContainsFunc(events, func(e sendivent.EventInfo) bool { return e.Identifier == name }) {
			missing = append(missing, name)
		}
	}
	fmt.Println("events missing:", missing)
	// Output: events missing: [order-shiped]
}

// A mobile app sends its device's push token to the backend after the user
// logs in; the backend registers it on the user's contact, and the push
// channel can then reach them.
func ExampleContactsService_AddPushToken() {
	srv := sendiventtest.NewServer(sendiventtest.WithEvent("order-shipped",
		sendiventtest.Send(sendivent.ChannelPush), sendiventtest.Send(sendivent.ChannelEmail)))
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()

	// At sign-up: the contact, under your own user id.
	if _, err := client.Contacts.Upsert(ctx, sendivent.Contact{ID: "user_42", Email: "ada@example.com", Name: "Ada"}); err != nil {
		fmt.Println(err)
		return
	}
	// At log-in on a device: its token. Registering it again is harmless.
	if err := client.Contacts.AddPushToken(ctx, "user_42", "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"); err != nil {
		fmt.Println(err)
		return
	}
	res, err := client.Event("order-shipped").To(sendivent.Address("user_42")).Send(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	n, _ := srv.Notification(res.ID)
	fmt.Println("sent on", n.Channels)

	// At log-out: the token goes.
	if err := client.Contacts.RemovePushToken(ctx, "user_42", "ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]"); err != nil {
		fmt.Println(err)
	}
	// Output: sent on [push]
}

func ExampleContactsService_List() {
	srv := sendiventtest.NewServer()
	defer srv.Close()
	client := srv.Client()
	ctx := context.Background()
	for _, email := range []string{"ada@example.com", "alan@example.com", "grace@example.com"} {
		if _, err := client.Contacts.Upsert(ctx, sendivent.Contact{Email: email}); err != nil {
			fmt.Println(err)
			return
		}
	}

	// Pages of 2 are read as the loop goes; "break" ends it with nothing in flight.
	for c, err := range client.Contacts.List(ctx, sendivent.ContactListParams{Search: "a", Limit: 2}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.Email)
	}
	// Output:
	// ada@example.com
	// alan@example.com
	// grace@example.com
}

func ExampleEventBuilder_Broadcast() {
	srv := sendiventtest.NewServer(sendiventtest.WithEvents(sendiventtest.EventConfig{
		Name:      "deploy",
		Steps:     []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelSlack)},
		Listeners: []sendivent.Recipient{sendivent.Address("#ops"), sendivent.Address("#releases")},
	}))
	defer srv.Close()
	client := srv.Client()

	// To the listeners configured on the event, not to a recipient.
	res, err := client.Event("deploy").Broadcast().Payload(sendivent.Payload{"version": "1.4.2"}).Send(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(res.Notifications), "notifications")
	// Output: 2 notifications
}

// Overrides for a channel the SDK does not model (push here), and a body
// field it does not know, go in Extra.
func ExampleOverrides() {
	srv := sendiventtest.NewServer()
	defer srv.Close()
	client := srv.Client()

	_, err := client.Event("order-shipped").
		To(sendivent.Address("ada@example.com")).
		Overrides(&sendivent.Overrides{
			Email: &sendivent.EmailOverrides{Subject: "Your order is on its way"},
			Extra: map[string]any{"push": map[string]any{"title": "Shipped!", "sound": "default"}},
		}).
		Send(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	r, _ := srv.LastRequest()
	fmt.Println(string(r.RawBody))
	// Output: {"to":"ada@example.com","payload":{},"overrides":{"email":{"subject":"Your order is on its way"},"push":{"sound":"default","title":"Shipped!"}}}
}
