package sendivent_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// TestSwitchingProtocolsDoesNotHang: a 101 answer hands over the raw
// connection as the body; nothing would ever end a read of it. Send and
// Wait end at once with an error, within the attempt's bound and the
// context's.
func TestSwitchingProtocolsDoesNotHang(t *testing.T) {
	t.Parallel()
	// A raw TCP server (net/http's would not do this) that switches
	// protocols, then holds the connection open until the test ends.
	url := atkRawServer(t, func(s *atkRaw, conn net.Conn, _ *http.Request) {
		_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		s.hang()
	}).url
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(url), sendivent.WithTimeout(2*time.Second))
	require.NoError(t, err)
	tests := []struct {
		name string
		call func(context.Context) error
	}{
		{"send", func(ctx context.Context) error { _, err := hostileSend(ctx, c); return err }},
		{"wait", func(ctx context.Context) error { _, err := c.Wait(ctx, "n1"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			err := tt.call(ctx)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "101")
			var te *sendivent.TransportError
			require.ErrorAs(t, err, &te)
			assert.Len(t, te.Attempts, 1, "not retried: a server that switches protocols does so again")
			assert.Less(t, time.Since(start), time.Second, "ended at once, not at a bound")
		})
	}
}

// TestKeyPiecesScrubbed: a server that quotes the Authorization header in a
// plain-text error body, cut at any length, or redirects to a Location that
// carries the key, gets no piece of 8 or more of the key's characters into
// an error, its Unwrap chain or the debug log.
func TestKeyPiecesScrubbed(t *testing.T) {
	t.Parallel()
	const key = "test_Zq9vXw2S3cr3tK3yAbCdEfGh1234"
	pieces := func(s string) []string {
		var found []string
		for i := 0; i+8 <= len(key); i++ {
			if strings.Contains(s, key[i:i+8]) {
				found = append(found, key[i:i+8])
			}
		}
		return found
	}
	var echoed []string
	for cut := 100; cut <= 140; cut += 5 {
		echoed = append(echoed, fmt.Sprint(cut))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		switch {
		case strings.HasPrefix(r.URL.Path, "/text/"):
			cut := 0
			fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/text/")[:3], &cut)
			msg := "request refused; you sent the header Authorization: " + auth + " which we do not accept here"
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, msg[:min(cut, len(msg))])
		case strings.HasPrefix(r.URL.Path, "/redirect/"):
			http.Redirect(w, r, "http://127.0.0.1:1/steal?k="+strings.TrimPrefix(auth, "Bearer "), http.StatusFound)
		}
	}))
	defer srv.Close()
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	check := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		for e := err; e != nil; e = errors.Unwrap(e) {
			assert.Empty(t, pieces(e.Error()), "%T: %s", e, e.Error())
			assert.Empty(t, pieces(fmt.Sprintf("%+v", e)))
		}
		var apiErr *sendivent.APIError
		if errors.As(err, &apiErr) {
			assert.Empty(t, pieces(string(apiErr.Body)), string(apiErr.Body))
			assert.Empty(t, pieces(apiErr.Message), apiErr.Message)
		}
		var te *sendivent.TransportError
		if errors.As(err, &te) {
			for _, a := range te.Attempts {
				if a.Err != nil {
					assert.Empty(t, pieces(a.Err.Error()), a.Err.Error())
				}
			}
		}
	}
	for _, cut := range echoed {
		c, err := sendivent.NewClient(key, sendivent.WithBaseURL(srv.URL+"/text/"+cut), sendivent.WithLogger(logger))
		require.NoError(t, err)
		_, err = hostileSend(context.Background(), c)
		require.ErrorIs(t, err, sendivent.ErrValidation)
		check(t, err)
	}
	c, err := sendivent.NewClient(key, sendivent.WithBaseURL(srv.URL+"/redirect"), sendivent.WithLogger(logger),
		sendivent.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = hostileSend(context.Background(), c)
	check(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, pieces(logs.String()), logs.String())
	assert.Contains(t, logs.String(), "[redacted]", "the log says where the key was")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestBatchRerunOfFailedItems: a batch whose items 1 and 3 fail, then run
// again with only those two, sends each of the five once: the keys come from
// what an item is, not from its place in the batch.
func TestBatchRerunOfFailedItems(t *testing.T) {
	t.Parallel()
	var seen sync.Map // idempotency keys: fail a flaky item's first try only
	srv := sendiventtest.New(t, sendiventtest.WithFaultFunc(func(r *http.Request) sendiventtest.Fault {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		if _, again := seen.LoadOrStore(r.Header.Get("X-Idempotency-Key"), true); !again && bytes.Contains(body, []byte("flaky")) {
			return sendiventtest.Fault{Kind: sendiventtest.FaultStatus, Status: http.StatusServiceUnavailable}
		}
		return sendiventtest.Fault{}
	}))
	c := srv.Client(sendivent.WithMaxRetries(0))
	item := func(i int, note string) sendivent.BatchItem {
		return sendivent.BatchItem{Event: "welcome", Request: sendivent.SendRequest{
			To:      []sendivent.Recipient{sendivent.Address(fmt.Sprintf("user%d@example.com", i))},
			Payload: sendivent.Payload{"note": note}}}
	}
	items := []sendivent.BatchItem{item(0, ""), item(1, "flaky"), item(2, ""), item(3, "flaky"), item(4, "")}
	results, err := c.SendBatch(context.Background(), items, sendivent.BatchKeys("signup-2026-11-30"))
	var be *sendivent.BatchError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, 2, be.Failed)
	var failed []sendivent.BatchItem
	for i, r := range results {
		if r.Err != nil {
			failed = append(failed, items[i])
		}
	}
	require.Len(t, failed, 2)
	// Re-run the failures, last first.
	again, err := c.SendBatch(context.Background(), []sendivent.BatchItem{failed[1], failed[0]}, sendivent.BatchKeys("signup-2026-11-30"))
	require.NoError(t, err)
	for _, r := range again {
		assert.False(t, r.Response.Replayed, "a re-run item is sent, not answered from another item's send")
	}
	perRecipient := map[string]int{}
	for _, n := range srv.Notifications() {
		perRecipient[n.Recipient.Email]++
	}
	assert.Len(t, perRecipient, 5, "every item sent")
	for to, count := range perRecipient {
		assert.Equal(t, 1, count, to)
	}
	// Running the whole batch again sends nothing new.
	_, err = c.SendBatch(context.Background(), items, sendivent.BatchKeys("signup-2026-11-30"))
	require.NoError(t, err)
	assert.Len(t, srv.Notifications(), 5)
}

