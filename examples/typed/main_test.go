package main

import (
	"context"
	"testing"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

// newFake is the fake with the catalogue's events and their templates: a
// message with a variable the code did not set fails the test.
func newFake(t *testing.T) *sendiventtest.Server {
	return sendiventtest.New(t,
		sendiventtest.WithCatalog("catalog"),
		sendiventtest.WithTemplateEngine(templates.Handlebars()),
		sendiventtest.WithSystemVariables(map[string]any{"app": map[string]any{"name": "Teashop"}}),
	)
}

// rendered returns the first message of notification id as the person
// reads it.
func rendered(t *testing.T, srv *sendiventtest.Server, id string) sendiventtest.RenderedMessage {
	t.Helper()
	n, ok := srv.Notification(id)
	if !ok || len(n.Rendered) == 0 {
		t.Fatalf("notification %s has no rendered message", id)
	}
	return n.Rendered[0]
}

func TestShippedEmail(t *testing.T) {
	t.Parallel()
	srv := newFake(t)
	shop := &Shop{Client: srv.Client()}
	id, err := shop.Shipped(context.Background(), sendivent.Contact{Email: "ann@example.com", Name: "Ann Lee"}, "A-17",
		[]OrderShippedLine{{Quantity: "2", Name: "Tea", Price: "4.50"}, {Quantity: "1", Name: "Cup", Price: "9.00"}})
	if err != nil {
		t.Fatal(err)
	}
	m := rendered(t, srv, id)
	if want := "Your order A-17 has shipped"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
	if want := "Hi Ann, order A-17 is on its way.\n- 2 × Tea: 4.50 EUR\n- 1 × Cup: 9.00 EUR\n"; m.Text != want {
		t.Errorf("text %q, want %q", m.Text, want)
	}
}

func TestLoginCodeSMS(t *testing.T) {
	t.Parallel()
	srv := newFake(t)
	shop := &Shop{Client: srv.Client()}
	id, err := shop.SendCode(context.Background(), "+46701234567", "482913")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rendered(t, srv, id).Text, "482913 is your Teashop code. It expires in 10 minutes."; got != want {
		t.Errorf("SMS %q, want %q", got, want)
	}
}

func TestCartReminderPush(t *testing.T) {
	t.Parallel()
	srv := newFake(t)
	shop := &Shop{Client: srv.Client()}
	to := sendivent.Contact{Email: "bob@example.com", PushTokens: []string{"ExponentPushToken[bob]"}}
	id, err := shop.RemindCart(context.Background(), to, []string{"Tea"})
	if err != nil {
		t.Fatal(err)
	}
	m := rendered(t, srv, id)
	if m.Title != "Hi, your cart is waiting" || m.Body != "One item, starting with Tea." {
		t.Errorf("push %q / %q", m.Title, m.Body)
	}
}
