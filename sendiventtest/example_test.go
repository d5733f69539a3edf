package sendiventtest_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// In a test, prefer sendiventtest.New(t, ...), which also closes the server
// and reports undeclared events and unused faults on the test.
func ExampleNewServer() {
	srv := sendiventtest.NewServer(sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail)))
	defer srv.Close()
	srv.Inject(sendiventtest.FailNext(2, http.StatusServiceUnavailable)) // retried, in a few milliseconds
	client := srv.Client()
	ctx := context.Background()

	res, err := client.Event("welcome").To(sendivent.Contact{ID: "u_42", Email: "alice@example.com"}).Send(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	n, _ := client.Wait(ctx, res.ID)
	fmt.Println(n.Status, n.Messages[0].Channel, n.Messages[0].Status)

	sent, _ := srv.Notification(res.ID)
	fmt.Println(sent.Recipient.ID, sent.Recipient.Email)
	for _, r := range srv.Requests(sendiventtest.EndpointSend) {
		fmt.Println(r.Status, r.IdempotencyKey == res.IdempotencyKey)
	}
	// Output:
	// completed email delivered
	// u_42 alice@example.com
	// 503 true
	// 503 true
	// 200 true
}

func ExampleServer_Advance() {
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	defer srv.Close()
	res, _ := srv.Client().Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())

	for i := 0; i < 2; i++ {
		_ = srv.Advance(res.ID)
		n, _ := srv.Notification(res.ID)
		fmt.Println(n.Status, n.Messages[0].Status)
	}
	// Output:
	// running sent
	// completed delivered
}

func ExampleParseEvent() {
	e, err := sendiventtest.ParseEvent("drip=email,wait:24h,sms")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.Name, e.Steps)
	srv := sendiventtest.NewServer(sendiventtest.WithEvents(e))
	defer srv.Close()

	_, err = sendiventtest.ParseEvent("drip=email,fax")
	fmt.Println(err)
	// Output:
	// drip [email wait:24h0m0s sms]
	// sendiventtest: event "drip": step "fax": unknown channel (want one of email, sms, whatsapp, slack, telegram, discord, push, or wait:DURATION)
}

// The control endpoints drive the fake over plain HTTP, as a program in
// another language would.
func Example_controlEndpoints() {
	srv := sendiventtest.NewServer(sendiventtest.WithTimeScale(1), sendiventtest.WithStepDelay(time.Second))
	defer srv.Close()
	post := func(path, body string) {
		res, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		fmt.Println(res.StatusCode, string(out))
	}
	post("/_fake/faults", `{"status":503,"count":2,"retry_after":"1","endpoint":"send"}`)
	post("/_fake/faults", `{"status":200}`)
	post("/_fake/reset", ``)
	// Output:
	// 200 {"faults":[{"kind":"status","count":2,"status":503,"retry_after":"1","endpoint":"send"}]}
	// 400 {"error":"status 200: want an error status, 400 to 599","code":"INVALID_REQUEST"}
	// 200 {"status":"ok"}
}