// TestRetryAfterStampede: 64 clients told "Retry-After: 1" at once do not
// come back at once: each waits at least the second it was told, and they
// spread over a quarter of one. The client's time runs 10 times faster
// (WithTimeScale), which changes none of its decisions: a second of it is
// 100 ms on the wall clock, where the spread is measured.
// TestE2ERateLimitedRetryAfterOneSecond waits a real second.
func TestRetryAfterStampede(t *testing.T) {
	t.Parallel()
	const scale = 10
	second := time.Second / scale
	srv := sendiventtest.New(t)
	srv.Inject(sendiventtest.FailNext(64, http.StatusTooManyRequests).WithRetryAfter("1"))
	c, err := sendivent.NewClient(srv.APIKey(), sendivent.WithBaseURL(srv.URL), sendivent.WithTimeScale(scale))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := hostileSend(context.Background(), c)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	first := map[string]time.Time{}
	var retries []time.Time
	for _, r := range srv.Requests(sendiventtest.EndpointSend) {
		if t0, ok := first[r.IdempotencyKey]; ok {
			assert.GreaterOrEqual(t, r.Time.Sub(t0), second, "never sooner than told")
			retries = append(retries, r.Time)
			continue
		}
		first[r.IdempotencyKey] = r.Time
	}
	require.Len(t, retries, 64)
	earliest, latest := retries[0], retries[0]
	for _, at := range retries {
		earliest, latest = minTime(earliest, at), maxTime(latest, at)
	}
	assert.Greater(t, latest.Sub(earliest), second/10, "the retries are spread, not a stampede")
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestRefusedBeforeSending: input that cannot be right is a
// *ValidationError at the call, and nothing reaches the server.
func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	c := srv.Client()
	to := []sendivent.Recipient{sendivent.Address("a@example.com")}
	tests := []struct {
		name, field string
		event       string
		req         sendivent.SendRequest
	}{
		{"padded event", "event", " welcome ", sendivent.SendRequest{To: to}},
		{"newline in event", "event", "a\nb", sendivent.SendRequest{To: to}},
		{"NUL event", "event", "\x00", sendivent.SendRequest{To: to}},
		{"dot event", "event", ".", sendivent.SendRequest{To: to}},
		{"dot-dot event", "event", "..", sendivent.SendRequest{To: to}},
		{"long event", "event", strings.Repeat("e", 5000), sendivent.SendRequest{To: to}},
		{"invalid UTF-8 event", "event", "caf\xe9", sendivent.SendRequest{To: to}},
		{"blank idempotency key", "idempotency_key", "welcome", sendivent.SendRequest{To: to, IdempotencyKey: "   "}},
		{"padded idempotency key", "idempotency_key", "welcome", sendivent.SendRequest{To: to, IdempotencyKey: " k1"}},
		{"email without @", "to.email", "welcome", sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Contact{Email: "bob"}}}},
		{"email without domain", "to.email", "welcome", sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Contact{Email: "bob@"}}}},
		{"two emails in one", "to", "welcome", sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address("a@example.com, b@example.com")}}},
		{"blank address", "to", "welcome", sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address("   ")}}},
		{"padded address", "to[1]", "welcome", sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address("a@example.com"), sendivent.Address(" b@example.com")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Send(context.Background(), tt.event, tt.req)
			var ve *sendivent.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.ErrorIs(t, err, sendivent.ErrValidation)
		})
	}
	_, err := c.Cancel(context.Background(), "..", sendivent.Address("a@example.com"))
	require.ErrorIs(t, err, sendivent.ErrValidation)
	assert.Empty(t, srv.Requests(sendiventtest.EndpointAll), "nothing was sent")

	// What is allowed stays allowed.
	for _, ok := range []sendivent.Recipient{sendivent.Address("@handle"), sendivent.Address("#general"), sendivent.Address("U123ABC"),
		sendivent.Contact{Email: "o'brien+tag@sub.example.co.uk"}} {
		_, err := c.Send(context.Background(), "order.shipped_v2-x", sendivent.SendRequest{To: []sendivent.Recipient{ok}})
		assert.NotErrorIs(t, err, sendivent.ErrValidation, "%v", ok)
	}
}

