// Cancel starts a drip sequence (an email now, an SMS an hour later), then
// cancels it for the contact before the SMS goes out.
//
//	go run ./examples/cancel
//
// Without SENDIVENT_API_KEY it runs against an in-process fake server, where
// the hour lasts 3.6 s; with it, the "drip" event must exist in your account.
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

	to := sendivent.Contact{Email: recipient(), Phone: "+46701234567", Name: "Alice"}
	res, err := client.Event("drip").To(to).Send(ctx)
	if err != nil {
		log.Fatalf("send: %v", err)
	}
	fmt.Printf("accepted: notification %s\n", res.ID)

	n, err := client.WaitFor(ctx, res.ID, func(n *sendivent.Notification) bool {
		return n.Status == sendivent.StatusWaiting
	})
	if err != nil {
		log.Fatalf("wait: %v", err)
	}
	fmt.Println(describe(n))

	c, err := client.Cancel(ctx, "drip", to)
	if err != nil {
		log.Fatalf("cancel: %v", err)
	}
	fmt.Printf("cancelled: %d\n", c.Cancelled)

	n, err = client.Wait(ctx, res.ID)
	if err != nil {
		log.Fatalf("wait: %v", err)
	}
	fmt.Println(describe(n))
}

// connect returns a client of the Sendivent API when SENDIVENT_API_KEY is
// set, and otherwise one of a fake server that declares the sequence the
// real event would have, with the function that stops it.
func connect() (*sendivent.Client, func()) {
	if os.Getenv("SENDIVENT_API_KEY") != "" {
		c, err := sendivent.NewClient("") // the key from $SENDIVENT_API_KEY
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("using the Sendivent API (SENDIVENT_API_KEY is set)")
		return c, func() {}
	}
	srv := sendiventtest.NewServer(sendiventtest.WithEvent("drip",
		sendiventtest.Send(sendivent.ChannelEmail),
		sendiventtest.Wait(time.Hour),
		sendiventtest.Send(sendivent.ChannelSMS)))
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
	}
	return s
}
