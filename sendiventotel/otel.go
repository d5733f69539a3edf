package sendiventotel

import (
	"context"
	"strings"
	"sync"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/httpconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/sendivent/sendivent-go"
)

// ScopeName is the instrumentation scope of the spans and metrics.
const ScopeName = "github.com/sendivent/sendivent-go/sendiventotel"

// The attributes of the SDK's own, in the conventions' style.
const (
	OperationKey          = attribute.Key("sendivent.operation")
	EventKey              = attribute.Key("sendivent.event")
	ChannelKey            = attribute.Key("sendivent.channel")
	NotificationIDKey     = attribute.Key("sendivent.notification.id")
	NotificationStatusKey = attribute.Key("sendivent.notification.status")
	AttemptCountKey       = attribute.Key("sendivent.attempt_count")
	PollCountKey          = attribute.Key("sendivent.poll_count")
	BatchSizeKey          = attribute.Key("sendivent.batch.size")
	BatchFailedKey        = attribute.Key("sendivent.batch.failed_count")
	RetryReasonKey        = attribute.Key("sendivent.retry.reason")
	RetryWaitKey          = attribute.Key("sendivent.retry.wait")
	RateLimiterWaitKey    = attribute.Key("sendivent.rate_limiter.wait_time")
	RateLimiterRefusedKey = attribute.Key("sendivent.rate_limiter.refused")
	PollNumberKey         = attribute.Key("sendivent.poll.number")
)

// Option configures Observe, NewObserver, ObserveWebhooks and
// NewWebhookObserver.
type Option func(*config)

type config struct {
	tp   trace.TracerProvider
	mp   metric.MeterProvider
	prop propagation.TextMapPropagator
}

// newConfig applies opts to the defaults: the global providers and
// propagator.
func newConfig(opts []Option) config {
	cfg := config{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	if cfg.prop == nil {
		cfg.prop = otel.GetTextMapPropagator()
	}
	return cfg
}

// WithTracerProvider sets where spans go (default: otel.GetTracerProvider()).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tp = tp }
}

// WithMeterProvider sets where metrics go (default: otel.GetMeterProvider()).
func WithMeterProvider(mp metric.MeterProvider) Option {
	return func(c *config) { c.mp = mp }
}

// WithPropagators sets the propagator that puts each attempt's trace
// context on its request, and reads a webhook delivery's from its header
// (default: otel.GetTextMapPropagator(); set one there, such as
// propagation.TraceContext{}, or here).
func WithPropagators(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.prop = p }
}

// Observe returns the client option that sends the client's traces and
// metrics to OpenTelemetry.
func Observe(opts ...Option) sendivent.Option { return sendivent.WithObserver(NewObserver(opts...)) }

// NewObserver returns the hooks Observe installs, for a program that
// combines them with its own.
func NewObserver(opts ...Option) sendivent.Observer {
	cfg := newConfig(opts)
	o := &observer{
		routes: map[routeKey]*routeInfo{},
		ops:    map[string]metric.MeasurementOption{},
		tracer: cfg.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(sendivent.Version),
			trace.WithSchemaURL(semconv.SchemaURL)),
		prop: cfg.prop,
	}
	o.instruments(cfg.mp.Meter(ScopeName, metric.WithInstrumentationVersion(sendivent.Version),
		metric.WithSchemaURL(semconv.SchemaURL)))
	return sendivent.Observer{
		OperationStart:  o.operationStart,
		OperationEnd:    o.operationEnd,
		AttemptStart:    o.attemptStart,
		AttemptEnd:      o.attemptEnd,
		RateLimiterWait: o.rateLimiterWait,
		Poll:            o.poll,
	}
}

type observer struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator

	mu     sync.RWMutex
	routes map[routeKey]*routeInfo             // what every attempt of a route shares
	ops    map[string]metric.MeasurementOption // a successful operation's metric attributes, by name

	requestDuration   httpconv.ClientRequestDuration
	operationDuration metric.Float64Histogram
	operationAttempts metric.Int64Histogram
	limiterWait       metric.Float64Histogram
	polls             metric.Int64Histogram
}

