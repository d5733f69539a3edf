package sendiventredis_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go/sendiventredis"
	"github.com/sendivent/sendivent-go/webhook"
)

// The outage policy, as the Deduper's documentation states it, through
// webhook.Handler against a real redis-server that is stopped or paused:
// the service is told to retry, no event is lost, and an event that could
// run twice is logged as such.

const hookSecret = "whsec_c2VuZGl2ZW50cmVkaXMtdGVzdHM"

// receiver is a webhook.Handler on a Deduper, with its log and its
// function's runs.
type receiver struct {
	h    http.Handler
	logs *syncBuffer
	runs atomic.Int32
	fail atomic.Bool                  // the function fails while set
	hook atomic.Pointer[func() error] // runs inside the function, if set
}

func newReceiver(t *testing.T, d webhook.Deduper) *receiver {
	r := &receiver{logs: &syncBuffer{}}
	r.h = webhook.Handler(hookSecret, func(context.Context, *webhook.Event) error {
		if h := r.hook.Load(); h != nil {
			if err := (*h)(); err != nil {
				return err
			}
		}
		if r.fail.Load() {
			return errors.New("the function failed")
		}
		r.runs.Add(1)
		return nil
	}, webhook.WithDeduper(d), webhook.WithLogger(slog.New(slog.NewTextHandler(r.logs, nil))))
	return r
}

// deliver sends one delivery of uuid and returns the answer.
func (r *receiver) deliver(t *testing.T, uuid string) *httptest.ResponseRecorder {
	t.Helper()
	body := []byte(`{"event":"delivery.sent","delivery":{"uuid":"` + uuid + `"}}`)
	req, err := webhook.NewRequest(context.Background(), "http://receiver/webhook", body, hookSecret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r.h.ServeHTTP(w, req)
	return w
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestDeduperOutagePolicy(t *testing.T) {
	t.Parallel()
	const lease = 400 * time.Millisecond

	t.Run("Redis down at the delivery: 503, then the retry runs it once", func(t *testing.T) {
		t.Parallel()
		rs := startRedis(t)
		r := newReceiver(t, newDeduper(t, rs.Client(), sendiventredis.WithLease(lease)))
		rs.Stop()
		w := r.deliver(t, "d1")
		if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
			t.Errorf("answer %d, Retry-After %q; want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
		}
		if r.runs.Load() != 0 {
			t.Error("the function ran while Redis was down")
		}
		if !strings.Contains(r.logs.String(), "dedupe store unreachable") {
			t.Errorf("log does not say why:\n%s", r.logs)
		}
		rs.Start()
		waitUntil(t, 10*time.Second, func() bool { return r.deliver(t, "d1").Code == http.StatusNoContent })
		if w := r.deliver(t, "d1"); w.Code != http.StatusOK {
			t.Errorf("a repeat after the retry: %d; want 200", w.Code)
		}
		if n := r.runs.Load(); n != 1 {
			t.Errorf("the function ran %d times; want once", n)
		}
	})

	t.Run("Redis gone while the function ran, which succeeded: 204, and the log says a redelivery runs it again", func(t *testing.T) {
		t.Parallel()
		rs := startRedis(t)
		r := newReceiver(t, newDeduper(t, rs.Client(), sendiventredis.WithLease(lease)))
		pause := func() error { rs.Pause(); return nil }
		r.hook.Store(&pause)
		w := r.deliver(t, "d2")
		r.hook.Store(nil)
		rs.Resume()
		if w.Code != http.StatusNoContent {
			t.Errorf("answer %d; want 204: the event was handled", w.Code)
		}
		if !strings.Contains(r.logs.String(), "a later delivery of it would run it again") {
			t.Errorf("log does not say the event may run again:\n%s", r.logs)
		}
		// As logged: the claim lapses within a lease, and a redelivery
		// runs the event again.
		waitUntil(t, 10*time.Second, func() bool { return r.deliver(t, "d2").Code == http.StatusNoContent })
		if n := r.runs.Load(); n != 2 {
			t.Errorf("the function ran %d times; want twice, as logged", n)
		}
	})

	t.Run("Redis gone while the function ran, which failed: 500, retries 503 until the claim lapses, then it runs", func(t *testing.T) {
		t.Parallel()
		rs := startRedis(t)
		// A lease longer than the client's tries at the release (2 x 500 ms).
		r := newReceiver(t, newDeduper(t, rs.Client(), sendiventredis.WithLease(3*time.Second)))
		pause := func() error { rs.Pause(); return errors.New("the function failed") }
		r.hook.Store(&pause)
		w := r.deliver(t, "d3")
		r.hook.Store(nil)
		rs.Resume()
		if w.Code != http.StatusInternalServerError {
			t.Errorf("answer %d; want 500", w.Code)
		}
		if !strings.Contains(r.logs.String(), "stays claimed until its lease ends") {
			t.Errorf("log does not say the event stays claimed:\n%s", r.logs)
		}
		busy := 0
		waitUntil(t, 10*time.Second, func() bool {
			code := r.deliver(t, "d3").Code
			if code == http.StatusServiceUnavailable {
				busy++
			}
			return code == http.StatusNoContent
		})
		if busy == 0 {
			t.Error("no retry was answered 503 while the failed delivery's claim stood")
		}
		if n := r.runs.Load(); n != 1 {
			t.Errorf("the function ran %d times; want once", n)
		}
	})

	t.Run("Redis paused at the delivery: 503 once the client gives up, no run", func(t *testing.T) {
		t.Parallel()
		rs := startRedis(t)
		r := newReceiver(t, newDeduper(t, rs.Client(), sendiventredis.WithLease(lease)))
		rs.Pause()
		w := r.deliver(t, "d4")
		rs.Resume()
		if w.Code != http.StatusServiceUnavailable {
			t.Errorf("answer %d; want 503", w.Code)
		}
		waitUntil(t, 10*time.Second, func() bool { return r.deliver(t, "d4").Code == http.StatusNoContent })
		if n := r.runs.Load(); n != 1 {
			t.Errorf("the function ran %d times; want once", n)
		}
	})
}
