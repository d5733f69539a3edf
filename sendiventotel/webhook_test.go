package sendiventotel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/sendivent/sendivent-go/sendiventotel"
	"github.com/sendivent/sendivent-go/webhook"
)

const hookSecret = "whsec_otelTestSecret0123456789"

func (tel *telemetry) webhookOption() webhook.Option {
	return sendiventotel.ObserveWebhooks(sendiventotel.WithTracerProvider(tel.tp), sendiventotel.WithMeterProvider(tel.mp),
		sendiventotel.WithPropagators(propagation.TraceContext{}))
}

// delivery is a body of the event typ for delivery uuid, by email.
func delivery(typ webhook.EventType, uuid string) []byte {
	return []byte(`{"event":"` + string(typ) + `","delivery":{"uuid":"` + uuid +
		`","channel":"email","status":"x","event_name":"welcome"}}`)
}

// postHook serves body to h, signed with secret, with the header hdr
// adds, under ctx; it returns the status answered.
func postHook(t *testing.T, ctx context.Context, h http.Handler, body []byte, secret string, hdr http.Header) int {
	t.Helper()
	r, err := webhook.NewRequest(ctx, "http://receiver.example/webhooks", body, secret, time.Now())
	require.NoError(t, err)
	for k, v := range hdr {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

// fnSpans is a handler function that starts a span of its own, under the
// context it is given, and fails with err.
type fnSpans struct {
	tp    trace.TracerProvider
	err   error
	calls atomic.Int32
}

func (f *fnSpans) fn(ctx context.Context, ev *webhook.Event) error {
	f.calls.Add(1)
	_, span := f.tp.Tracer("app").Start(ctx, "app handles "+string(ev.Type))
	span.End()
	return f.err
}

// Each way a delivery ends, as its span shows it.
func TestWebhookSpans(t *testing.T) {
	t.Parallel()
	bounced := delivery(webhook.DeliveryBounced, "d-1")
	handled := map[string]any{
		"sendivent.webhook.event_type": "delivery.bounced",
		"sendivent.event":              "welcome",
		"sendivent.channel":            "email",
		"sendivent.delivery.id":        "d-1",
		"sendivent.webhook.outcome":    "handled",
		"http.response.status_code":    int64(204),
	}
	with := func(m map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i].(string)] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name   string
		secret string // signs the last delivery
		posts  int    // deliveries of the body; the last one's span is checked
		fnErr  error
		code   int
		span   string
		attrs  map[string]any
		status sdktrace.Status
		calls  int32
	}{
		{"verified and handled", hookSecret, 1, nil, 204, "sendivent webhook delivery.bounced", handled,
			sdktrace.Status{}, 1},
		{"refused: another secret", "whsec_forger", 1, nil, 400, "sendivent webhook", map[string]any{
			"sendivent.webhook.outcome": "refused", "http.response.status_code": int64(400), "error.type": "no_valid_signature",
		}, sdktrace.Status{Code: codes.Error, Description: "no_valid_signature"}, 0},
		{"duplicate", hookSecret, 2, nil, 200, "sendivent webhook delivery.bounced",
			with(handled, "sendivent.webhook.outcome", "duplicate", "http.response.status_code", int64(200)),
			sdktrace.Status{}, 1},
		{"callback error", hookSecret, 1, errors.New("database down"), 500, "sendivent webhook delivery.bounced",
			with(handled, "sendivent.webhook.outcome", "failed", "http.response.status_code", int64(500), "error.type", "callback_error"),
			sdktrace.Status{Code: codes.Error, Description: "callback_error"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tel := newTelemetry(t)
			f := &fnSpans{tp: tel.tp, err: tt.fnErr}
			h := webhook.Handler(hookSecret, f.fn, tel.webhookOption())
			for range tt.posts - 1 {
				postHook(t, context.Background(), h, bounced, hookSecret, nil)
			}
			tel.spans.Reset()
			assert.Equal(t, tt.code, postHook(t, context.Background(), h, bounced, tt.secret, nil))

			spans := tel.spans.GetSpans()
			d := spans[len(spans)-1]
			assert.Equal(t, tt.span, d.Name)
			assert.Equal(t, trace.SpanKindInternal, d.SpanKind)
			assert.False(t, d.Parent.IsValid(), "a delivery with no trace context is a trace's root")
			assert.Equal(t, tt.attrs, attrs(d.Attributes))
			assert.Equal(t, tt.status, d.Status)
			assert.Equal(t, sendiventotel.ScopeName, d.InstrumentationScope.Name)
			assert.Equal(t, tt.calls, f.calls.Load())
			if tt.calls > 0 && tt.posts == 1 {
				require.Len(t, spans, 2)
				assert.Equal(t, "app handles delivery.bounced", spans[0].Name)
				assert.Equal(t, d.SpanContext.SpanID(), spans[0].Parent.SpanID(), "the function runs under the delivery's span")
				assert.Equal(t, d.SpanContext.TraceID(), spans[0].SpanContext.TraceID())
			} else {
				assert.Len(t, spans, 1, "the function did not run")
			}
		})
	}
}