// durationBuckets are the conventions' advised boundaries for durations
// in seconds, as http.client.request.duration has them.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

func (o *observer) instruments(m metric.Meter) {
	var err error
	report := func(e error) {
		if e != nil && err == nil {
			err = e
		}
	}
	var e error
	o.requestDuration, e = httpconv.NewClientRequestDuration(m)
	report(e)
	o.operationDuration, e = m.Float64Histogram("sendivent.client.operation.duration",
		metric.WithUnit("s"), metric.WithDescription("Duration of the SDK's calls, retries and waits included."),
		metric.WithExplicitBucketBoundaries(append(durationBuckets, 30, 60, 120)...))
	report(e)
	o.operationAttempts, e = m.Int64Histogram("sendivent.client.operation.attempts",
		metric.WithUnit("{attempt}"), metric.WithDescription("HTTP attempts of each SDK call."),
		metric.WithExplicitBucketBoundaries(1, 2, 3, 4, 5, 10))
	report(e)
	o.limiterWait, e = m.Float64Histogram("sendivent.client.rate_limiter.wait_time",
		metric.WithUnit("s"), metric.WithDescription("Time a request waited for the client's rate limiter."),
		metric.WithExplicitBucketBoundaries(append([]float64{0.001}, durationBuckets...)...))
	report(e)
	o.polls, e = m.Int64Histogram("sendivent.client.wait.polls",
		metric.WithUnit("{poll}"), metric.WithDescription("Polls of each Wait and Watch."),
		metric.WithExplicitBucketBoundaries(1, 2, 3, 5, 10, 20, 50, 100))
	report(e)
	if err != nil {
		otel.Handle(err) // a meter that refuses an instrument leaves it a no-op
	}
}

func (o *observer) operationStart(ctx context.Context, op sendivent.Operation) context.Context {
	attrs := make([]attribute.KeyValue, 1, 4)
	attrs[0] = OperationKey.String(op.Name)
	if op.Event != "" {
		attrs = append(attrs, EventKey.String(op.Event))
	}
	if op.Channel != "" {
		attrs = append(attrs, ChannelKey.String(string(op.Channel)))
	}
	if op.Name == "send_batch" {
		attrs = append(attrs, BatchSizeKey.Int(op.Items))
	}
	ctx, _ = o.tracer.Start(ctx, operationSpanName(op.Name),
		trace.WithSpanKind(trace.SpanKindInternal), trace.WithAttributes(attrs...))
	return ctx
}

// operationSpanName is "sendivent " and the operation, without a new
// string for the known ones.
func operationSpanName(name string) string {
	if s, ok := spanNames[name]; ok {
		return s
	}
	return "sendivent " + name
}

var spanNames = func() map[string]string {
	m := map[string]string{}
	for _, n := range []string{"send", "send_batch", "get_notification", "wait", "watch", "cancel",
		"contacts.upsert", "contacts.get", "contacts.update", "contacts.delete", "contacts.add_push_token",
		"contacts.remove_push_token", "contacts.list", "webhooks.create", "webhooks.get", "webhooks.update",
		"webhooks.delete", "events.list", "events.get", "deliveries.list", "deliveries.trace", "integrations.list"} {
		m[n] = "sendivent " + n
	}
	return m
}()

