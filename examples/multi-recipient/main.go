// Multi-recipient sends one event to Alice and Bob in one request: each gets
// a notification of their own, rendered with their own contact data.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/examples/internal/demo"
)

func main() {
	env, err := demo.Connect()
	if err != nil {
		log.Fatal(err)
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	res, err := env.Client.Send(ctx, "welcome", sendivent.SendRequest{
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
		n, err := env.Client.Wait(ctx, sent.ID, env.Poll...)
		if err != nil {
			log.Fatalf("wait for %s: %v", sent.ID, err)
		}
		fmt.Printf("%s → %s: %s\n", n.ID, n.Contact.Name, demo.Describe(n))
	}
}
