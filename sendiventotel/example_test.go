package sendiventotel_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventotel"
	"github.com/sendivent/sendivent-go/webhook"
)

// A program sets its OpenTelemetry providers and propagator once, at
// start-up, with the exporter of its tracing backend; every client it
// observes then uses them.
func ExampleObserve() {
	tp := sdktrace.NewTracerProvider( /* sdktrace.WithBatcher(your exporter) */ )
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})

	apiKey := os.Getenv("SENDIVENT_API_KEY")
	client, err := sendivent.NewClient(apiKey, sendiventotel.Observe()) // the global providers and propagator
	if err != nil {
		log.Fatal(err)
	}
	_ = client
}

// A webhook handler observed with the global providers: each delivery is a
// span, and the function runs under it.
func ExampleObserveWebhooks() {
	secret := os.Getenv("SENDIVENT_WEBHOOK_SECRET")
	fn := func(ctx context.Context, ev *webhook.Event) error {
		return nil // ctx carries the delivery's span: what fn traces is its child
	}
	http.Handle("/webhooks/sendivent", webhook.Handler(secret, fn, sendiventotel.ObserveWebhooks()))
}
