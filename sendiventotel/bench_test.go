package sendiventotel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventotel"
	"github.com/sendivent/sendivent-go/webhook"
)

// The cost of tracing a send, as the root package's BenchmarkSendVsFloor
// measures the SDK's: blocks of calls of each kind alternate on one
// keep-alive server, and each kind's cost, less the server's own, is a
// ratio against the bounded floor (plain net/http and encoding/json with
// http.Client.Timeout). The kinds: the SDK without an observer; with
// sendiventotel on an SDK tracer provider and meter provider that export
// nothing; and the same send with its transport wrapped in otelhttp on the
// same providers instead, which is what a user would do without
// sendiventotel.

const benchAccepted = `{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`

func benchHandler(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{"83"}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, benchAccepted)
}

func benchTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return t
}

func benchClient(tb testing.TB, url string, opts ...sendivent.Option) *sendivent.Client {
	tb.Helper()
	c, err := sendivent.NewClient("test_bench_key", append([]sendivent.Option{sendivent.WithBaseURL(url)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func benchSend(tb testing.TB, c *sendivent.Client) {
	res, err := c.Send(context.Background(), "welcome", sendivent.SendRequest{
		To:      []sendivent.Recipient{sendivent.Address("alice@example.com")},
		Payload: sendivent.Payload{"company": "ACME", "name": "Alice", "plan": "pro"},
	})
	if err != nil || res.ID == "" {
		tb.Fatalf("send: %v", err)
	}
}

type boundedFloor struct {
	hc  *http.Client
	url string
}

func (f *boundedFloor) send(tb testing.TB) {
	b, err := json.Marshal(struct {
		To      string         `json:"to"`
		Payload map[string]any `json:"payload"`
	}{"alice@example.com", map[string]any{"company": "ACME", "name": "Alice", "plan": "pro"}})
	if err != nil {
		tb.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), "POST", f.url, bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer test_bench_key")
	resp, err := f.hc.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	var out struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&out)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || out.ID == "" {
		tb.Fatalf("floor: %v", err)
	}
}

// BenchmarkTracingCost reports, against the bounded floor and with the
// server's cost taken out of both: plain-ratio (no observer), otel-ratio
// (sendiventotel) and otelhttp-ratio (otelhttp around the transport).
//
//	go -C sendiventotel test -run '^$' -bench 'TracingCost$' -benchmem -count 6 -cpu 1 .
func BenchmarkTracingCost(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(benchHandler))
	b.Cleanup(srv.Close)
	tp := sdktrace.NewTracerProvider() // samples every span, exports none
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	prop := propagation.TraceContext{}

	plain := benchClient(b, srv.URL)
	traced := benchClient(b, srv.URL, sendiventotel.Observe(sendiventotel.WithTracerProvider(tp),
		sendiventotel.WithMeterProvider(mp), sendiventotel.WithPropagators(prop)))
	wrapped := benchClient(b, srv.URL, sendivent.WithHTTPClient(&http.Client{Transport: otelhttp.NewTransport(benchTransport(),
		otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp), otelhttp.WithPropagators(prop))}))
	floorT := benchTransport()
	floor := &boundedFloor{hc: &http.Client{Transport: floorT, Timeout: 30 * time.Second}, url: srv.URL + "/v1/send/welcome"}

	kinds := []func(testing.TB){
		func(tb testing.TB) { benchSend(tb, plain) },
		func(tb testing.TB) { benchSend(tb, traced) },
		func(tb testing.TB) { benchSend(tb, wrapped) },
		floor.send,
	}
	for _, k := range kinds {
		k(b) // open the connections outside the timing
	}
	const block = 256
	spent := make([]time.Duration, len(kinds))
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(block, b.N-done)
		for k, kind := range kinds {
			t0 := time.Now()
			for i := 0; i < n; i++ {
				kind(b)
			}
			spent[k] += time.Since(t0)
		}
		done += n
	}
	b.StopTimer()
	server := serverCost()
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds())/float64(b.N) - server }
	fl := per(spent[3])
	b.ReportMetric(per(spent[0])/fl, "plain-ratio")
	b.ReportMetric(per(spent[1])/fl, "otel-ratio")
	b.ReportMetric(per(spent[2])/fl, "otelhttp-ratio")
	b.ReportMetric(per(spent[1])/per(spent[2]), "otel-vs-otelhttp")
}

// serverCost is the handler's own cost per request, in ns: the median of
// a few loops of it.
func serverCost() float64 {
	body := []byte(`{"to":"alice@example.com","payload":{"company":"ACME","name":"Alice","plan":"pro"}}`)
	req := httptest.NewRequest("POST", "/v1/send/welcome", nil)
	rd := bytes.NewReader(body)
	var runs []float64
	for range 5 {
		const n = 4000
		w := httptest.NewRecorder()
		start := time.Now()
		for i := 0; i < n; i++ {
			rd.Reset(body)
			req.Body = io.NopCloser(rd)
			w.Body.Reset()
			clear(w.Header())
			w.Code, w.Flushed = 200, false
			benchHandler(w, req)
		}
		runs = append(runs, float64(time.Since(start).Nanoseconds())/n)
	}
	sort.Float64s(runs)
	return runs[len(runs)/2]
}

