// Package webhook receives Sendivent's delivery events: it verifies their
// signatures, decodes them, and calls your code once per event. It needs no
// sendivent.Client and only the standard library.
//
// # Receiving
//
// Mount a [Handler] on your server with the endpoint's signing secret (the
// whsec_… value the service returned when the webhook was created):
//
//	func main() {
//		secret := os.Getenv("SENDIVENT_WEBHOOK_SECRET")
//		http.Handle("/webhooks/sendivent", webhook.Handler(secret,
//			func(ctx context.Context, ev *webhook.Event) error {
//				switch ev.Type {
//				case webhook.DeliveryDelivered:
//					return markDelivered(ctx, ev.Delivery.UUID, ev.Delivery.DeliveredAt)
//				case webhook.DeliveryBounced, webhook.DeliveryComplained:
//					return suppress(ctx, ev.Delivery.UUID)
//				}
//				return nil // other and future types: nothing to do
//			},
//			webhook.WithLogger(slog.Default())))
//		srv := &http.Server{Addr: ":8080", // timeouts end peers that send slowly
//			ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second}
//		log.Fatal(srv.ListenAndServe())
//	}
//
// The handler refuses (400) anything whose signature does not check out,
// without calling your function; answers 2xx when your function returns
// nil; answers 500 when it returns an error, so that the service delivers
// the event again; and calls your function once for an event delivered
// twice. Keep the function short: the service waits for the answer.
//
// Events are recognised by what their signature covers (the delivery's
// UUID and the event's type), so a replayed delivery is a repeat whatever
// its unsigned headers say. By default the handler remembers them in
// memory, for one process; when several processes receive deliveries
// (replicas behind a load balancer), give them one shared [Deduper]:
// package github.com/sendivent/sendivent-go/sendiventredis has one on
// Redis.
//
// With another router or framework, read the raw body yourself, through a
// cap (http.MaxBytesReader), and call [Verify] before parsing anything; use
// [Event.DedupeKey] to drop repeats.
//
// # Verification
//
// Each delivery carries X-Sendivent-Signature: t=<unix seconds>,v1=<hex>.
// [Verify] checks, in constant time, that a v1 value is the HMAC-SHA256 of
// "<t>.<raw body>" under your secret, and that t is within 5 minutes of
// now ([WithTolerance]), which stops a captured delivery from being
// replayed later. While rotating secrets, accept both with [WithSecrets];
// the service may likewise send several v1 values, and one valid is enough.
//
// The signed string is inferred, not documented: the service's
// documentation names the header's parts but stops before saying what is
// signed. This package follows Stripe's scheme, which the header copies. If
// genuine deliveries fail with [ErrNoValidSignature] while the secret is
// right, that inference is the suspect: please report it.
//
// # Observing
//
// [WithObserver] calls an [Observer]'s hooks as each delivery arrives, is
// verified or refused, and ends (how the [Deduper] took it, what the
// function returned, the status answered, the durations), for traces,
// metrics or logs. They get the event's type, channel and delivery UUID,
// and failures as classes ("no_valid_signature", "callback_error"), never
// a body, a signature, a secret or an error message. The function runs
// under the context the observer started the delivery with, so its spans
// are the delivery's children. sendiventotel.ObserveWebhooks, in module
// github.com/sendivent/sendivent-go/sendiventotel, turns them into
// OpenTelemetry spans and metrics.
//
// # Testing
//
// [Sign] and [NewRequest] make deliveries that [Verify] and [Handler]
// accept, so a test can drive your handler without the service.
// An [Event] marshals to the wire shape, to build such deliveries from.
// To test the whole path instead (send, delivery, your handler), give your
// handler to the fake server of package sendiventtest
// (WithWebhookHandler): it signs and delivers events as notifications move.
package webhook
