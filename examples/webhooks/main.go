// Webhooks receives Sendivent's delivery events end to end, from the
// built-in fake server to the program's own webhook handler:
//
//	go run ./examples/webhooks        # the fake calls the handler in process
//	go run ./examples/webhooks -http  # the fake POSTs to it on a loopback server
//
// The handler is what a real server mounts at the URL it gave
// client.Webhooks.Create: it verifies each delivery's signature and calls
// its function once per event. The fake plays the service and the
// providers: it signs the events with the same scheme, and here it
// delivers one email and bounces another. It needs no account, and ends
// in a few milliseconds. Copy the folder anywhere: it needs only the module
// github.com/sendivent/sendivent-go (and testify and goleak for its test).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/webhook"
)

// secret is the endpoint's signing secret. In production it comes from
// client.Webhooks.Create, once, and lives in your secret store.
const secret = "whsec_example_do_not_use"

func main() {
	overHTTP := flag.Bool("http", false, "deliver over a loopback HTTP server instead of in process")
	flag.Parse()
	if err := run(os.Stdout, *overHTTP); err != nil {
		log.Fatal(err)
	}
}

// inbox is the application's state: the events received, by delivery.
type inbox struct {
	mu     sync.Mutex
	events map[string][]*webhook.Event // by delivery uuid, in order
}

// receive is the function the webhook handler calls, once per event. An
// error would answer 500, and the service would deliver the event again.
func (in *inbox) receive(_ context.Context, ev *webhook.Event) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.events[ev.Delivery.UUID] = append(in.events[ev.Delivery.UUID], ev)
	return nil
}

func (in *inbox) of(delivery string) []*webhook.Event {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.events[delivery]
}

func run(out io.Writer, overHTTP bool) error {
	in := &inbox{events: map[string][]*webhook.Event{}}
	handler := webhook.Handler(secret, in.receive)

	endpoint := sendiventtest.WithWebhookHandler(handler, secret)
	if overHTTP {
		mux := http.NewServeMux()
		mux.Handle("/webhooks/sendivent", handler)
		ts := httptest.NewServer(mux) // loopback only
		defer ts.Close()
		endpoint = sendiventtest.WithWebhook(ts.URL+"/webhooks/sendivent", secret)
		fmt.Fprintln(out, "webhooks go to a loopback HTTP server")
	} else {
		fmt.Fprintln(out, "webhooks go to the handler in process")
	}
	srv := sendiventtest.NewServer(endpoint, sendiventtest.WithManualLifecycle(),
		sendiventtest.WithEvent("order-shipped", sendiventtest.Send(sendivent.ChannelEmail)))
	defer srv.Close()
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	recipients := []string{"alice@example.com", "bob@example.com"}
	ids := make([]string, len(recipients))
	for i, to := range recipients {
		res, err := client.Event("order-shipped").To(sendivent.Address(to)).Send(ctx)
		if err != nil {
			return fmt.Errorf("send to %s: %w", to, err)
		}
		ids[i] = res.ID
	}

	// The fake plays the providers: alice's email is delivered; bob's is
	// sent, then bounces. Each change is a webhook event.
	if err := srv.Deliver(ids[0]); err != nil {
		return err
	}
	if err := srv.Advance(ids[1]); err != nil {
		return err
	}
	if err := srv.SuppressMessage(ids[1], "mailbox does not exist"); err != nil {
		return err
	}
	// Deliveries run in the background: wait until they have all ended.
	if err := srv.WaitWebhooks(ctx); err != nil {
		return err
	}

	for i, id := range ids {
		n, err := client.GetNotification(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: notification %s\n", recipients[i], n.Status)
		for _, ev := range in.of(n.Messages[0].ID) {
			line := fmt.Sprintf("  %-19s %s, status %s", ev.Type, ev.Delivery.Channel, ev.Delivery.Status)
			if e := ev.Delivery.Error; e != nil {
				line += fmt.Sprintf(" (%s: %s)", e.Code, e.Message)
			}
			fmt.Fprintln(out, line)
		}
	}
	attempts := srv.WebhookDeliveries()
	fmt.Fprintf(out, "%d deliveries, each taken at the first attempt: %v\n", len(attempts), allFirst(attempts))
	return nil
}

func allFirst(ds []sendiventtest.WebhookDelivery) bool {
	for _, d := range ds {
		if d.Attempt != 1 || !d.OK() {
			return false
		}
	}
	return true
}