// Each kind the benchmark times does what it claims: the traced client
// makes its spans, the wrapped one otelhttp's.
func TestTracingCostKinds(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(benchHandler))
	t.Cleanup(srv.Close)
	tel := newTelemetry(t)
	benchSend(t, benchClient(t, srv.URL, tel.option()))
	if n := len(tel.spans.GetSpans()); n != 2 {
		t.Fatalf("sendiventotel made %d spans, want 2", n)
	}
	tel.spans.Reset()
	benchSend(t, benchClient(t, srv.URL, sendivent.WithHTTPClient(&http.Client{Transport: otelhttp.NewTransport(benchTransport(),
		otelhttp.WithTracerProvider(tel.tp))})))
	spans := tel.spans.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("otelhttp made %d spans, want 1", len(spans))
	}
	t.Logf("otelhttp's span: %s %v", spans[0].Name, spans[0].Attributes)
}

// BenchmarkSend is one send per iteration of each kind, for their
// allocations (-benchmem); BenchmarkTracingCost compares their time.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(benchHandler))
	b.Cleanup(srv.Close)
	tp := sdktrace.NewTracerProvider()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	prop := propagation.TraceContext{}
	for _, k := range []struct {
		name string
		opts []sendivent.Option
	}{
		{"plain", nil},
		{"sendiventotel", []sendivent.Option{sendiventotel.Observe(sendiventotel.WithTracerProvider(tp),
			sendiventotel.WithMeterProvider(mp), sendiventotel.WithPropagators(prop))}},
		{"otelhttp", []sendivent.Option{sendivent.WithHTTPClient(&http.Client{Transport: otelhttp.NewTransport(benchTransport(),
			otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp), otelhttp.WithPropagators(prop))})}},
	} {
		b.Run(k.name, func(b *testing.B) {
			c := benchClient(b, srv.URL, k.opts...)
			benchSend(b, c)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				benchSend(b, c)
			}
		})
	}
}

// BenchmarkWebhookObserverCost reports the cost of ObserveWebhooks on an
// SDK tracer and meter provider that export nothing, as the ratio of an
// observed handler's time to the same handler's without an observer, in
// alternating blocks of 32 deliveries, each a new event:
//
//	go -C sendiventotel test -run '^$' -bench 'WebhookObserverCost$' -benchmem -count 6 -cpu 1 .
func BenchmarkWebhookObserverCost(b *testing.B) {
	tp := sdktrace.NewTracerProvider()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() { _ = tp.Shutdown(context.Background()); _ = mp.Shutdown(context.Background()) })
	observe := sendiventotel.ObserveWebhooks(sendiventotel.WithTracerProvider(tp), sendiventotel.WithMeterProvider(mp),
		sendiventotel.WithPropagators(propagation.TraceContext{}))
	fn := func(context.Context, *webhook.Event) error { return nil }
	const events, block = 4096, 32
	bodies := make([][]byte, events)
	sigs := make([]string, events)
	for i := range bodies {
		bodies[i] = delivery(webhook.DeliveryDelivered, fmt.Sprintf("d-%08d", i))
		sigs[i] = webhook.Sign(bodies[i], hookSecret, time.Now())
	}
	requests := func(first, n int) ([]*http.Request, []*httptest.ResponseRecorder) {
		rs, ws := make([]*http.Request, n), make([]*httptest.ResponseRecorder, n)
		for i := range n {
			k := (first + i) % events
			rs[i] = httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(bodies[k]))
			rs[i].Header.Set(webhook.SignatureHeader, sigs[k])
			ws[i] = httptest.NewRecorder()
		}
		return rs, ws
	}
	var plain, traced http.Handler
	var spent [2]time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(block, b.N-done)
		if done%events == 0 { // new dedupers before the bodies come round again
			plain, traced = webhook.Handler(hookSecret, fn), webhook.Handler(hookSecret, fn, observe)
		}
		for k, h := range []http.Handler{plain, traced} {
			rs, ws := requests(done, n) // outside the timing
			t0 := time.Now()
			for i := range n {
				h.ServeHTTP(ws[i], rs[i])
			}
			spent[k] += time.Since(t0)
			for i := range n {
				if ws[i].Code != http.StatusNoContent {
					b.Fatalf("answered %d", ws[i].Code)
				}
			}
		}
		done += n
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(per(spent[0]), "plain-ns/op")
	b.ReportMetric(per(spent[1]), "otel-ns/op")
	b.ReportMetric(per(spent[1])/per(spent[0]), "otel-ratio")
}
