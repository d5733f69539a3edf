package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go/webhook"
)

// The receiver's cost, paired with a floor measured in the same run: the
// least any receiver must do, an HMAC-SHA256 over "<t>.<body>", a hex
// compare, and one json.Unmarshal of the body into a plain struct. Each
// side runs a block in turn, as the root package's BenchmarkSendVsFloor
// does, so both see the same machine; a block lasts a few hundred
// microseconds (32 deliveries of 432 bytes, one of 64 KiB), so that other
// processes on a busy machine fall on both sides alike:
//
//	go test -run '^$' -bench 'VsFloor' -count 6 -cpu 1 ./webhook/
//
// ratio is the receiver's time over the floor's; take the median of the 6.

// floorEvent is the plain struct the floor decodes into.
type floorEvent struct {
	Event    string `json:"event"`
	Delivery struct {
		UUID        string `json:"uuid"`
		Channel     string `json:"channel"`
		Status      string `json:"status"`
		EventName   string `json:"event_name"`
		MessageID   string `json:"message_id"`
		SentAt      string `json:"sent_at"`
		DeliveredAt string `json:"delivered_at"`
		Error       *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"delivery"`
	RequestID string `json:"request_id"`
	Timestamp string `json:"timestamp"`
}

// floorCheck is the floor's signature check: one HMAC, one hex compare.
func floorCheck(body []byte, sig string, key []byte) bool {
	t, v1, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",v1=")
	var got [sha256.Size]byte
	if _, err := hex.Decode(got[:], []byte(v1)); err != nil {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(t))
	m.Write([]byte{'.'})
	m.Write(body)
	var want [sha256.Size]byte
	return hmac.Equal(m.Sum(want[:0]), got[:])
}

func floorVerify(body []byte, sig string, key []byte) (*floorEvent, bool) {
	if !floorCheck(body, sig, key) {
		return nil, false
	}
	ev := new(floorEvent)
	if json.Unmarshal(body, ev) != nil {
		return nil, false
	}
	return ev, true
}

// benchBody is the reference delivery with an unknown field added, padded
// to size bytes.
func benchBody(tb testing.TB, size int) []byte {
	head := payload[:len(payload)-1] + `,"meta":"`
	pad := size - len(head) - len(`"}`)
	if pad < 0 {
		tb.Fatalf("size %d under %d", size, len(head)+2)
	}
	b := []byte(head + strings.Repeat("x", pad) + `"}`)
	if len(b) != size || !json.Valid(b) {
		tb.Fatalf("bench body: %d bytes, valid %v", len(b), json.Valid(b))
	}
	return b
}

var benchSizes = []struct {
	name        string
	size, block int
}{{"432B", 432, 32}, {"64KiB", 64 << 10, 1}}

// pair runs sdk and floor b.N times each, in alternating blocks of block,
// and reports their times and ratio.
func pair(b *testing.B, block int, sdk, floor func()) {
	b.Helper()
	sdk() // warm both outside the timing
	floor()
	var sdkTime, floorTime time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(block, b.N-done)
		t0 := time.Now()
		for range n {
			sdk()
		}
		t1 := time.Now()
		for range n {
			floor()
		}
		t2 := time.Now()
		sdkTime += t1.Sub(t0)
		floorTime += t2.Sub(t1)
		done += n
	}
	b.StopTimer()
	report(b, sdkTime, floorTime)
}

func report(b *testing.B, sdkTime, floorTime time.Duration) {
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(per(sdkTime), "sdk-ns/op")
	b.ReportMetric(per(floorTime), "floor-ns/op")
	b.ReportMetric(float64(sdkTime)/float64(floorTime), "ratio")
}

func BenchmarkVerifyVsFloor(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name, func(b *testing.B) {
			body := benchBody(b, s.size)
			ts := time.Now()
			sig := signature(secret, ts, body)
			h := headers(sig)
			key := []byte(secret)
			pair(b, s.block, func() {
				if _, err := webhook.Verify(body, h, secret); err != nil {
					b.Fatal(err)
				}
			}, func() {
				if _, ok := floorVerify(body, sig, key); !ok {
					b.Fatal("floor refused")
				}
			})
		})
	}
}

