package sendivent_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
)

// The tests of this file count connections, and net/http dials spares when
// a connection is slow to come (it hands an idle one to the waiting request
// and pools the late one). They run alone, not in parallel with the rest of
// the suite, so that what they count is the client's doing, not the load's.

// connServer counts the TCP connections a client opens against it.
type connServer struct {
	*httptest.Server
	opened atomic.Int64
	calls  atomic.Int64
}

func newConnServer(t *testing.T, h func(call int64, w http.ResponseWriter, r *http.Request)) *connServer {
	t.Helper()
	cs := &connServer{}
	cs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h(cs.calls.Add(1), w, r)
	}))
	cs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			cs.opened.Add(1)
		}
	}
	cs.Start()
	t.Cleanup(cs.Close)
	return cs
}

func reply(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	if status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "0")
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func sendOnce(c *sendivent.Client) error {
	_, err := c.Send(context.Background(), "welcome", sendivent.SendRequest{
		To:      []sendivent.Recipient{sendivent.Address("alice@example.com")},
		Payload: sendivent.Payload{"company": "ACME"},
	})
	return err
}

var htmlPage = "<html><head><title>404 Not Found</title></head><body>" + strings.Repeat("<p>nothing here</p>", 80) + "</body></html>"

// TestConnectionReuse: every answer, error or not, leaves the connection in
// the pool, and giving up on a request does not close the pool.
func TestConnectionReuse(t *testing.T) {
	require.Greater(t, len(htmlPage), 1500)
	tests := []struct {
		name    string
		handler func(call int64, w http.ResponseWriter, r *http.Request)
		wantErr error
	}{
		{"all 200", func(_ int64, w http.ResponseWriter, _ *http.Request) { reply(w, 200, seedAccepted) }, nil},
		{"all 400 JSON error", func(_ int64, w http.ResponseWriter, _ *http.Request) {
			reply(w, 400, `{"error":"Phone number must be in E.164 format","field":"to"}`)
		}, sendivent.ErrValidation},
		{"all 404 HTML page", func(_ int64, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(404)
			_, _ = io.WriteString(w, htmlPage)
		}, sendivent.ErrNotFound},
		{"each 503 then 200", func(call int64, w http.ResponseWriter, _ *http.Request) {
			if call%2 == 1 {
				reply(w, 503, `{"error":"unavailable"}`)
				return
			}
			reply(w, 200, seedAccepted)
		}, nil},
		{"all 503 until retries run out", func(_ int64, w http.ResponseWriter, _ *http.Request) {
			reply(w, 503, `{"error":"unavailable"}`)
		}, sendivent.ErrServer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newConnServer(t, tt.handler)
			c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL))
			require.NoError(t, err)
			for i := 0; i < 1000; i++ {
				err := sendOnce(c)
				if tt.wantErr == nil {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, tt.wantErr)
				}
			}
			assert.Equal(t, int64(1), srv.opened.Load(), "TCP connections for 1,000 sequential sends")
		})
	}
}

// TestConnectionsUnderSporadicFailures: 4% of sends get a 503 before they
// succeed.
func TestConnectionsUnderSporadicFailures(t *testing.T) {
	var seen sync.Map // idempotency keys: a retry is not failed again
	var sends atomic.Int64
	failing := func(_ int64, w http.ResponseWriter, r *http.Request) {
		if _, again := seen.LoadOrStore(r.Header.Get("X-Idempotency-Key"), true); !again && sends.Add(1)%25 == 0 {
			reply(w, 503, `{"error":"unavailable"}`)
			return
		}
		reply(w, 200, seedAccepted)
	}
	// net/http may dial a spare when senders start at once: a request
	// waiting on its dial takes a connection freed meanwhile, and the late
	// one is pooled too. 8 senders open 8 connections nearly always (9 or
	// 10 seen about once in 20 runs under -race), so a run over the bound
	// is measured again, up to 3 times. Churn (a connection per failure, as
	// plain go-retryablehttp does: 274 for the 8-sender case) fails every
	// run.
	tests := []struct {
		name     string
		senders  int
		sends    int
		maxConns int64
	}{
		{"2,000 sequential, 4% 503", 1, 2000, 4},
		{"2,000 from 8 goroutines, 4% 503", 8, 2000, 8 + 2},
		{"64 concurrent senders, 4% 503", 64, 64 * 20, 64 + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opened int64
			for try := 1; try <= 3; try++ {
				var calls, failed int64
				opened, calls, failed = sendFromGoroutines(t, failing, tt.senders, tt.sends)
				require.Zero(t, failed)
				t.Logf("%s: %d connections for %d sends (%d requests), run %d", tt.name, opened, tt.sends, calls, try)
				if opened <= tt.maxConns {
					break
				}
			}
			assert.LessOrEqual(t, opened, tt.maxConns, "TCP connections")
		})
	}
}

// sendFromGoroutines makes sends from senders goroutines against a fresh
// server and client, and counts the connections opened, the requests the
// server saw and the sends that failed.
func sendFromGoroutines(t *testing.T, h func(int64, http.ResponseWriter, *http.Request), senders, sends int) (opened, calls, failed int64) {
	t.Helper()
	srv := newConnServer(t, h)
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL))
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	var wg sync.WaitGroup
	var nfailed atomic.Int64
	per := sends / senders
	for g := 0; g < senders; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := sendOnce(c); err != nil {
					nfailed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return srv.opened.Load(), srv.calls.Load(), nfailed.Load()
}

// TestCancelledMidRetryLeavesNothingOpen: 1,000 sends whose context ends
// while they wait to retry leave no connection open (and no goroutine: the
// package's TestMain checks).
func TestCancelledMidRetryLeavesNothingOpen(t *testing.T) {
	var active atomic.Int64
	var cancelNext atomic.Pointer[context.CancelFunc]
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(503)
		w.(http.Flusher).Flush()
		if cancel := cancelNext.Swap(nil); cancel != nil {
			(*cancel)() // the client is reading this answer or about to wait 5 s
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		switch s {
		case http.StateNew:
			active.Add(1)
		case http.StateClosed, http.StateHijacked:
			active.Add(-1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL))
	require.NoError(t, err)
	for i := 0; i < 1000; i++ {
		ctx, cancel := context.WithCancel(context.Background())
		cancelNext.Store(&cancel)
		_, err := c.Send(ctx, "welcome", sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address("alice@example.com")}})
		cancel()
		require.ErrorIs(t, err, context.Canceled, "send %d", i)
	}
	// A send cancelled while it reads its answer closes its connection; the
	// server sees the close a moment later.
	assert.Eventually(t, func() bool { return active.Load() <= 1 }, 2*time.Second, 10*time.Millisecond,
		"connections still open after 1,000 cancelled sends: %d", active.Load())
}
