package sendiventtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The server keeps the newest N of each kind of entry and counts every
// one; what it dropped answers as unknown, saying why.
func TestRetentionKeepsTheNewest(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithRetention(3), WithManualLifecycle())
	var ids []string
	for i := range 5 {
		a := do(t, srv, call{path: "/v1/send/welcome", key: fmt.Sprint("k", i),
			body: map[string]any{"to": fmt.Sprintf("u%d@example.com", i)}})
		require.Equal(t, http.StatusOK, a.status)
		ids = append(ids, a.json(t)["id"].(string))
	}

	ns := srv.Notifications()
	require.Len(t, ns, 3)
	assert.Equal(t, ids[2:], []string{ns[0].ID, ns[1].ID, ns[2].ID}, "the newest are kept, in order")
	assert.Len(t, srv.Requests(), 3)
	assert.Len(t, srv.Contacts(), 3)
	st := srv.Stats()
	assert.Equal(t, 5, st.Requests)
	assert.Equal(t, 5, st.Created)
	assert.Equal(t, 5, srv.NotificationCount("welcome"))
	assert.Equal(t, 5, srv.NotificationCount(""))

	// A dropped notification is unknown everywhere, and the API says why.
	_, ok := srv.Notification(ids[0])
	assert.False(t, ok)
	assert.ErrorIs(t, srv.Advance(ids[0]), ErrUnknownNotification)
	a := getNotification(t, srv, ids[0])
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.Equal(t, "NOT_FOUND", a.json(t)["code"])
	assert.Contains(t, a.json(t)["error"], "keeps only its newest notifications")
	assert.Equal(t, http.StatusNotFound, ctl(t, srv, http.MethodGet, "/_fake/notifications/"+ids[0], nil).status)
	// A kept one answers as before.
	assert.Equal(t, http.StatusOK, getNotification(t, srv, ids[4]).status)

	// An idempotency key whose answer was dropped sends anew; a kept one
	// replays.
	a = do(t, srv, call{path: "/v1/send/welcome", key: "k0", body: map[string]any{"to": "u0@example.com"}})
	assert.Empty(t, a.header.Get("X-Idempotent-Replay"))
	assert.NotEqual(t, ids[0], a.json(t)["id"])
	a = do(t, srv, call{path: "/v1/send/welcome", key: "k4", body: map[string]any{"to": "u4@example.com"}})
	assert.Equal(t, "true", a.header.Get("X-Idempotent-Replay"))

	// Reset forgets the drops too: an unknown id is plainly unknown.
	srv.Reset()
	a = getNotification(t, srv, ids[4])
	assert.Equal(t, `{"error":"Notification not found","code":"NOT_FOUND"}`, string(a.body))
}

func TestRetentionZeroKeepsEverything(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithRetention(0), WithManualLifecycle())
	for i := range DefaultRetention/1000 + 3 {
		send(t, srv, "welcome", map[string]any{"to": fmt.Sprintf("u%d@example.com", i)})
	}
	assert.Len(t, srv.Notifications(), DefaultRetention/1000+3)
}

// A request refused before its endpoint keeps no body: a wrong key, an
// unknown route or method, a body that is not JSON or over the cap, a rate
// limit. One that reached its endpoint keeps it, even when refused there.
func TestRefusedRequestsKeepNoBody(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle(), WithEvent("welcome"))
	body := `{"to":"a@example.com","payload":{"secret":"` + strings.Repeat("s", 1000) + `"}}`
	tests := []struct {
		name   string
		c      call
		status int
		kept   bool
	}{
		{"wrong key", call{path: "/v1/send/welcome", body: body, noAuth: true}, 401, false},
		{"unknown route", call{path: "/v1/nothing", body: body}, 404, false},
		{"wrong method", call{method: http.MethodPut, path: "/v1/send/welcome", body: body}, 405, false},
		{"not JSON", call{path: "/v1/send/welcome", body: "to=a@example.com&" + strings.Repeat("x", 1000)}, 400, false},
		{"over 1 MiB", call{path: "/v1/send/welcome", body: `{"to":"a@example.com","p":"` + strings.Repeat("x", maxBody) + `"}`}, 413, false},
		{"accepted", call{path: "/v1/send/welcome", body: body}, 200, true},
		{"refused by its endpoint", call{path: "/v1/send/welcome", body: `{"payload":{}}`}, 400, true},
		{"undeclared event", call{path: "/v1/send/welcom", body: body}, 404, true},
	}
	for _, tt := range tests {
		a := do(t, srv, tt.c)
		require.Equal(t, tt.status, a.status, "%s: %s", tt.name, a.body)
		rec, _ := srv.LastRequest()
		assert.Equal(t, tt.kept, rec.RawBody != nil, tt.name)
		assert.Equal(t, tt.kept, rec.Body != nil, tt.name)
	}
	a := do(t, srv, call{path: "/v1/send/welcome", body: `{"to":"a@example.com","p":"` + strings.Repeat("x", maxBody) + `"}`})
	assert.JSONEq(t, `{"error":"Request body too large: the fake takes at most 1048576 bytes","code":"PAYLOAD_TOO_LARGE"}`, string(a.body))
	srv.mu.Lock()
	srv.undeclared = nil // the undeclared event was on purpose
	srv.mu.Unlock()

	limited := newTestServer(t, WithServerRateLimit(1))
	for range 2 {
		do(t, limited, call{path: "/v1/send/welcome", body: body})
	}
	rec, _ := limited.LastRequest()
	assert.Equal(t, 429, rec.Status)
	assert.Nil(t, rec.RawBody, "rate limited")
}

