package sendiventtest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdempotency(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle())
	path := "/v1/send/welcome"

	first := do(t, srv, call{path: path, key: "k1", body: `{"to":"a@example.com","payload":{"x":1,"y":2}}`})
	require.Equal(t, http.StatusOK, first.status)
	assert.Empty(t, first.header.Get("X-Idempotent-Replay"))

	// Same key, same request (keys in another order): the first answer again.
	again := do(t, srv, call{path: path, key: "k1", body: `{"payload":{"y":2,"x":1},"to":"a@example.com"}`})
	assert.Equal(t, http.StatusOK, again.status)
	assert.Equal(t, "true", again.header.Get("X-Idempotent-Replay"))
	assert.Equal(t, string(first.body), string(again.body))
	assert.Len(t, srv.Notifications(), 1)

	// Same key, different body or path: 409.
	for _, c := range []call{
		{path: path, key: "k1", body: `{"to":"b@example.com"}`},
		{path: "/v1/send/other", key: "k1", body: `{"to":"a@example.com","payload":{"x":1,"y":2}}`},
	} {
		a := do(t, srv, c)
		assert.Equal(t, http.StatusConflict, a.status)
		assert.JSONEq(t, `{"error":"Idempotency key reused with a different request","code":"IDEMPOTENCY_KEY_REUSED"}`, string(a.body))
	}

	// Failed answers are not stored: the key can be used again.
	bad := do(t, srv, call{path: path, key: "k2", body: `{"to":"+1"}`})
	assert.Equal(t, http.StatusBadRequest, bad.status)
	ok := do(t, srv, call{path: path, key: "k2", body: `{"to":"c@example.com"}`})
	assert.Equal(t, http.StatusOK, ok.status)

	// Cancel is idempotent too.
	c1 := do(t, srv, call{path: "/v1/cancel/welcome", key: "k3", body: `{"to":"a@example.com"}`})
	c2 := do(t, srv, call{path: "/v1/cancel/welcome", key: "k3", body: `{"to":"a@example.com"}`})
	assert.JSONEq(t, `{"success":true,"cancelled":1}`, string(c1.body))
	assert.Equal(t, string(c1.body), string(c2.body))
	assert.Equal(t, "true", c2.header.Get("X-Idempotent-Replay"))

	// Keys are per server.
	other := newTestServer(t)
	a := do(t, other, call{path: path, key: "k1", body: `{"to":"z@example.com"}`})
	assert.Equal(t, http.StatusOK, a.status)

	assert.Len(t, srv.Notifications(), 2)
	assert.Equal(t, 2, srv.Stats().Replays)
	recs := srv.Requests(EndpointSend)
	assert.True(t, recs[1].Replayed)
	assert.Empty(t, recs[1].Created)
	assert.Equal(t, "k1", recs[1].IdempotencyKey)
	assert.Equal(t, 2, srv.NotificationCount("welcome"))
}

