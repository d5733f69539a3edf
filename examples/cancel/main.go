// Cancel starts a drip sequence (an email now, an SMS an hour later), then
// cancels it for the contact before the SMS goes out.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/examples/internal/demo"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

func main() {
	// On the fake server, declare the sequence the real event would have.
	env, err := demo.Connect(sendiventtest.WithEvent("drip",
		sendiventtest.Send(sendivent.ChannelEmail),
		sendiventtest.Wait(time.Hour),
		sendiventtest.Send(sendivent.ChannelSMS)))
	if err != nil {
		log.Fatal(err)
	}
	defer env.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	to := sendivent.Contact{Email: demo.Recipient(), Phone: "+46701234567", Name: "Alice"}
	res, err := env.Client.Event("drip").To(to).Send(ctx)
	if err != nil {
		log.Fatalf("send: %v", err)
	}
	fmt.Printf("accepted: notification %s\n", res.ID)

	n, err := env.Client.WaitFor(ctx, res.ID, func(n *sendivent.Notification) bool {
		return n.Status == sendivent.StatusWaiting
	}, env.Poll...)
	if err != nil {
		log.Fatalf("wait: %v", err)
	}
	fmt.Println(demo.Describe(n))

	c, err := env.Client.Cancel(ctx, "drip", to)
	if err != nil {
		log.Fatalf("cancel: %v", err)
	}
	fmt.Printf("cancelled: %d\n", c.Cancelled)

	n, err = env.Client.Wait(ctx, res.ID, env.Poll...)
	if err != nil {
		log.Fatalf("wait: %v", err)
	}
	fmt.Println(demo.Describe(n))
}
