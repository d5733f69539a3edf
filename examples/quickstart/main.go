// Quickstart sends one welcome notification and follows it to its end.
//
//	go run ./examples/quickstart
//
// With SENDIVENT_API_KEY set it uses the Sendivent API (and sends to
// $SENDIVENT_EXAMPLE_TO); without, an in-process fake server, so it runs on
// a fresh machine with no account. Copy this file anywhere: it needs only
// the module github.com/sendivent/sendivent-go.
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

	res, err := client.Event("welcome").
		To(sendivent.Address(recipient())).
		Payload(sendivent.Payload{"company": "ACME"}).
		Send(ctx)
	if err != nil {
		log.Fatalf("send: %v", err)
	}
	fmt.Printf("accepted: notification %s (event %s)\n", res.ID, res.Event)

	for n, err := range client.Watch(ctx, res.ID) {
		if err != nil {
			log.Fatalf("watch: %v", err)
		}
		fmt.Println(describe(n))
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
	// Steps slow enough to see each state: queued, sent, delivered.
	srv := sendiventtest.NewServer(sendiventtest.WithStepDelay(150 * time.Millisecond))
	fmt.Println("using the built-in fake server (set SENDIVENT_API_KEY to use the real API)")
	return srv.Client(), srv.Close
}

// recipient is $SENDIVENT_EXAMPLE_TO, or an address that routes nowhere.
func recipient() string {
	if to := os.Getenv("SENDIVENT_EXAMPLE_TO"); to != "" {
		return to
	}
	return "test@example.com"
}

// describe prints a notification's status and its messages on one line.
func describe(n *sendivent.Notification) string {
	s := fmt.Sprintf("%-9s", n.Status)
	for _, m := range n.Messages {
		s += fmt.Sprintf("  %s: %s", m.Channel, m.Status)
		if m.Error != "" {
			s += " (" + m.Error + ")"
		}
	}
	return s
}
