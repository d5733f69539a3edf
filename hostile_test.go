package sendivent_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

const hostileAccepted = `{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`

func hostileSend(ctx context.Context, c *sendivent.Client) (*sendivent.SendResponse, error) {
	return c.Send(ctx, "welcome", sendivent.SendRequest{
		To: []sendivent.Recipient{sendivent.Address("alice@example.com")},
	})
}

// TestHostileHugeBody: a 2xx answer of 100 MB, streamed without end, is cut
// at the size cap with ErrTooLarge, and reading it costs about the cap, not
// the body. Not parallel, so that the allocation count is this call's.
func TestHostileHugeBody(t *testing.T) {
	const total = 100 << 20
	var written atomic.Int64
	done := make(chan struct{}, 2)
	chunk := []byte(strings.Repeat("a", 64<<10))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() { done <- struct{}{} }()
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"id":"`)
		for written.Load() < total {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return // the client hung up
			}
		}
	}))
	defer srv.Close()
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL))
	require.NoError(t, err)

	// Warm up the connection path so its one-time allocations do not count.
	_, _ = c.GetNotification(context.Background(), "warm-up")
	<-done
	written.Store(0)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	_, err = hostileSend(context.Background(), c)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	<-done

	require.Error(t, err)
	assert.ErrorIs(t, err, sendivent.ErrTooLarge)
	var te *sendivent.TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, http.StatusOK, te.StatusCode)
	assert.Len(t, te.Attempts, 1, "a body over the cap is not retried")
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("100 MB body: %v after %d MB written by the server, %.1f MB allocated, %v", err, written.Load()>>20, float64(alloc)/(1<<20), elapsed)
	limit := uint64(8 << 20) // about 4 MB are needed: the buffer doubles up to the 1 MiB cap
	if raceEnabled() {
		limit *= 2 // the race detector's allocator pads every allocation
	}
	assert.Less(t, alloc, limit, "bytes allocated while refusing a 100 MB body")
	assert.Less(t, written.Load(), int64(total), "the client stopped reading before the end")
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// TestHostileNeverAnswers: a server that takes the request and never answers
// is bounded by the per-attempt timeout.
func TestHostileNeverAnswers(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer srv.Close()
	defer close(release)
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL),
		sendivent.WithTimeout(100*time.Millisecond), sendivent.WithMaxRetries(0))
	require.NoError(t, err)

	start := time.Now()
	_, err = hostileSend(context.Background(), c)
	elapsed := time.Since(start)
	require.Error(t, err)
	t.Logf("never answers: %v after %v", err, elapsed)
	assert.Less(t, elapsed, time.Second)
	var te *sendivent.TransportError
	require.ErrorAs(t, err, &te)
	assert.Zero(t, te.StatusCode)
	var ne net.Error
	require.ErrorAs(t, err, &ne, "the cause is a net.Error")
	assert.True(t, ne.Timeout(), "the cause is a time-out: %v", ne)
}

// TestHostileRetryAfter: absurd Retry-After values neither hang nor panic. A
// wait too long to honour is returned, not waited; one that cannot be read
// falls back to the backoff (0.5 s less up to 25% jitter for the first).
func TestHostileRetryAfter(t *testing.T) {
	t.Parallel()
	year := 365 * 24 * time.Hour
	tests := []struct {
		name, after string
		// wantAfter > 0: returned at once with this RetryAfter (± a minute);
		// 0: the backoff was waited, then the second answer returned.
		wantAfter time.Duration
	}{
		{"a year in seconds", "31536000", year},
		{"a year as an HTTP date", time.Now().Add(year).UTC().Format(http.TimeFormat), year},
		{"beyond int64 nanoseconds", "1e30", 100 * year},
		{"negative", "-5", 0},
		{"garbage", "garbage", 0},
		{"NaN", "NaN", 0},
		{"overflowing float", "1e400", 100 * year},
		{"blank", "   ", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				calls.Add(1)
				w.Header().Set("Retry-After", tt.after)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, `{"error":"unavailable"}`)
			}))
			defer srv.Close()
			// The backoff recorded is the client's decision; WithTimeScale
			// only shortens its wait on the wall clock.
			c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL), sendivent.WithMaxRetries(1),
				sendivent.WithTimeScale(100))
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()

			start := time.Now()
			_, err = hostileSend(ctx, c)
			elapsed := time.Since(start)
			var ae *sendivent.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, http.StatusServiceUnavailable, ae.StatusCode)
			if tt.wantAfter > 0 {
				assert.Less(t, elapsed, time.Second, "not waited")
				assert.Len(t, ae.Attempts, 1)
				assert.InDelta(t, float64(tt.wantAfter), float64(ae.RetryAfter), float64(time.Minute), "RetryAfter %v", ae.RetryAfter)
				assert.EqualValues(t, 1, calls.Load())
				return
			}
			require.Len(t, ae.Attempts, 2, "retried once")
			assert.EqualValues(t, 2, calls.Load())
			w := ae.Attempts[0].Wait
			assert.True(t, w >= 375*time.Millisecond && w <= 500*time.Millisecond, "backoff %v", w)
			assert.Less(t, elapsed, 1500*time.Millisecond)
			assert.GreaterOrEqual(t, ae.RetryAfter, time.Duration(0))
		})
	}
}