func (o *observer) operationEnd(ctx context.Context, op sendivent.Operation, e sendivent.OperationEnd) {
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 5)
		if op.Method != "" {
			attrs = append(attrs, AttemptCountKey.Int(e.Attempts))
		}
		if op.Name == "wait" || op.Name == "watch" {
			attrs = append(attrs, PollCountKey.Int(e.Polls))
		}
		if op.Name == "send_batch" {
			attrs = append(attrs, BatchFailedKey.Int(e.Failed))
		}
		if e.NotificationID != "" {
			attrs = append(attrs, NotificationIDKey.String(e.NotificationID))
		}
		if e.NotificationStatus != "" {
			attrs = append(attrs, NotificationStatusKey.String(string(e.NotificationStatus)))
		}
		if e.ErrorType != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(e.ErrorType))
			span.SetStatus(codes.Error, e.ErrorType)
		}
		span.SetAttributes(attrs...)
	}
	span.End()

	set := o.operationSet(op.Name, e.ErrorType)
	o.operationDuration.Record(ctx, e.Duration.Seconds(), set)
	if op.Method != "" {
		o.operationAttempts.Record(ctx, int64(e.Attempts), set)
	}
	if op.Name == "wait" || op.Name == "watch" {
		o.polls.Record(ctx, int64(e.Polls), set)
	}
}

// operationSet is an operation's metric attributes; a success's are made
// once per operation name.
func (o *observer) operationSet(name, errorType string) metric.MeasurementOption {
	if errorType != "" {
		return metric.WithAttributes(OperationKey.String(name), semconv.ErrorTypeKey.String(errorType))
	}
	o.mu.RLock()
	set, ok := o.ops[name]
	o.mu.RUnlock()
	if !ok {
		set = metric.WithAttributes(OperationKey.String(name))
		o.mu.Lock()
		o.ops[name] = set
		o.mu.Unlock()
	}
	return set
}

// routeKey is what an attempt's span and metric attributes depend on,
// besides its outcome.
type routeKey struct {
	name, method, route, base, address string
	port                               int
}

// routeInfo is what the attempts of one route share, made once.
type routeInfo struct {
	spanName string               // "{method} {url.template}"
	attrs    []attribute.KeyValue // the span's, at its start; never changed
	metric   []attribute.KeyValue // the metric's, before the outcome's
	mu       sync.Mutex
	byStatus map[int]metric.MeasurementOption // the metric's, for an attempt that succeeded with a status
}

func (o *observer) route(op *sendivent.Operation) *routeInfo {
	k := routeKey{op.Name, op.Method, op.Route, op.BaseURL, op.ServerAddress, op.ServerPort}
	o.mu.RLock()
	ri := o.routes[k]
	o.mu.RUnlock()
	if ri != nil {
		return ri
	}
	m := method(op.Method)
	ri = &routeInfo{
		spanName: m + " " + op.Route,
		attrs: []attribute.KeyValue{
			semconv.HTTPRequestMethodKey.String(m),
			semconv.URLTemplate(op.Route),
			semconv.URLFull(redactedURL(op.BaseURL, op.Route)),
			semconv.ServerAddress(op.ServerAddress),
			semconv.ServerPort(op.ServerPort),
			OperationKey.String(op.Name),
		},
		metric: []attribute.KeyValue{
			semconv.HTTPRequestMethodKey.String(m),
			semconv.URLTemplate(op.Route),
			semconv.ServerAddress(op.ServerAddress),
			semconv.ServerPort(op.ServerPort),
		},
		byStatus: map[int]metric.MeasurementOption{},
	}
	o.mu.Lock()
	if len(o.routes) < maxRoutes { // a client per tenant URL could grow it without end
		o.routes[k] = ri
	}
	o.mu.Unlock()
	return ri
}

// maxRoutes bounds the routes an observer remembers.
const maxRoutes = 1024

// metricSet is the metric attributes of an attempt that ended with status
// and errorType.
func (ri *routeInfo) metricSet(status int, errorType string) metric.MeasurementOption {
	if errorType == "" && status != 0 {
		ri.mu.Lock()
		defer ri.mu.Unlock()
		set, ok := ri.byStatus[status]
		if !ok {
			set = metric.WithAttributes(append(ri.metric[:len(ri.metric):len(ri.metric)], semconv.HTTPResponseStatusCode(status))...)
			ri.byStatus[status] = set
		}
		return set
	}
	attrs := append(make([]attribute.KeyValue, 0, len(ri.metric)+2), ri.metric...)
	if status != 0 {
		attrs = append(attrs, semconv.HTTPResponseStatusCode(status))
	}
	if errorType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errorType))
	}
	return metric.WithAttributes(attrs...)
}