// A refusal costs one HMAC per secret and no decoding: paired with the
// floor's signature check alone.
func BenchmarkRefuseVsFloor(b *testing.B) {
	body := benchBody(b, 432)
	key := []byte(secret)
	for _, tt := range []struct {
		name string
		sig  string
	}{
		{"forged", signature("whsec_another", time.Now(), body)},
		{"stale", signature(secret, time.Now().Add(-time.Hour), body)},
	} {
		b.Run(tt.name, func(b *testing.B) {
			h := headers(tt.sig)
			good := signature(secret, time.Now(), body)
			pair(b, 32, func() {
				if _, err := webhook.Verify(body, h, secret); err == nil {
					b.Fatal("accepted")
				}
			}, func() {
				if !floorCheck(body, good, key) {
					b.Fatal("floor refused")
				}
			})
		})
	}
}

// The handler, each delivery a new event (so its deduper claims and
// completes it), against a floor handler that reads the body, checks it as
// floorVerify does and answers 204.
func BenchmarkHandlerVsFloor(b *testing.B) {
	const block = 32
	body := benchBody(b, 432)
	bodies := make([][]byte, 4096)
	sigs := make([]string, len(bodies))
	for i := range bodies {
		bodies[i] = bytes.Replace(body, []byte("5f0c6f5e"), []byte(hex.EncodeToString([]byte{byte(i >> 8), byte(i), 0, 0})), 1)
		sigs[i] = signature(secret, time.Now(), bodies[i])
	}
	fn := func(context.Context, *webhook.Event) error { return nil }
	key := []byte(secret)
	floor := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		if _, ok := floorVerify(b, r.Header.Get(webhook.SignatureHeader), key); !ok {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	requests := func(first, n int) ([]*http.Request, []*httptest.ResponseRecorder) {
		rs, ws := make([]*http.Request, n), make([]*httptest.ResponseRecorder, n)
		for i := range n {
			k := (first + i) % len(bodies)
			rs[i] = httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(bodies[k]))
			rs[i].Header.Set(webhook.SignatureHeader, sigs[k])
			rs[i].Header.Set("Content-Type", "application/json")
			ws[i] = httptest.NewRecorder()
		}
		return rs, ws
	}
	var sdkTime, floorTime time.Duration
	b.ResetTimer()
	h := webhook.Handler(secret, fn)
	for done := 0; done < b.N; {
		n := min(block, b.N-done)
		if done%4096 == 0 { // a new deduper before the bodies come round again
			h = webhook.Handler(secret, fn)
		}
		sr, sw := requests(done, n) // outside the pair's timing
		fr, fw := requests(done, n)
		t0 := time.Now()
		for i := range n {
			h.ServeHTTP(sw[i], sr[i])
		}
		t1 := time.Now()
		for i := range n {
			floor.ServeHTTP(fw[i], fr[i])
		}
		t2 := time.Now()
		for i := range n {
			if sw[i].Code != http.StatusNoContent || fw[i].Code != http.StatusNoContent {
				b.Fatalf("answers %d and %d", sw[i].Code, fw[i].Code)
			}
		}
		sdkTime += t1.Sub(t0)
		floorTime += t2.Sub(t1)
		done += n
	}
	b.StopTimer()
	report(b, sdkTime, floorTime)
}

// Allocations of each side alone.
func BenchmarkHandler(b *testing.B) {
	body := benchBody(b, 432)
	sig := signature(secret, time.Now(), body)
	h := webhook.Handler(secret, func(context.Context, *webhook.Event) error { return nil }, webhook.WithDeduper(nil))
	b.ReportAllocs()
	for range b.N {
		r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
		r.Header.Set(webhook.SignatureHeader, sig)
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
}

func BenchmarkVerify(b *testing.B) {
	body := benchBody(b, 432)
	h := headers(signature(secret, time.Now(), body))
	b.ReportAllocs()
	for range b.N {
		if _, err := webhook.Verify(body, h, secret); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFloor(b *testing.B) {
	body := benchBody(b, 432)
	sig := signature(secret, time.Now(), body)
	key := []byte(secret)
	b.ReportAllocs()
	for range b.N {
		if _, ok := floorVerify(body, sig, key); !ok {
			b.Fatal("refused")
		}
	}
}