// TestHostileRetryAfterPastDeadline: a readable Retry-After that would pass
// the context's deadline is not started: the error comes back at once.
func TestHostileRetryAfterPastDeadline(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Retry-After", "garbage")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL), sendivent.WithMaxRetries(1))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = hostileSend(ctx, c)
	assert.Less(t, time.Since(start), 150*time.Millisecond)
	var ae *sendivent.APIError
	require.ErrorAs(t, err, &ae)
	assert.Len(t, ae.Attempts, 1)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, sendivent.ErrServer)
}

// authRecorder is a server that records the Authorization header of every
// request it gets and accepts the send.
type authRecorder struct {
	*httptest.Server
	mu   sync.Mutex
	auth []string
}

func newAuthRecorder(t *testing.T) *authRecorder {
	ar := &authRecorder{}
	ar.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		ar.mu.Lock()
		ar.auth = append(ar.auth, r.Header.Get("Authorization"))
		ar.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, hostileAccepted)
	}))
	t.Cleanup(ar.Close)
	return ar
}

func (ar *authRecorder) seen() []string {
	ar.mu.Lock()
	defer ar.mu.Unlock()
	return append([]string(nil), ar.auth...)
}

// TestHostileRedirectKeepsKey: a 307 to another host never carries the key.
func TestHostileRedirectKeepsKey(t *testing.T) {
	t.Parallel()
	const key = "test_redirectsecret"
	tests := []struct {
		name string
		// target returns the redirect's host:port for the second server,
		// and the client options that can reach it there.
		target func(t *testing.T, second *authRecorder) (string, []sendivent.Option)
	}{
		{"another host name", func(t *testing.T, second *authRecorder) (string, []sendivent.Option) {
			_, port, err := net.SplitHostPort(second.Listener.Addr().String())
			require.NoError(t, err)
			return "localhost:" + port, nil
		}},
		{"another domain", func(t *testing.T, second *authRecorder) (string, []sendivent.Option) {
			addr := second.Listener.Addr().String()
			tr := &http.Transport{DialContext: func(ctx context.Context, network, a string) (net.Conn, error) {
				if a == "attacker.example:80" {
					a = addr
				}
				return (&net.Dialer{}).DialContext(ctx, network, a)
			}}
			t.Cleanup(tr.CloseIdleConnections)
			return "attacker.example", []sendivent.Option{sendivent.WithHTTPClient(&http.Client{Transport: tr})}
		}},
		{"same host, another port", func(t *testing.T, second *authRecorder) (string, []sendivent.Option) {
			return second.Listener.Addr().String(), nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			second := newAuthRecorder(t)
			target, opts := tt.target(t, second)
			var firstAuth atomic.Value
			first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				firstAuth.Store(r.Header.Get("Authorization"))
				http.Redirect(w, r, "http://"+target+r.URL.Path, http.StatusTemporaryRedirect)
			}))
			defer first.Close()
			c, err := sendivent.NewClient(key, append([]sendivent.Option{sendivent.WithBaseURL(first.URL), sendivent.WithMaxRetries(0)}, opts...)...)
			require.NoError(t, err)
			_, err = hostileSend(context.Background(), c)
			assert.Equal(t, "Bearer "+key, firstAuth.Load(), "the first server is the configured one")
			seen := second.seen()
			t.Logf("307 to %s: err=%v, second server saw %d requests", target, err, len(seen))
			for _, a := range seen {
				assert.Empty(t, a, "Authorization sent to the redirect's target")
			}
		})
	}
}

// TestHostileIdempotencyKeyHeaderInjection: CR, LF and other control
// characters in a caller's key are refused before anything is sent.
func TestHostileIdempotencyKeyHeaderInjection(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	defer srv.Close()
	c := srv.Client()
	for _, key := range []string{
		"order-42\r\nAuthorization: Bearer other",
		"order-42\nX-Evil: 1",
		"order-42\r",
		"order\x00-42",
		"order\t42",
		"order\x7f42",
		strings.Repeat("k", 256),
	} {
		_, err := c.Send(context.Background(), "welcome", sendivent.SendRequest{
			To:             []sendivent.Recipient{sendivent.Address("alice@example.com")},
			IdempotencyKey: key,
		})
		var ve *sendivent.ValidationError
		require.ErrorAs(t, err, &ve, "key %q", key)
		assert.Equal(t, "idempotency_key", ve.Field)
		assert.True(t, errors.Is(err, sendivent.ErrValidation))
	}
	assert.Zero(t, srv.Stats().Requests, "requests reached the server")
}
