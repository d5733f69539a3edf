package sendiventotel_test

import (
	"log"
	"os"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventotel"
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
