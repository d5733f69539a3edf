package sendiventotel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventotel"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// telemetry is an OpenTelemetry SDK whose spans and metrics a test reads:
// an in-memory span exporter and a manual metric reader.
type telemetry struct {
	spans  *tracetest.InMemoryExporter
	reader *sdkmetric.ManualReader
	tp     *sdktrace.TracerProvider
	mp     *sdkmetric.MeterProvider
}

func newTelemetry(t *testing.T) *telemetry {
	t.Helper()
	tel := &telemetry{spans: tracetest.NewInMemoryExporter(), reader: sdkmetric.NewManualReader()}
	tel.tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(tel.spans))
	tel.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(tel.reader))
	t.Cleanup(func() {
		_ = tel.tp.Shutdown(context.Background())
		_ = tel.mp.Shutdown(context.Background())
	})
	return tel
}

func (tel *telemetry) option() sendivent.Option {
	return sendiventotel.Observe(sendiventotel.WithTracerProvider(tel.tp), sendiventotel.WithMeterProvider(tel.mp),
		sendiventotel.WithPropagators(propagation.TraceContext{}))
}

// metrics collects every metric, by name.
func (tel *telemetry) metrics(t *testing.T) map[string]metricdata.Metrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// attrs is a span's or a data point's attributes as a map, values as Go
// values (int64, string, float64, bool).
func attrs(kvs []attribute.KeyValue) map[string]any {
	m := map[string]any{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

func newFake(t *testing.T, opts ...sendiventtest.Option) *sendiventtest.Server {
	t.Helper()
	srv := sendiventtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

// hostPort is the fake's host and port, as server.address and server.port
// have them.
func hostPort(t *testing.T, srv *sendiventtest.Server) (string, int64) {
	t.Helper()
	hp := strings.TrimPrefix(srv.URL, "http://")
	i := strings.LastIndexByte(hp, ':')
	var port int64
	for _, c := range hp[i+1:] {
		port = port*10 + int64(c-'0')
	}
	return hp[:i], port
}

// A send answered 503, then 200: one INTERNAL span for the call, two
// CLIENT spans for its attempts, the second with resend_count 1, each
// attempt's trace context on its request.
func TestSendRetriedSpanTree(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t)
	srv := newFake(t)
	srv.Inject(sendiventtest.FailNext(1, 503))
	c := srv.Client(tel.option())
	res, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)

	spans := tel.spans.GetSpans()
	require.Len(t, spans, 3)
	first, second, op := spans[0], spans[1], spans[2]
	host, port := hostPort(t, srv)

	assert.Equal(t, "sendivent send", op.Name)
	assert.Equal(t, trace.SpanKindInternal, op.SpanKind)
	assert.False(t, op.Parent.IsValid(), "the call is the trace's root here")
	assert.Equal(t, map[string]any{
		"sendivent.operation":       "send",
		"sendivent.event":           "welcome",
		"sendivent.attempt_count":   int64(2),
		"sendivent.notification.id": res.ID,
	}, attrs(op.Attributes))
	assert.Equal(t, codes.Unset, op.Status.Code)
	assert.Equal(t, sendiventotel.ScopeName, op.InstrumentationScope.Name)

	for i, a := range []tracetest.SpanStub{first, second} {
		assert.Equal(t, "POST /v1/send/{event}", a.Name)
		assert.Equal(t, trace.SpanKindClient, a.SpanKind)
		assert.Equal(t, op.SpanContext.SpanID(), a.Parent.SpanID(), "attempt %d is a child of the call", i+1)
		assert.Equal(t, op.SpanContext.TraceID(), a.SpanContext.TraceID())
	}
	assert.Equal(t, map[string]any{
		"http.request.method":       "POST",
		"url.template":              "/v1/send/{event}",
		"url.full":                  srv.URL + "/v1/send/REDACTED",
		"server.address":            host,
		"server.port":               port,
		"sendivent.operation":       "send",
		"http.response.status_code": int64(503),
		"error.type":                "503",
		"sendivent.retry.reason":    "backoff",
		"sendivent.retry.wait":      attrs(first.Attributes)["sendivent.retry.wait"],
	}, attrs(first.Attributes))
	wait := attrs(first.Attributes)["sendivent.retry.wait"].(float64)
	assert.True(t, wait >= 0.375 && wait <= 0.5, "the backoff, in seconds: %v", wait)
	assert.Equal(t, codes.Error, first.Status.Code)
	assert.Empty(t, first.Status.Description, "the status code says why")
	assert.Equal(t, map[string]any{
		"http.request.method":       "POST",
		"url.template":              "/v1/send/{event}",
		"url.full":                  srv.URL + "/v1/send/REDACTED",
		"server.address":            host,
		"server.port":               port,
		"sendivent.operation":       "send",
		"http.request.resend_count": int64(1),
		"http.response.status_code": int64(200),
	}, attrs(second.Attributes))
	assert.Equal(t, codes.Unset, second.Status.Code)

	reqs := srv.Requests(sendiventtest.EndpointSend)
	require.Len(t, reqs, 2)
	for i, a := range []tracetest.SpanStub{first, second} {
		want := "00-" + a.SpanContext.TraceID().String() + "-" + a.SpanContext.SpanID().String() + "-01"
		assert.Equal(t, want, reqs[i].Header.Get("Traceparent"), "attempt %d carries its own trace context", i+1)
	}
}

// A call inside the application's own span is its child.
func TestOperationJoinsTheCallersTrace(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t)
	srv := newFake(t)
	c := srv.Client(tel.option())
	ctx, parent := tel.tp.Tracer("app").Start(context.Background(), "handle signup")
	_, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(ctx)
	require.NoError(t, err)
	parent.End()
	spans := tel.spans.GetSpans()
	require.Len(t, spans, 3)
	assert.Equal(t, "sendivent send", spans[1].Name)
	assert.Equal(t, parent.SpanContext().SpanID(), spans[1].Parent.SpanID())
}

