package sendiventotel

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/webhook"
)

// The attributes of webhook deliveries.
const (
	WebhookEventTypeKey   = attribute.Key("sendivent.webhook.event_type")
	WebhookOutcomeKey     = attribute.Key("sendivent.webhook.outcome")
	WebhookDedupeErrorKey = attribute.Key("sendivent.webhook.dedupe_error")
	DeliveryIDKey         = attribute.Key("sendivent.delivery.id")
)

// ObserveWebhooks returns the webhook.Handler option that sends the
// handler's traces and metrics to OpenTelemetry: a span per delivery,
// under which the handler's function runs, and the metrics
// sendivent.webhook.deliveries and sendivent.webhook.delivery.duration
// (see the package doc). The options are those of Observe.
func ObserveWebhooks(opts ...Option) webhook.Option {
	return webhook.WithObserver(NewWebhookObserver(opts...))
}

// NewWebhookObserver returns the hooks ObserveWebhooks installs, for a
// program that combines them with its own.
func NewWebhookObserver(opts ...Option) webhook.Observer {
	cfg := newConfig(opts)
	o := &webhookObserver{
		tracer: cfg.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(sendivent.Version),
			trace.WithSchemaURL(semconv.SchemaURL)),
		prop: cfg.prop,
		sets: map[webhookSetKey]metric.MeasurementOption{},
	}
	o.instruments(cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(sendivent.Version),
		metric.WithSchemaURL(semconv.SchemaURL)))
	return webhook.Observer{
		DeliveryStart: o.deliveryStart,
		Verified:      o.verified,
		DeliveryEnd:   o.deliveryEnd,
	}
}

type webhookObserver struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator

	deliveries metric.Int64Counter
	duration   metric.Float64Histogram

	mu   sync.RWMutex
	sets map[webhookSetKey]metric.MeasurementOption // the metrics' attributes, made once per combination
}

func (o *webhookObserver) instruments(m metric.Meter) {
	var err, e error
	o.deliveries, err = m.Int64Counter("sendivent.webhook.deliveries",
		metric.WithUnit("{delivery}"), metric.WithDescription("Webhook deliveries received, by outcome."))
	o.duration, e = m.Float64Histogram("sendivent.webhook.delivery.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of webhook deliveries, from the request's arrival to the answer."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err == nil {
		err = e
	}
	if err != nil {
		otel.Handle(err) // a meter that refuses an instrument leaves it a no-op
	}
}

// webhookSpanName is the span's name before the delivery is verified, and
// after a refusal: an unverified type is not trusted, even in a name.
const webhookSpanName = "sendivent webhook"

// deliveryStart starts the delivery's span: a child of the request's span
// when an HTTP server instrumentation (otelhttp.NewHandler) made one, and
// otherwise of the trace context the propagator finds in the request's
// header, if any (a proxy's; the service sends none).
func (o *webhookObserver) deliveryStart(ctx context.Context, d webhook.DeliveryStart) context.Context {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		ctx = o.prop.Extract(ctx, headerCarrier{d.Header})
	}
	ctx, _ = o.tracer.Start(ctx, webhookSpanName, trace.WithSpanKind(trace.SpanKindInternal))
	return ctx
}

// headerCarrier is a delivery's header as a propagator reads it.
type headerCarrier struct{ webhook.RequestHeader }

func (headerCarrier) Set(string, string) {} // never called by Extract

var _ propagation.ValuesGetter = headerCarrier{}

// verified names the span after the verified event's type and describes
// the event, before the handler's function runs.
func (o *webhookObserver) verified(ctx context.Context, v webhook.Verification) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() || v.Event.Type == "" {
		return
	}
	span.SetName(webhookSpanNameOf(v.Event.Type))
	attrs := make([]attribute.KeyValue, 1, 4)
	attrs[0] = WebhookEventTypeKey.String(string(v.Event.Type))
	if v.Event.EventName != "" {
		attrs = append(attrs, EventKey.String(v.Event.EventName))
	}
	if v.Event.Channel != "" {
		attrs = append(attrs, ChannelKey.String(v.Event.Channel))
	}
	if v.Event.DeliveryUUID != "" {
		attrs = append(attrs, DeliveryIDKey.String(v.Event.DeliveryUUID))
	}
	span.SetAttributes(attrs...)
}

// webhookSpanNameOf is "sendivent webhook " and the type, without a new
// string for the documented types.
func webhookSpanNameOf(t webhook.EventType) string {
	if s, ok := webhookSpanNames[t]; ok {
		return s
	}
	return webhookSpanName + " " + string(t)
}

var webhookSpanNames = func() map[webhook.EventType]string {
	m := map[webhook.EventType]string{}
	for _, t := range []webhook.EventType{webhook.DeliverySent, webhook.DeliveryDelivered, webhook.DeliveryFailed,
		webhook.DeliveryBounced, webhook.DeliveryComplained} {
		m[t] = webhookSpanName + " " + string(t)
	}
	return m
}()

func (o *webhookObserver) deliveryEnd(ctx context.Context, e webhook.DeliveryEnd) {
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		attrs := make([]attribute.KeyValue, 1, 4)
		attrs[0] = WebhookOutcomeKey.String(e.Outcome)
		if e.StatusCode != 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(e.StatusCode))
		}
		if e.DedupeError != "" {
			attrs = append(attrs, WebhookDedupeErrorKey.String(e.DedupeError))
		}
		if e.ErrorType != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(e.ErrorType))
			span.SetStatus(codes.Error, e.ErrorType)
		}
		span.SetAttributes(attrs...)
	}
	span.End()

	set := o.metricSet(e.Outcome, e.Event.Type, e.ErrorType)
	o.deliveries.Add(ctx, 1, set)
	o.duration.Record(ctx, e.Duration.Seconds(), set)
}

// webhookSetKey is what a delivery's metric attributes depend on.
type webhookSetKey struct {
	outcome, errorType string
	eventType          webhook.EventType
}

// maxWebhookSets bounds the attribute sets an observer remembers: the
// outcomes and classes are few, the types the service's.
const maxWebhookSets = 256

// metricSet is a delivery's metric attributes, made once per combination.
func (o *webhookObserver) metricSet(outcome string, eventType webhook.EventType, errorType string) metric.MeasurementOption {
	k := webhookSetKey{outcome, errorType, eventType}
	o.mu.RLock()
	set, ok := o.sets[k]
	o.mu.RUnlock()
	if ok {
		return set
	}
	attrs := make([]attribute.KeyValue, 1, 3)
	attrs[0] = WebhookOutcomeKey.String(outcome)
	if eventType != "" {
		attrs = append(attrs, WebhookEventTypeKey.String(string(eventType)))
	}
	if errorType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorType))
	}
	set = metric.WithAttributes(attrs...)
	o.mu.Lock()
	if len(o.sets) < maxWebhookSets {
		o.sets[k] = set
	}
	o.mu.Unlock()
	return set
}