// TestNewClientRefuses: a base URL that already ends in /v1, and a key with
// control characters, fail at NewClient with a clear message.
func TestNewClientRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, key, base, want string
	}{
		{"base URL ending in /v1", "test_k", "https://api.sendivent.com/v1", "ends in /v1"},
		{"base URL ending in /v1/", "test_k", "http://127.0.0.1:8080/proxy/v1/", "ends in /v1"},
		{"key with a newline", "test_k\nX-Evil: 1", "https://api.test", "control character"},
		{"key with NUL", "test_k\x00", "https://api.test", "control character"},
		{"key with DEL", "test_k\x7f", "https://api.test", "control character"},
		{"key with non-ASCII", "test_kä", "https://api.test", "non-ASCII"},
		{"live key to a .localhost name", "live_k", "http://app.localhost:8080", "plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sendivent.NewClient(tt.key, sendivent.WithBaseURL(tt.base))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			if len(tt.key) > 6 {
				assert.NotContains(t, err.Error(), tt.key[5:], "no piece of the key")
			}
		})
	}
	_, err := sendivent.NewClient("test_k", sendivent.WithBaseURL("https://api.test/v1beta"))
	assert.NoError(t, err, "only a last segment of exactly v1 is refused")
}

// TestNilAndZeroClient: calls on a nil or zero *Client fail with an error at
// the call, never a panic, even inside SendBatch's goroutines.
func TestNilAndZeroClient(t *testing.T) {
	t.Parallel()
	item := sendivent.BatchItem{Event: "welcome", Request: sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address("a@example.com")}}}
	for name, c := range map[string]*sendivent.Client{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			_, err := c.SendBatch(ctx, []sendivent.BatchItem{item, item})
			assert.ErrorContains(t, err, "NewClient")
			_, err = hostileSend(ctx, c)
			assert.ErrorContains(t, err, "NewClient")
			_, err = c.Event("welcome").To(sendivent.Address("a@example.com")).Send(ctx)
			assert.ErrorContains(t, err, "NewClient")
			_, err = c.GetNotification(ctx, "n1")
			assert.ErrorContains(t, err, "NewClient")
			_, err = c.Wait(ctx, "n1")
			assert.ErrorContains(t, err, "NewClient")
			_, err = c.Cancel(ctx, "welcome", sendivent.Address("a@example.com"))
			assert.ErrorContains(t, err, "NewClient")
			for _, err := range c.Watch(ctx, "n1") {
				assert.ErrorContains(t, err, "NewClient")
			}
			c.CloseIdleConnections()
			assert.NotPanics(t, func() { _ = fmt.Sprint(c) })
		})
	}
}

// TestCallersCheckRedirectKeepsTheKeyHome: a caller's own CheckRedirect
// (here one that allows everything) cannot send the key to another origin:
// the SDK strips it first.
func TestCallersCheckRedirectKeepsTheKeyHome(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var stolen []string
	thief := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stolen = append(stolen, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = io.WriteString(w, hostileAccepted)
	}))
	defer thief.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, thief.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer api.Close()
	hops := 0
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { hops++; return nil }}
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(api.URL), sendivent.WithHTTPClient(hc))
	require.NoError(t, err)
	_, err = hostileSend(context.Background(), c)
	require.NoError(t, err)
	assert.Equal(t, 1, hops, "the caller's policy still runs")
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{""}, stolen, "no Authorization at the other origin")
}

// TestLimiterRefusalIsNotAnAttempt: a limiter that refuses keeps its cause,
// sends nothing and is not retried.
func TestLimiterRefusalIsNotAnAttempt(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	refused := errors.New("shared budget unavailable")
	c := srv.Client(sendivent.WithLimiter(limiterFunc(func(context.Context) error { return refused })))
	_, err := hostileSend(context.Background(), c)
	require.ErrorIs(t, err, refused)
	var te *sendivent.TransportError
	require.ErrorAs(t, err, &te)
	assert.Empty(t, te.Attempts)
	assert.Empty(t, srv.Requests(sendiventtest.EndpointAll))
}

type limiterFunc func(context.Context) error

func (f limiterFunc) Wait(ctx context.Context) error { return f(ctx) }
