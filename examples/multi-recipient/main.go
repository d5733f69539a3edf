// Multi-recipient sends one event to Alice and Bob in one request: each gets
// a notification of their own, rendered with their own contact data.
//
//	go run ./examples/multi-recipient
//
// Without SENDIVENT_API_KEY it runs against an in-process fake server.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

func main() {
	client, stop := connect()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	res, err := client.Send(ctx, "welcome", sendivent.SendRequest{
		To: []sendivent.Recipient{
			sendivent.Contact{Email: "alice@example.com", Name: "Alice"},
			sendivent.Contact{Email: "bob@example.com", Name: "Bob"},
		},
		Payload: sendivent.Payload{"company": "ACME"},
	})
	if err != nil {
		log.Fatalf("send: %v", err)
	}
	fmt.Printf("accepted: %d notifications\n", len(res.Notifications))
	for _, sent := range res.Notifications {
		n, err := client.Wait(ctx, sent.ID)
		if err != nil {
			log.Fatalf("wait for %s: %v", sent.ID, err)
		}
		fmt.Printf("%s → %s: %s\n", n.ID, n.Contact.Name, describe(n))
	}
}

// connect returns a client of the Sendivent API when SENDIVENT_API_KEY is
// set, and otherwise one of a fake server, with the function that stops it.
func connect() (*sendivent.Client, func()) {
	if os.Getenv("SENDIVENT_API_KEY") != "" {
		c, err := sendivent.NewClient("") // the key from $SENDIVENT_API_KEY
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("using the Sendivent API (SENDIVENT_API_KEY is set)")
		return c, func() {}
	}
	srv := sendiventtest.NewServer()
	fmt.Println("using the built-in fake server (set SENDIVENT_API_KEY to use the real API)")
	return srv.Client(), srv.Close
}

// describe prints a notification's status and its messages on one line.
func describe(n *sendivent.Notification) string {
	s := fmt.Sprintf("%-9s", n.Status)
	for _, m := range n.Messages {
		s += fmt.Sprintf("  %s: %s", m.Channel, m.Status)
	}
	return s
}