func (o *observer) attemptStart(ctx context.Context, op sendivent.Operation, a sendivent.AttemptStart) context.Context {
	ri := o.route(&op)
	attrs := ri.attrs
	if a.Attempt > 1 {
		attrs = append(attrs[:len(attrs):len(attrs)], semconv.HTTPRequestResendCount(a.Attempt-1))
	}
	ctx, _ = o.tracer.Start(ctx, ri.spanName, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	o.prop.Inject(ctx, propagation.HeaderCarrier(a.Header))
	return ctx
}

// method is m as http.request.method has it: a known method, or _OTHER.
func method(m string) string {
	switch m {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE":
		return m
	}
	return "_OTHER"
}

// redactedURL is base and route, with REDACTED for each of the route's
// {placeholders}: the identifiers the path held ("/v1/contacts/REDACTED").
func redactedURL(base, route string) string {
	var b strings.Builder
	b.Grow(len(base) + len(route))
	b.WriteString(base)
	for route != "" {
		i := strings.IndexByte(route, '{')
		if i < 0 {
			b.WriteString(route)
			break
		}
		b.WriteString(route[:i])
		j := strings.IndexByte(route[i:], '}')
		if j < 0 {
			b.WriteString("REDACTED")
			break
		}
		b.WriteString("REDACTED")
		route = route[i+j+1:]
	}
	return b.String()
}

func (o *observer) attemptEnd(ctx context.Context, op sendivent.Operation, a sendivent.AttemptEnd) {
	span := trace.SpanFromContext(ctx)
	if span.IsRecording() {
		attrs := make([]attribute.KeyValue, 0, 4)
		if a.StatusCode != 0 {
			attrs = append(attrs, semconv.HTTPResponseStatusCode(a.StatusCode))
		}
		if a.ErrorType != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(a.ErrorType))
			desc := a.ErrorType
			if a.StatusCode >= 400 {
				desc = "" // the status code says it
			}
			span.SetStatus(codes.Error, desc)
		}
		if a.Reason != "" {
			attrs = append(attrs, RetryReasonKey.String(a.Reason))
		}
		if a.Retry {
			attrs = append(attrs, RetryWaitKey.Float64(a.Wait.Seconds()))
		}
		span.SetAttributes(attrs...)
	}
	span.End()

	o.requestDuration.Inst().Record(ctx, a.Duration.Seconds(), o.route(&op).metricSet(a.StatusCode, a.ErrorType))
}

// heldLong is the shortest rate-limiter wait that is an event on the
// operation's span: shorter ones held nothing worth seeing in a trace, and
// the metric counts them all.
const heldLong = 1e-3 // seconds

func (o *observer) rateLimiterWait(ctx context.Context, op sendivent.Operation, w sendivent.RateLimiterWait) {
	secs := w.Duration.Seconds()
	if span := trace.SpanFromContext(ctx); span.IsRecording() && (secs >= heldLong || w.Refused) {
		span.AddEvent("sendivent.rate_limiter.wait", trace.WithAttributes(
			RateLimiterWaitKey.Float64(secs), RateLimiterRefusedKey.Bool(w.Refused)))
	}
	o.limiterWait.Record(ctx, secs, o.operationSet(op.Name, ""))
}

func (o *observer) poll(ctx context.Context, _ sendivent.Operation, p sendivent.Poll) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 1, 2)
	attrs[0] = PollNumberKey.Int(p.Poll)
	if p.Status != "" {
		attrs = append(attrs, NotificationStatusKey.String(string(p.Status)))
	}
	if p.ErrorType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(p.ErrorType))
	}
	span.AddEvent("sendivent.poll", trace.WithAttributes(attrs...))
}
