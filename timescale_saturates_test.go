package sendivent_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go"
)

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
