package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// A done event is forgotten after the ttl; one in progress is not.
func TestMemoryDeduperTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := time.Unix(1774872000, 0)
	d := NewMemoryDeduper(0, time.Hour)
	d.now = func() time.Time { return clock }

	complete := func(key string) {
		_, lease, _ := d.Claim(ctx, key)
		lease.Complete(ctx)
	}
	d.Claim(ctx, "running")
	complete("old")
	clock = clock.Add(30 * time.Minute)
	complete("young")
	clock = clock.Add(30*time.Minute - time.Nanosecond)
	res, _, _ := d.Claim(ctx, "old")
	assert.Equal(t, AlreadyDone, res, "just under the ttl")

	clock = clock.Add(time.Nanosecond)
	res, _, _ = d.Claim(ctx, "old")
	assert.Equal(t, Acquired, res, "at the ttl")
	res, _, _ = d.Claim(ctx, "young")
	assert.Equal(t, AlreadyDone, res)

	clock = clock.Add(24 * time.Hour)
	res, _, _ = d.Claim(ctx, "running")
	assert.Equal(t, InProgress, res, "a claim is held until completed or released")
	assert.Equal(t, 2, d.Len(), "running and old (claimed again)")
}
