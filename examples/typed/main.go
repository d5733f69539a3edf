// Typed shows templates as the contract between the code and the
// dashboard: the catalogue in catalog/ (one file per event, as "sendivent
// events pull" saves them) gives events_gen.go, a payload type and a send
// per event, and the fake renders every message from the same templates,
// so that a test asserts what the person reads and fails on a variable the
// code does not set. Run it with
//
//	go run .       # sends the three events to a fake and prints them
//	go test .      # asserts the rendered email subject and SMS text
//	go generate .  # after changing catalog/: rewrites events_gen.go
//
// It is a module of its own, as an application's would be: its test uses
// the template engine (module github.com/sendivent/sendivent-go/templates),
// which an application that only sends does not need.
package main

//go:generate go run github.com/sendivent/sendivent-go/cmd/sendivent gen --catalog catalog --out events_gen.go

import (
	"context"
	"fmt"
	"log"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

// Shop sends the shop's notifications through the typed API.
type Shop struct{ Client *sendivent.Client }

// Shipped tells a customer that their order left the warehouse.
func (s *Shop) Shipped(ctx context.Context, to sendivent.Contact, orderID string, lines []OrderShippedLine) (string, error) {
	res, err := OrderShipped(s.Client, OrderShippedPayload{
		OrderID:  orderID,
		Currency: "EUR",
		Lines:    lines,
	}).To(to).Send(ctx)
	if err != nil {
		return "", err
	}
	return res.ID, nil
}

// SendCode sends a login code by SMS.
func (s *Shop) SendCode(ctx context.Context, phone, code string) (string, error) {
	res, err := LoginCode(s.Client, LoginCodePayload{Code: code, Minutes: "10"}).
		To(sendivent.Address(phone)).Send(ctx)
	if err != nil {
		return "", err
	}
	return res.ID, nil
}

// RemindCart reminds a customer of their cart by push.
func (s *Shop) RemindCart(ctx context.Context, to sendivent.Contact, items []string) (string, error) {
	p := CartReminderPayload{ItemCount: float64(len(items))}
	if len(items) > 0 {
		p.FirstItem = items[0]
	}
	res, err := CartReminder(s.Client, p).To(to).Send(ctx)
	if err != nil {
		return "", err
	}
	return res.ID, nil
}

func main() {
	srv := sendiventtest.NewServer(
		sendiventtest.WithCatalog("catalog"),
		sendiventtest.WithTemplateEngine(templates.Handlebars()),
		sendiventtest.WithStrictTemplates(),
	)
	defer srv.Close()
	shop := &Shop{Client: srv.Client()}
	ctx := context.Background()
	ann := sendivent.Contact{Email: "ann@example.com", Name: "Ann Lee", PushTokens: []string{"ExponentPushToken[ann]"}}
	ids := []string{}
	for _, send := range []func() (string, error){
		func() (string, error) {
			return shop.Shipped(ctx, ann, "A-17", []OrderShippedLine{{Quantity: "2", Name: "Tea", Price: "4.50"}})
		},
		func() (string, error) { return shop.SendCode(ctx, "+46701234567", "482913") },
		func() (string, error) { return shop.RemindCart(ctx, ann, []string{"Tea", "Cup"}) },
	} {
		id, err := send()
		if err != nil {
			log.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		n, _ := srv.Notification(id)
		for _, m := range n.Rendered {
			fmt.Printf("%s %s\n", n.Event, m.Channel)
			for _, p := range [][2]string{{"subject", m.Subject}, {"text", m.Text}, {"title", m.Title}, {"body", m.Body}} {
				if p[1] != "" {
					fmt.Printf("  %-7s %s\n", p[0]+":", p[1])
				}
			}
		}
	}
}
