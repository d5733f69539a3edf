// Quickstart sends one welcome notification and follows it to its end.
//
//	go run ./examples/quickstart
//
// Without SENDIVENT_API_KEY it runs against the built-in fake server.
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

	res, err := env.Client.Event("welcome").
		To(sendivent.Address(demo.Recipient())).
		Payload(sendivent.Payload{"company": "ACME"}).
		Send(ctx)
	if err != nil {
		log.Fatalf("send: %v", err)
	}
	fmt.Printf("accepted: notification %s (event %s)\n", res.ID, res.Event)

	for n, err := range env.Client.Watch(ctx, res.ID, env.Poll...) {
		if err != nil {
			log.Fatalf("watch: %v", err)
		}
		fmt.Println(demo.Describe(n))
	}
}