// The delivery's parent: the trace context in the request's header when
// nothing else made a span, otelhttp's SERVER span when it did (and then
// the header is otelhttp's to read).
func TestWebhookTraceContext(t *testing.T) {
	t.Parallel()
	const (
		remoteTrace = "0af7651916cd43dd8448eb211c80319c"
		remoteSpan  = "b7ad6b7169203331"
	)
	traceparent := http.Header{"Traceparent": {"00-" + remoteTrace + "-" + remoteSpan + "-01"}}
	body := delivery(webhook.DeliverySent, "d-2")

	t.Run("from the header", func(t *testing.T) {
		t.Parallel()
		tel := newTelemetry(t)
		h := webhook.Handler(hookSecret, func(context.Context, *webhook.Event) error { return nil }, tel.webhookOption())
		require.Equal(t, 204, postHook(t, context.Background(), h, body, hookSecret, traceparent))
		spans := tel.spans.GetSpans()
		require.Len(t, spans, 1)
		assert.Equal(t, remoteTrace, spans[0].SpanContext.TraceID().String())
		assert.Equal(t, remoteSpan, spans[0].Parent.SpanID().String())
		assert.True(t, spans[0].Parent.IsRemote())
	})
	t.Run("under the request's span", func(t *testing.T) {
		t.Parallel()
		tel := newTelemetry(t)
		h := webhook.Handler(hookSecret, func(context.Context, *webhook.Event) error { return nil }, tel.webhookOption())
		ctx, parent := tel.tp.Tracer("server").Start(context.Background(), "POST /webhooks")
		require.Equal(t, 204, postHook(t, ctx, h, body, hookSecret, traceparent))
		parent.End()
		spans := tel.spans.GetSpans()
		require.Len(t, spans, 2)
		assert.Equal(t, parent.SpanContext().SpanID(), spans[0].Parent.SpanID(), "the header is not read again")
	})
	t.Run("under otelhttp", func(t *testing.T) {
		t.Parallel()
		tel := newTelemetry(t)
		h := otelhttp.NewHandler(webhook.Handler(hookSecret, func(context.Context, *webhook.Event) error { return nil },
			tel.webhookOption()), "webhooks", otelhttp.WithTracerProvider(tel.tp), otelhttp.WithMeterProvider(tel.mp),
			otelhttp.WithPropagators(propagation.TraceContext{}))
		require.Equal(t, 204, postHook(t, context.Background(), h, body, hookSecret, traceparent))
		spans := tel.spans.GetSpans()
		require.Len(t, spans, 2)
		d, server := spans[0], spans[1]
		assert.Equal(t, trace.SpanKindServer, server.SpanKind)
		assert.Equal(t, remoteSpan, server.Parent.SpanID().String())
		assert.Equal(t, server.SpanContext.SpanID(), d.Parent.SpanID(), "the delivery is a child of otelhttp's span")
		assert.Equal(t, remoteTrace, d.SpanContext.TraceID().String())
	})
}