// A contacts call: the identifier (an email) is nowhere, the template is.
func TestContactsCallSpans(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t)
	srv := newFake(t)
	c := srv.Client(tel.option())
	_, err := c.Contacts.Upsert(context.Background(), sendivent.Contact{Email: "ada@example.com", Name: "Ada"})
	require.NoError(t, err)
	_, err = c.Contacts.Get(context.Background(), "ada@example.com")
	require.NoError(t, err)
	_, err = c.Contacts.Get(context.Background(), "nobody@example.com")
	require.ErrorIs(t, err, sendivent.ErrNotFound)

	spans := tel.spans.GetSpans()
	require.Len(t, spans, 6)
	host, port := hostPort(t, srv)
	assert.Equal(t, "GET /v1/contacts/{identifier}", spans[2].Name)
	assert.Equal(t, map[string]any{
		"http.request.method":       "GET",
		"url.template":              "/v1/contacts/{identifier}",
		"url.full":                  srv.URL + "/v1/contacts/REDACTED",
		"server.address":            host,
		"server.port":               port,
		"sendivent.operation":       "contacts.get",
		"http.response.status_code": int64(200),
	}, attrs(spans[2].Attributes))
	assert.Equal(t, "sendivent contacts.get", spans[3].Name)
	assert.Equal(t, map[string]any{"sendivent.operation": "contacts.get", "sendivent.attempt_count": int64(1)},
		attrs(spans[3].Attributes))

	notFound, call := spans[4], spans[5]
	assert.Equal(t, int64(404), attrs(notFound.Attributes)["http.response.status_code"])
	assert.Equal(t, "404", attrs(notFound.Attributes)["error.type"])
	assert.Equal(t, "not_retryable", attrs(notFound.Attributes)["sendivent.retry.reason"])
	assert.Equal(t, codes.Error, notFound.Status.Code)
	assert.Equal(t, map[string]any{"sendivent.operation": "contacts.get", "sendivent.attempt_count": int64(1),
		"error.type": "404"}, attrs(call.Attributes))
	assert.Equal(t, sdktrace.Status{Code: codes.Error, Description: "404"}, call.Status)
}