// Memory stays where the retention puts it, however many sends come: after
// the stores are full, more sends (with a few KB of payload each) leave the
// heap as it was. Without the limits it grew by the size of every send.
// 2,000 sends keeping 250; with SENDIVENT_LONG_TESTS 8,000 keeping 1,000.
func TestRetentionBoundsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 2,000 requests")
	}
	keep := 250 // 1,500 more sends would be 37 MB
	if os.Getenv("SENDIVENT_LONG_TESTS") != "" {
		keep = 1000
	}
	srv := newTestServer(t, WithRetention(keep), WithManualLifecycle())
	send := sender(t, srv, 4)
	payload := strings.Repeat("p", 4<<10)
	send(0, 2*keep, payload) // the stores are full, and have dropped some
	before := heapInUse()
	send(2*keep, 8*keep, payload)
	after := heapInUse()
	growth := int64(after) - int64(before)
	t.Logf("heap in use: %.1f MiB with %d sends kept, %.1f MiB after %d more", mib(before), keep, mib(after), 6*keep)
	// Each send holds about 25 KB while kept: 6·keep more would be 150 KB·keep.
	assert.Less(t, growth, int64(16<<20), "the heap grew by %.1f MiB", float64(growth)/(1<<20))
	assert.Len(t, srv.Notifications(), keep)
	assert.Equal(t, 8*keep, srv.NotificationCount(""))
}

// BenchmarkHeapAfterSends measures the heap in use (after a GC) of a fake
// as sendivent fake runs it (default retention, automatic lifecycle in
// real time) after 100,000 sends to as many recipients:
//
//	go test -run '^$' -bench HeapAfterSends -benchtime 1x ./sendiventtest/
func BenchmarkHeapAfterSends(b *testing.B) {
	const sends = 100_000
	for range b.N {
		srv := NewServer(WithTimeScale(1))
		send := sender(b, srv, 8)
		base := heapInUse()
		send(0, sends, "")
		for srv.Stats().Created < sends {
			runtime.Gosched()
		}
		b.StopTimer()
		used := heapInUse()
		b.ReportMetric(mib(used), "heap-MiB")
		b.ReportMetric(float64(used-min(used, base))/float64(DefaultRetention), "B/kept-send")
		b.Logf("heap in use after %d sends: %.1f MiB (%.1f MiB before); kept %d notifications, %d requests",
			sends, mib(used), mib(base), len(srv.Notifications()), len(srv.Requests()))
		runtime.KeepAlive(srv)
		srv.Close()
		b.StartTimer()
	}
}

// sender returns a func that sends sends [from, to) to srv over HTTP, with
// workers in parallel, each to its own recipient, with payload.
func sender(tb testing.TB, srv *Server, workers int) func(from, to int, payload string) {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	tb.Cleanup(hc.CloseIdleConnections)
	return func(from, to int, payload string) {
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					body := fmt.Sprintf(`{"to":{"email":"user%d@example.com","name":"User %d"},"payload":{"company":"ACME","order":%d,"note":%q}}`, i, i, i, payload)
					req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/send/welcome", bytes.NewReader([]byte(body)))
					req.Header.Set("Authorization", "Bearer "+srv.APIKey())
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("X-Idempotency-Key", fmt.Sprint("key-", i))
					resp, err := hc.Do(req)
					if err != nil {
						tb.Error(err)
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						tb.Errorf("send %d: %d", i, resp.StatusCode)
					}
				}
			}()
		}
		for i := from; i < to; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// Webhook delivery attempts are kept as requests are: the newest N.
func TestRetentionKeepsTheNewestWebhookAttempts(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {})
	srv := newTestServer(t, WithRetention(2), WithWebhookHandler(ok, "whsec_test"))
	for i := range 3 {
		send(t, srv, "welcome", map[string]any{"to": fmt.Sprintf("u%d@example.com", i)})
	}
	eventually(t, func() bool { return srv.NotificationCount("") == 3 && allDone(srv) }, "the notifications complete")
	require.NoError(t, srv.WaitWebhooks(context.Background()))
	assert.Len(t, srv.WebhookDeliveries(), 2)
}

func allDone(srv *Server) bool {
	for _, n := range srv.Notifications() {
		if !n.Status.Terminal() {
			return false
		}
	}
	return true
}

// New's report of requests to undeclared events lists the first 100 and
// counts the rest, however many come.
func TestUndeclaredReportIsBounded(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithEvent("welcome"))
	for range maxUndeclared + 5 {
		do(t, srv, call{path: "/v1/send/welcom", body: map[string]any{"to": "a@example.com"}})
	}
	p := srv.problems()
	require.Len(t, p, 1)
	assert.Equal(t, maxUndeclared+1, strings.Count(p[0], "\n\t"))
	assert.Contains(t, p[0], "… and 5 more")
}
