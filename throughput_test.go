package sendivent_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

func batchItems(n int) []sendivent.BatchItem {
	items := make([]sendivent.BatchItem, n)
	for i := range items {
		items[i] = sendivent.BatchItem{Event: "digest", Request: sendivent.SendRequest{
			To:      []sendivent.Recipient{sendivent.Contact{ID: fmt.Sprintf("user-%d", i), Email: fmt.Sprintf("user%d@example.com", i)}},
			Payload: sendivent.Payload{"week": 48},
		}}
	}
	return items
}

type throughput struct {
	rate                     float64 // accepted sends a second
	accepted, failed, got429 int
	requests                 int
	elapsed                  time.Duration
}

func runBatch(t *testing.T, items int, clientLimit bool) throughput {
	srv := sendiventtest.NewServer(sendiventtest.WithServerRateLimit(200), sendiventtest.WithManualLifecycle())
	defer srv.Close()
	opts := []sendivent.Option{}
	if clientLimit {
		opts = append(opts, sendivent.WithRateLimit(200, 1))
	}
	c := srv.Client(opts...)
	start := time.Now()
	results, err := c.SendBatch(context.Background(), batchItems(items), sendivent.BatchConcurrency(16))
	elapsed := time.Since(start)
	var be *sendivent.BatchError
	if err != nil {
		require.ErrorAs(t, err, &be)
	}
	tp := throughput{elapsed: elapsed, got429: srv.Stats().ByStatus[429], requests: len(srv.Requests())}
	for _, r := range results {
		if r.Err == nil {
			tp.accepted++
		} else {
			assert.True(t, errors.Is(r.Err, sendivent.ErrRateLimited), "only rate limiting may fail: %v", r.Err)
			tp.failed++
		}
	}
	tp.rate = float64(tp.accepted) / elapsed.Seconds()
	return tp
}

// TestBatchThroughputUnderRateLimit sends 2,000 items through a fake that
// allows 200 requests a second. With the client paced at the same rate it
// keeps the service busy without a single 429; without pacing it shows what
// the 429s cost. SENDIVENT_THROUGHPUT_UNPACED=1 also runs the unpaced case.
func TestBatchThroughputUnderRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 10 s")
	}
	// Not parallel: a throughput figure is only worth something measured alone.
	paced := runBatch(t, 2000, true)
	t.Logf("paced at 200/s: %d accepted in %v = %.1f/s, %d requests, %d answered 429",
		paced.accepted, paced.elapsed.Round(time.Millisecond), paced.rate, paced.requests, paced.got429)
	assert.Equal(t, 2000, paced.accepted)
	assert.Zero(t, paced.got429, "pacing avoids every 429")
	assert.GreaterOrEqual(t, paced.rate, 0.95*200, "at least 95% of the allowed rate")

	if os.Getenv("SENDIVENT_THROUGHPUT_UNPACED") == "" {
		return
	}
	unpaced := runBatch(t, 2000, false)
	t.Logf("unpaced: %d accepted, %d failed in %v = %.1f/s, %d requests (%d retries), %d answered 429",
		unpaced.accepted, unpaced.failed, unpaced.elapsed.Round(time.Millisecond), unpaced.rate,
		unpaced.requests, unpaced.requests-2000, unpaced.got429)
}
