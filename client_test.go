package sendivent_test

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

	"github.com/sendivent/sendivent-go"
)

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

// TestAttackNilReceivers: calls on a nil Client, through the builder, and
// on a nil builder. Property: an error of one of the five documented types
// ("A call's error is one of five types"), no panic.
func TestAttackNilReceivers(t *testing.T) {
	t.Parallel()
	var c *sendivent.Client
	_, err := atkCall(t, time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	atkTyped(t, err)
	var b *sendivent.EventBuilder
	_, err = atkCall(t, time.Second, func(ctx context.Context) error { _, err := b.Send(ctx); return err })
	atkTyped(t, err)
}

// TestTimeScaleBelowOneWaitsLonger: WithTimeScale(f) with f < 1 makes the
// client's waits longer, never shorter. A wait longer than a Duration
// holds (1 s at 1e-12) wrapped to a negative one, and the client retried
// at once, as if the server had not asked it to wait.
func TestTimeScaleBelowOneWaitsLonger(t *testing.T) {
	t.Parallel()
	for _, factor := range []float64{1e-12, 1e-300, 5e-324} {
		var attempts atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			attempts.Add(1)
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
		}))
		c, err := sendivent.NewClient("test_TimeScale0123456789", sendivent.WithBaseURL(srv.URL), sendivent.WithTimeScale(factor))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(200*time.Millisecond, cancel) // no deadline: the wait is not weighed against one
		_, err = c.Event("welcome").To(sendivent.Address("ann@example.com")).Send(ctx)
		cancel()
		srv.Close()
		if !errors.Is(err, context.Canceled) || attempts.Load() != 1 {
			t.Errorf("factor %g: %d attempts, %v; want 1 attempt, then the wait until the cancel", factor, attempts.Load(), err)
		}
	}
}
