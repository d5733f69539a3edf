package retry

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestReviewRetryAfterJitterFitsTheDeadline: a Retry-After that fits
// before the deadline is refused when its jitter alone pushes it past the
// deadline, so the same answer is retried or not at random. The jitter
// could be trimmed to the room left (never under the Retry-After).
func TestRetryAfterJitterFitsTheDeadline(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	p := Plan{MaxRetries: 2, MaxRetryWait: 30 * time.Second, Now: now, Deadline: now.Add(1100 * time.Millisecond), Jitter: 0.9}
	d := Decide(Failure{Status: 429, HasRetryAfter: true, RetryAfter: time.Second}, p)
	assert.True(t, d.Retry, "the second asked for fits before the deadline: %+v", d)
	assert.GreaterOrEqual(t, d.Wait, time.Second)
	assert.Less(t, d.Wait, 1100*time.Millisecond)
}