// The metrics of a handled delivery, its duplicate, a forgery, a stale
// signature and a failed function.
func TestWebhookMetrics(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t)
	var fail atomic.Bool
	h := webhook.Handler(hookSecret, func(context.Context, *webhook.Event) error {
		if fail.Load() {
			return errors.New("down")
		}
		return nil
	}, tel.webhookOption())
	sent := delivery(webhook.DeliverySent, "d-3")
	postHook(t, context.Background(), h, sent, hookSecret, nil)
	postHook(t, context.Background(), h, sent, hookSecret, nil)
	postHook(t, context.Background(), h, sent, "whsec_forger", nil)
	r, err := webhook.NewRequest(context.Background(), "http://receiver.example/", sent, hookSecret, time.Now().Add(-time.Hour))
	require.NoError(t, err)
	h.ServeHTTP(httptest.NewRecorder(), r)
	fail.Store(true)
	postHook(t, context.Background(), h, delivery(webhook.DeliveryDelivered, "d-3"), hookSecret, nil)

	m := tel.metrics(t)
	count := m["sendivent.webhook.deliveries"]
	assert.Equal(t, "{delivery}", count.Unit)
	sum := count.Data.(metricdata.Sum[int64])
	assert.True(t, sum.IsMonotonic)
	got := map[string]int64{}
	for _, dp := range sum.DataPoints {
		a := attrs(dp.Attributes.ToSlice())
		got[fmt.Sprintf("%v %v %v", a["sendivent.webhook.outcome"], a["sendivent.webhook.event_type"], a["error.type"])] += dp.Value
	}
	want := map[string]int64{
		"handled delivery.sent <nil>":              1,
		"duplicate delivery.sent <nil>":            1,
		"refused <nil> no_valid_signature":         1,
		"refused <nil> timestamp_out_of_range":     1,
		"failed delivery.delivered callback_error": 1,
	}
	assert.Equal(t, want, got)

	dur := m["sendivent.webhook.delivery.duration"]
	assert.Equal(t, "s", dur.Unit)
	hist := dur.Data.(metricdata.Histogram[float64])
	counts := map[string]int64{}
	for _, dp := range hist.DataPoints {
		a := attrs(dp.Attributes.ToSlice())
		counts[fmt.Sprintf("%v %v %v", a["sendivent.webhook.outcome"], a["sendivent.webhook.event_type"], a["error.type"])] += int64(dp.Count)
		assert.Equal(t, []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}, dp.Bounds)
		assert.Greater(t, dp.Sum, 0.0)
	}
	assert.Equal(t, want, counts, "the histogram's attributes are the counter's")
}

// NewWebhookObserver's hooks, combined with a program's own: the
// program's DeliveryEnd sees the delivery's span.
func TestNewWebhookObserverCombined(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t)
	o := sendiventotel.NewWebhookObserver(sendiventotel.WithTracerProvider(tel.tp), sendiventotel.WithMeterProvider(tel.mp))
	var seen trace.SpanContext
	end := o.DeliveryEnd
	o.DeliveryEnd = func(ctx context.Context, e webhook.DeliveryEnd) {
		seen = trace.SpanContextFromContext(ctx)
		end(ctx, e)
	}
	h := webhook.Handler(hookSecret, func(context.Context, *webhook.Event) error { return nil }, webhook.WithObserver(o))
	require.Equal(t, 204, postHook(t, context.Background(), h, delivery(webhook.DeliverySent, "d-4"), hookSecret, nil))
	spans := tel.spans.GetSpans()
	require.Len(t, spans, 1)
	assert.Equal(t, spans[0].SpanContext.SpanID(), seen.SpanID())
}
