package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sendivent/sendivent-go/webhook"
)

func ExampleHandler() {
	const secret = "whsec_example" // from the service when the webhook was created
	h := webhook.Handler(secret, func(ctx context.Context, ev *webhook.Event) error {
		switch ev.Type {
		case webhook.DeliveryBounced:
			fmt.Println("suppress:", ev.Delivery.UUID, ev.Delivery.Error.Code)
		default:
			fmt.Println("noted:", ev.Type, ev.Delivery.UUID)
		}
		return nil // an error would answer 500, and the service would retry
	})
	// In a server: http.Handle("/webhooks/sendivent", h)

	// A delivery, as the service (or a test) sends it; the second is a
	// retry of the first, which the handler recognises.
	body := []byte(`{"event":"delivery.bounced","delivery":{"uuid":"d-42","channel":"email","error":{"code":"HARD_BOUNCE","message":"no such mailbox"}}}`)
	for range 2 {
		r, _ := webhook.NewRequest(context.Background(), "http://localhost/webhooks/sendivent", body, secret, time.Now())
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}

	// A forgery never reaches the function.
	r := httptest.NewRequest(http.MethodPost, "/webhooks/sendivent", nil)
	r.Header.Set(webhook.SignatureHeader, "t=1774872000,v1=00")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Println(w.Code)
	// Output:
	// suppress: d-42 HARD_BOUNCE
	// 204
	// 200
	// 400
}

func ExampleVerify() {
	const secret = "whsec_example"
	// What a framework hands you: the raw body and the headers. Cap the
	// body when reading it, e.g. with http.MaxBytesReader.
	body := []byte(`{"event":"delivery.delivered","delivery":{"uuid":"d-42","channel":"email","status":"delivered","delivered_at":"2026-03-30T12:00:01.250Z"},"request_id":"r-1","timestamp":"2026-03-30T12:00:01.300Z"}`)
	header := http.Header{}
	signedAt := time.Unix(1774872001, 0)
	header.Set(webhook.SignatureHeader, webhook.Sign(body, secret, signedAt))
	header.Set(webhook.WebhookIDHeader, "wh_1")
	received := webhook.WithNow(func() time.Time { return signedAt.Add(2 * time.Second) }) // tests only

	ev, err := webhook.Verify(body, header, secret, received)
	if err != nil {
		fmt.Println(err) // answer 400
		return
	}
	fmt.Println(ev.Type, ev.Delivery.UUID, ev.Delivery.DeliveredAt.Format(time.RFC3339Nano), ev.WebhookID, ev.DedupeKey())

	tampered := []byte(string(body[:len(body)-1]) + `,"x":1}`)
	_, err = webhook.Verify(tampered, header, secret, received)
	fmt.Println(errors.Is(err, webhook.ErrNoValidSignature), err)

	late := webhook.WithNow(func() time.Time { return signedAt.Add(time.Hour) })
	_, err = webhook.Verify(body, header, secret, late)
	fmt.Println(errors.Is(err, webhook.ErrTimestampOutOfRange), err)
	// Output:
	// delivery.delivered d-42 2026-03-30T12:00:01.25Z wh_1 delivery/d-42/delivery.delivered
	// true webhook: no valid signature: 1 v1 value(s) checked against 1 secret(s)
	// true webhook: signature timestamp out of range: signed 1h0m0s ago, tolerance 5m0s
}

func ExampleSign() {
	body := []byte(`{"event":"delivery.sent","delivery":{"uuid":"d-42"}}`)
	fmt.Println(webhook.Sign(body, "whsec_example", time.Unix(1774872000, 0)))
	// Output:
	// t=1774872000,v1=312181e2426ca21dbebcab620f21de35ca2a17e2f1f1308a978f19c58cc119ad
}

// An Event marshals to the wire shape: build one to make a delivery in a
// test.
func ExampleEvent_MarshalJSON() {
	ev := webhook.Event{
		Type:      webhook.DeliverySent,
		Delivery:  webhook.Delivery{UUID: "d-42", Channel: "sms", Status: "sent", EventName: "otp", SentAt: time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)},
		RequestID: "r-1",
		Timestamp: time.Date(2026, 3, 30, 12, 0, 0, 5e6, time.UTC),
	}
	body, _ := json.Marshal(ev)
	fmt.Println(string(body))
	fmt.Println(webhook.Sign(body, "whsec_example", ev.Timestamp))
	// Output:
	// {"event":"delivery.sent","delivery":{"uuid":"d-42","channel":"sms","status":"sent","event_name":"otp","message_id":"","sent_at":"2026-03-30T12:00:00.000Z","delivered_at":null,"error":null},"request_id":"r-1","timestamp":"2026-03-30T12:00:00.005Z"}
	// t=1774872000,v1=b42b7065d6355d31db155b98e2f195447321a50746d9d61a47aeea7df9c8c2af
}
