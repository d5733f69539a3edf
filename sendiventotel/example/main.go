// Example prints the spans of a send and a Wait as OpenTelemetry exports
// them: JSON, one span after another, on stdout.
//
//	go -C sendiventotel run ./example
//
// It runs against the SDK's fake server, which fails the first attempt of
// the send with a 503, so the trace shows a retry: the send's span, its two
// attempts (the second with http.request.resend_count 1), then the Wait's
// span and its polls. A real application sets its tracer provider and
// propagator once (otel.SetTracerProvider, otel.SetTextMapPropagator) with
// an exporter to its tracing backend, and passes sendiventotel.Observe() to
// NewClient.
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
)

func main() {
	exporter, err := stdouttrace.New(stdouttrace.WithWriter(os.Stdout), stdouttrace.WithPrettyPrint())
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	srv := sendiventtest.NewServer()
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
}