// Wait: one span whose polls are its children and its events.
func TestWaitSpans(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t)
	srv := newFake(t, sendiventtest.WithManualLifecycle())
	c := srv.Client(tel.option())
	res, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)
	tel.spans.Reset()
	go func() {
		time.Sleep(10 * time.Millisecond)
		_ = srv.Deliver(res.ID)
	}()
	n, err := c.Wait(context.Background(), res.ID, sendivent.PollEvery(time.Second, time.Second))
	require.NoError(t, err)

	spans := tel.spans.GetSpans()
	wait := spans[len(spans)-1]
	assert.Equal(t, "sendivent wait", wait.Name)
	polls := 0
	for _, s := range spans[:len(spans)-1] {
		if s.Name == "sendivent get_notification" {
			polls++
			assert.Equal(t, wait.SpanContext.SpanID(), s.Parent.SpanID(), "each poll is a child of the wait")
		} else {
			assert.Equal(t, "GET /v1/notifications/{id}", s.Name)
		}
	}
	require.GreaterOrEqual(t, polls, 2)
	assert.Equal(t, map[string]any{
		"sendivent.operation":           "wait",
		"sendivent.poll_count":          int64(polls),
		"sendivent.notification.id":     res.ID,
		"sendivent.notification.status": string(n.Status),
	}, attrs(wait.Attributes))
	require.Len(t, wait.Events, polls)
	for i, ev := range wait.Events {
		assert.Equal(t, "sendivent.poll", ev.Name)
		assert.Equal(t, int64(i+1), attrs(ev.Attributes)["sendivent.poll.number"])
	}
	assert.Equal(t, string(n.Status), attrs(wait.Events[polls-1].Attributes)["sendivent.notification.status"])

	m := tel.metrics(t)
	hist := m["sendivent.client.wait.polls"].Data.(metricdata.Histogram[int64])
	require.Len(t, hist.DataPoints, 1)
	assert.Equal(t, int64(polls), hist.DataPoints[0].Sum)
	assert.Equal(t, map[string]any{"sendivent.operation": "wait"}, attrs(hist.DataPoints[0].Attributes.ToSlice()))
}

// The metrics of a send retried once, a contacts call that failed, and a
// rate-limited client.
func TestMetrics(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t)
	srv := newFake(t)
	srv.Inject(sendiventtest.FailNext(1, 503))
	c := srv.Client(tel.option(), sendivent.WithRateLimit(1000, 1))
	_, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)
	_, err = c.Contacts.Get(context.Background(), "nobody@example.com")
	require.Error(t, err)
	host, port := hostPort(t, srv)

	m := tel.metrics(t)
	req := m["http.client.request.duration"]
	assert.Equal(t, "s", req.Unit)
	reqs := req.Data.(metricdata.Histogram[float64])
	got := map[string]uint64{}
	for _, dp := range reqs.DataPoints {
		a := attrs(dp.Attributes.ToSlice())
		assert.Equal(t, host, a["server.address"])
		assert.Equal(t, port, a["server.port"])
		assert.Equal(t, []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}, dp.Bounds,
			"the conventions' advised buckets")
		got[fmt.Sprintf("%v %v %v %v", a["http.request.method"], a["url.template"], a["http.response.status_code"], a["error.type"])] = dp.Count
	}
	assert.Equal(t, map[string]uint64{
		"POST /v1/send/{event} 503 503":         1,
		"POST /v1/send/{event} 200 <nil>":       1,
		"GET /v1/contacts/{identifier} 404 404": 1,
	}, got)

	ops := m["sendivent.client.operation.duration"].Data.(metricdata.Histogram[float64])
	byOp := map[string]uint64{}
	for _, dp := range ops.DataPoints {
		a := attrs(dp.Attributes.ToSlice())
		byOp[fmt.Sprintf("%v %v", a["sendivent.operation"], a["error.type"])] = dp.Count
	}
	assert.Equal(t, map[string]uint64{"send <nil>": 1, "contacts.get 404": 1}, byOp)

	attempts := m["sendivent.client.operation.attempts"].Data.(metricdata.Histogram[int64])
	sums := map[string]int64{}
	for _, dp := range attempts.DataPoints {
		sums[attrs(dp.Attributes.ToSlice())["sendivent.operation"].(string)] = dp.Sum
	}
	assert.Equal(t, map[string]int64{"send": 2, "contacts.get": 1}, sums)

	limiter := m["sendivent.client.rate_limiter.wait_time"].Data.(metricdata.Histogram[float64])
	var waits uint64
	for _, dp := range limiter.DataPoints {
		waits += dp.Count
	}
	assert.Equal(t, uint64(3), waits, "one wait per attempt")
}
