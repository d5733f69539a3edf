package sendivent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go"
)

// The seed's answer to an accepted send.
const seedAccepted = `{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`

func sendHandler(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{"83"}
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, seedAccepted)
}

func newBenchServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	if len(seedAccepted) != 83 {
		tb.Fatalf("seed body is %d bytes; fix Content-Length", len(seedAccepted))
	}
	srv := httptest.NewServer(http.HandlerFunc(sendHandler))
	tb.Cleanup(srv.Close)
	return srv
}

func benchPayload() sendivent.Payload {
	return sendivent.Payload{"company": "ACME", "name": "Alice", "plan": "pro"}
}

func newBenchSDK(tb testing.TB, url string) *sendivent.Client {
	tb.Helper()
	c, err := sendivent.NewClient("test_bench_key", sendivent.WithBaseURL(url))
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

func sdkSend(tb testing.TB, c *sendivent.Client, p sendivent.Payload) {
	res, err := c.Send(context.Background(), "welcome", sendivent.SendRequest{
		To:      []sendivent.Recipient{sendivent.Address("alice@example.com")},
		Payload: p,
	})
	if err != nil || res.ID == "" {
		tb.Fatalf("send: %v", err)
	}
}

// floor is the least a Go program does to make the same call: encode a
// struct, one request, decode, drain, close.
type floor struct {
	hc  *http.Client
	url string
}

type floorBody struct {
	To      string         `json:"to"`
	Payload map[string]any `json:"payload"`
}

type floorResp struct {
	ID     string `json:"id"`
	Event  string `json:"event"`
	Status string `json:"status"`
}

func newFloor(url string) *floor {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 128
	return &floor{hc: &http.Client{Transport: t}, url: url + "/v1/send/welcome"}
}

// newBoundedFloor is the floor with the least a production caller adds:
// a bound on each request (http.Client.Timeout), as the SDK's WithTimeout.
func newBoundedFloor(url string) *floor {
	f := newFloor(url)
	f.hc.Timeout = 30 * time.Second
	return f
}

func (f *floor) send(tb testing.TB, p map[string]any) {
	b, err := json.Marshal(floorBody{To: "alice@example.com", Payload: p})
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
	var out floorResp
	err = json.NewDecoder(resp.Body).Decode(&out)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || out.ID == "" {
		tb.Fatalf("floor: %v", err)
	}
}

// BenchmarkSendVsFloor alternates blocks of SDK sends and floor requests
// on one keep-alive server, so both see the same machine state, and
// reports their costs and ratios. client-ratio takes out the server's own
// cost, measured by a handler-only loop in the same run.
func BenchmarkSendVsFloor(b *testing.B) {
	srv := newBenchServer(b)
	sdk, fl, bounded := newBenchSDK(b, srv.URL), newFloor(srv.URL), newBoundedFloor(srv.URL)
	p := benchPayload()
	sdkSend(b, sdk, p) // open the connections outside the timing
	fl.send(b, p)
	bounded.send(b, p)

	const block = 256
	var sdkTime, floorTime, boundedTime time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(block, b.N-done)
		t0 := time.Now()
		for i := 0; i < n; i++ {
			sdkSend(b, sdk, p)
		}
		t1 := time.Now()
		for i := 0; i < n; i++ {
			fl.send(b, p)
		}
		t2 := time.Now()
		for i := 0; i < n; i++ {
			bounded.send(b, p)
		}
		t3 := time.Now()
		sdkTime += t1.Sub(t0)
		floorTime += t2.Sub(t1)
		boundedTime += t3.Sub(t2)
		done += n
	}
	b.StopTimer()
	server := handlerCost(b)
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	sdkNs, floorNs, boundedNs := per(sdkTime), per(floorTime), per(boundedTime)
	b.ReportMetric(sdkNs, "sdk-ns/op")
	b.ReportMetric(floorNs, "floor-ns/op")
	b.ReportMetric(sdkNs/floorNs, "ratio")
	b.ReportMetric((sdkNs-server)/(floorNs-server), "client-ratio")
	b.ReportMetric(sdkNs/boundedNs, "ratio-vs-bounded-floor")
	b.ReportMetric((sdkNs-server)/(boundedNs-server), "client-ratio-vs-bounded")
	b.ReportMetric(server, "server-ns/op")
}

// handlerCost is the server handler's own cost per request, in ns.
func handlerCost(b *testing.B) float64 {
	body := []byte(`{"to":"alice@example.com","payload":{"company":"ACME","name":"Alice","plan":"pro"}}`)
	const n = 20000
	w := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/v1/send/welcome", nil)
	rd := bytes.NewReader(body)
	start := time.Now()
	for i := 0; i < n; i++ {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		w.Body.Reset()
		clear(w.Header())
		w.Code, w.Flushed = 200, false
		sendHandler(w, req)
	}
	return float64(time.Since(start).Nanoseconds()) / n
}

// BenchmarkSend is one SDK send per iteration; compare its allocs/op with
// BenchmarkFloor's (the server's share is the same in both).
func BenchmarkSend(b *testing.B) {
	srv := newBenchServer(b)
	sdk := newBenchSDK(b, srv.URL)
	p := benchPayload()
	sdkSend(b, sdk, p)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sdkSend(b, sdk, p)
	}
}

// BenchmarkFloor is one plain net/http + encoding/json request per iteration.
func BenchmarkFloor(b *testing.B) { benchFloor(b, newFloor) }

// BenchmarkBoundedFloor is BenchmarkFloor with http.Client.Timeout set, the
// bound every peer with a timeout uses; the SDK bounds each attempt too.
func BenchmarkBoundedFloor(b *testing.B) { benchFloor(b, newBoundedFloor) }

func benchFloor(b *testing.B, newF func(url string) *floor) {
	srv := newBenchServer(b)
	fl := newF(srv.URL)
	p := benchPayload()
	fl.send(b, p)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fl.send(b, p)
	}
}

// BenchmarkSendVsFloorParallel runs SDK sends and floor requests from
// every P (use -cpu 2) in alternating blocks: the goroutines share one count
// of calls, and calls 0-255 are SDK sends, 256-511 floor requests, and so
// on, so at almost every moment all goroutines do the same kind of call and
// both kinds see the same machine state. It reports each kind's mean
// latency and their ratio.
func BenchmarkSendVsFloorParallel(b *testing.B) {
	srv := newBenchServer(b)
	sdk, fl := newBenchSDK(b, srv.URL), newFloor(srv.URL)
	p := benchPayload()
	sdkSend(b, sdk, p)
	fl.send(b, p)
	const block = 256
	var next, sdkNs, floorNs, sdkN, floorN atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var sNs, fNs, sN, fN int64
		for pb.Next() {
			i := next.Add(1) - 1
			t0 := time.Now()
			if (i/block)%2 == 0 {
				sdkSend(b, sdk, p)
				sNs += int64(time.Since(t0))
				sN++
			} else {
				fl.send(b, p)
				fNs += int64(time.Since(t0))
				fN++
			}
		}
		sdkNs.Add(sNs)
		floorNs.Add(fNs)
		sdkN.Add(sN)
		floorN.Add(fN)
	})
	b.StopTimer()
	if sdkN.Load() == 0 || floorN.Load() == 0 {
		return
	}
	sdkPer := float64(sdkNs.Load()) / float64(sdkN.Load())
	floorPer := float64(floorNs.Load()) / float64(floorN.Load())
	b.ReportMetric(sdkPer, "sdk-ns/op")
	b.ReportMetric(floorPer, "floor-ns/op")
	b.ReportMetric(sdkPer/floorPer, "ratio")
}