func TestFailNext(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle())
	id := send(t, srv, "welcome", map[string]any{"to": "a@example.com"})["id"].(string)
	srv.Inject(FailNext(2, http.StatusServiceUnavailable).WithRetryAfter("1").On(EndpointSend))
	assert.Equal(t, []Script{FailNext(2, http.StatusServiceUnavailable).WithRetryAfter("1").On(EndpointSend)}, srv.PendingFaults())

	// Other endpoints pass through.
	assert.Equal(t, http.StatusOK, getNotification(t, srv, id).status)
	for i := 0; i < 2; i++ {
		a := do(t, srv, call{path: "/v1/send/welcome", key: "retry-me", body: map[string]any{"to": "b@example.com"}})
		assert.Equal(t, http.StatusServiceUnavailable, a.status)
		assert.Equal(t, "1", a.header.Get("Retry-After"))
		assert.Equal(t, "application/json", a.header.Get("Content-Type"))
		assert.Contains(t, a.json(t), "error")
	}
	assert.Len(t, srv.Notifications(), 1, "failing requests create nothing")
	a := do(t, srv, call{path: "/v1/send/welcome", key: "retry-me", body: map[string]any{"to": "b@example.com"}})
	assert.Equal(t, http.StatusOK, a.status)
	assert.Empty(t, a.header.Get("X-Idempotent-Replay"))
	assert.Len(t, srv.Notifications(), 2)
	assert.Empty(t, srv.PendingFaults())

	// Custom body, any endpoint, and 429 counting.
	srv.Inject(FailNext(1, http.StatusBadGateway).WithBody("<html>bad gateway</html>"), FailNext(1, 429))
	a = getNotification(t, srv, id)
	assert.Equal(t, http.StatusBadGateway, a.status)
	assert.Equal(t, "<html>bad gateway</html>", string(a.body))
	assert.Contains(t, a.header.Get("Content-Type"), "text/html")
	a = getNotification(t, srv, id)
	assert.Equal(t, http.StatusTooManyRequests, a.status)
	assert.JSONEq(t, `{"error":"Rate limit exceeded","code":"RATE_LIMITED"}`, string(a.body))

	st := srv.Stats()
	assert.Equal(t, 4, st.Faults[FaultStatus])
	assert.Equal(t, 1, st.ByStatus[http.StatusTooManyRequests])
	recs := srv.Requests()
	assert.Equal(t, FaultStatus, recs[2].Fault)
	assert.Equal(t, http.StatusServiceUnavailable, recs[2].Status)
	assert.Empty(t, recs[2].Created)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithServerRateLimit(3), WithManualLifecycle())
	statuses := make([]int, 0, 5)
	for i := 0; i < 5; i++ {
		a := do(t, srv, call{path: "/v1/send/welcome", body: map[string]any{"to": "a@example.com"}})
		statuses = append(statuses, a.status)
		if a.status == http.StatusTooManyRequests {
			assert.Equal(t, "1", a.header.Get("Retry-After"))
			assert.JSONEq(t, `{"error":"Rate limit exceeded","code":"RATE_LIMITED"}`, string(a.body))
		}
	}
	assert.Equal(t, []int{200, 200, 200, 429, 429}, statuses)
	assert.Equal(t, 2, srv.Stats().ByStatus[http.StatusTooManyRequests])
	assert.Equal(t, 2, srv.Stats().Faults[FaultRateLimit])
	assert.Len(t, srv.Notifications(), 3)

	srv.Reset() // a full bucket again
	a := do(t, srv, call{path: "/v1/send/welcome", body: map[string]any{"to": "a@example.com"}})
	assert.Equal(t, http.StatusOK, a.status)
}

func TestLatency(t *testing.T) {
	t.Parallel()
	t.Run("scripted", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t)
		srv.Inject(DelayNext(1, 40*time.Millisecond))
		start := time.Now()
		send(t, srv, "welcome", map[string]any{"to": "a@example.com"})
		assert.GreaterOrEqual(t, time.Since(start), 40*time.Millisecond)
		assert.Equal(t, FaultLatency, srv.Requests()[0].Fault)
	})
	t.Run("client gives up, nothing created", func(t *testing.T) {
		t.Parallel()
		srv := newTestServer(t)
		srv.Inject(DelayNext(1, time.Minute))
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/send/welcome", nil)
		require.NoError(t, err)
		_, err = srv.ts.Client().Do(req)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		eventually(t, func() bool { return len(srv.Requests()) == 1 }, "abandoned request recorded")
		assert.Equal(t, FaultLatency, srv.Requests()[0].Fault)
		assert.Empty(t, srv.Notifications())
	})
	t.Run("close is not blocked", func(t *testing.T) {
		t.Parallel()
		delaying := make(chan struct{})
		srv := NewServer(WithFaultFunc(func(*http.Request) Fault {
			close(delaying)
			return Fault{Kind: FaultLatency, Latency: time.Hour}
		}))
		done := make(chan error, 1)
		go func() {
			_, err := try(t, srv, call{path: "/v1/send/welcome", body: `{"to":"a@example.com"}`, client: freshClient(t)})
			done <- err
		}()
		<-delaying
		start := time.Now()
		srv.Close()
		assert.Less(t, time.Since(start), time.Second)
		<-done
	})
}

