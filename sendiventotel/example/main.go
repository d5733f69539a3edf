// Example prints the spans of a send and a Wait as OpenTelemetry exports
// them: JSON, one span after another, on stdout.
//
//	go -C sendiventotel run ./example
//
// It runs against the SDK's fake server, which fails the first attempt of
// the send with a 503, so the trace shows a retry: the send's span, its two
// attempts (the second with http.request.resend_count 1), then the Wait's
// span and its polls. The fake delivers the message's webhook events to a
// webhook.Handler: each is a "sendivent webhook delivery.sent" (then
// .delivered) span, with the span the handler's function starts under it.
// A real application sets its tracer provider and propagator once
// (otel.SetTracerProvider, otel.SetTextMapPropagator) with an exporter to
// its tracing backend, and passes sendiventotel.Observe() to NewClient and
// sendiventotel.ObserveWebhooks() to webhook.Handler.
package main

import (
	"context"
	"log"
	"os"
	"time"

	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventotel"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/webhook"
)

func main() {
	exporter, err := stdouttrace.New(stdouttrace.WithWriter(os.Stdout), stdouttrace.WithPrettyPrint())
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	const secret = "whsec_example"
	hooks := webhook.Handler(secret, func(ctx context.Context, ev *webhook.Event) error {
		_, span := tp.Tracer("example").Start(ctx, "record "+string(ev.Type)) // a child of the delivery's span
		span.End()
		return nil
	}, sendiventotel.ObserveWebhooks(sendiventotel.WithTracerProvider(tp)))

	srv := sendiventtest.NewServer(sendiventtest.WithWebhookHandler(hooks, secret))
	defer srv.Close()
	srv.Inject(sendiventtest.FailNext(1, 503).On(sendiventtest.EndpointSend))
	client := srv.Client(sendiventotel.Observe(
		sendiventotel.WithTracerProvider(tp),
		sendiventotel.WithPropagators(propagation.TraceContext{}),
	))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := client.Event("welcome").
		To(sendivent.Address("alice@example.com")). // in no span: the SDK never hands it to an observer
		Payload(sendivent.Payload{"company": "ACME"}).
		Send(ctx)
	if err != nil {
		log.Fatalf("send: %v", err)
	}
	if _, err := client.Wait(ctx, res.ID); err != nil {
		log.Fatalf("wait: %v", err)
	}
	if err := srv.WaitWebhooks(ctx); err != nil { // deliveries run in the background
		log.Fatalf("webhooks: %v", err)
	}
}