func TestMalformedAndTruncated(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle())
	srv.Inject(MalformedNext(1), TruncateNext(1))

	a := do(t, srv, call{path: "/v1/send/welcome", body: map[string]any{"to": "a@example.com"}})
	assert.Equal(t, http.StatusOK, a.status)
	assert.True(t, len(a.body) > 0)
	var v any
	assert.Error(t, json.Unmarshal(a.body, &v), "body %q must not be valid JSON", a.body)
	assert.Len(t, srv.Notifications(), 1, "the notification was created")

	_, err := try(t, srv, call{path: "/v1/send/welcome", body: map[string]any{"to": "a@example.com"}})
	require.Error(t, err)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Len(t, srv.Notifications(), 2)

	st := srv.Stats()
	assert.Equal(t, 1, st.Faults[FaultMalformed])
	assert.Equal(t, 1, st.Faults[FaultTruncated])
	assert.Equal(t, 2, st.Created)

	// The next answer is whole again.
	send(t, srv, "welcome", map[string]any{"to": "a@example.com"})
}

func TestDropAfterCommit(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle())
	srv.Inject(DropNext(1).On(EndpointSend))
	c := call{path: "/v1/send/welcome", key: "order-42", body: map[string]any{"to": "a@example.com"}, client: freshClient(t)}

	_, err := try(t, srv, c)
	require.Error(t, err, "the client gets no answer")
	ns := srv.Notifications()
	require.Len(t, ns, 1, "but the notification exists")
	assert.Equal(t, "order-42", ns[0].IdempotencyKey)
	rec, _ := srv.LastRequest()
	assert.Equal(t, FaultDrop, rec.Fault)
	assert.Equal(t, []string{ns[0].ID}, rec.Created)

	// A retry with the same key replays the stored answer: no duplicate.
	a := do(t, srv, c)
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, "true", a.header.Get("X-Idempotent-Replay"))
	assert.Equal(t, ns[0].ID, a.json(t)["id"])
	assert.Len(t, srv.Notifications(), 1)
}

func TestChaosIsDeterministic(t *testing.T) {
	t.Parallel()
	run := func() []string {
		srv := newTestServer(t, WithFaultFunc(Chaos(7, 0.6, 50*time.Millisecond)), WithManualLifecycle())
		kinds := make([]string, 0, 30)
		for i := 0; i < 30; i++ {
			a, err := try(t, srv, call{path: "/v1/send/welcome", body: `{"to":"a@example.com"}`, client: freshClient(t)})
			var outcome string
			switch {
			case err != nil:
				outcome = "error"
			default:
				outcome = http.StatusText(a.status)
				if a.status == http.StatusTooManyRequests {
					outcome += " retry-after=" + a.header.Get("Retry-After")
				}
			}
			rec, _ := srv.LastRequest()
			kinds = append(kinds, string(rec.Fault)+"/"+outcome)
		}
		st := srv.Stats()
		assert.Equal(t, 30, st.Requests)
		assert.Positive(t, st.Faults[FaultStatus])
		return kinds
	}
	first, second := run(), run()
	assert.Equal(t, first, second)

	f := Chaos(1, 1, 10*time.Millisecond)
	seen := map[FaultKind]bool{}
	for i := 0; i < 200; i++ {
		k := f(nil)
		require.NotEmpty(t, k.Kind)
		seen[k.Kind] = true
		if k.Kind == FaultLatency {
			assert.LessOrEqual(t, k.Latency, 10*time.Millisecond)
		}
	}
	assert.Len(t, seen, 4, "status, latency, malformed and drop all drawn: %v", seen)
	assert.Equal(t, Fault{}, Chaos(1, 0, 0)(nil))
}

func TestFaultFunc(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithFaultFunc(func(r *http.Request) Fault {
		if r.Method == http.MethodGet {
			return Fault{Kind: FaultStatus, Status: http.StatusGatewayTimeout}
		}
		return Fault{}
	}))
	send(t, srv, "welcome", map[string]any{"to": "a@example.com"})
	a := getNotification(t, srv, "x")
	assert.Equal(t, http.StatusGatewayTimeout, a.status)
	assert.JSONEq(t, `{"error":"Gateway Timeout"}`, string(a.body))
}
