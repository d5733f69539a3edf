package webhook_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

func TestMemoryDeduper(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	type step struct {
		op   string // claim; complete or release: the key's last lease
		key  string
		want webhook.ClaimResult // for claim
	}
	tests := []struct {
		name  string
		steps []step
		len   int
	}{
		{"claim, claim again, complete, claim", []step{
			{"claim", "a", webhook.Acquired}, {"claim", "a", webhook.InProgress},
			{"complete", "a", 0}, {"claim", "a", webhook.AlreadyDone},
		}, 1},
		{"a released claim can be claimed again", []step{
			{"claim", "a", webhook.Acquired}, {"release", "a", 0}, {"claim", "a", webhook.Acquired},
		}, 1},
		{"release after complete does nothing", []step{
			{"claim", "a", webhook.Acquired}, {"complete", "a", 0}, {"release", "a", 0}, {"claim", "a", webhook.AlreadyDone},
		}, 1},
		{"complete after release does nothing", []step{
			{"claim", "a", webhook.Acquired}, {"release", "a", 0}, {"complete", "a", 0}, {"claim", "a", webhook.Acquired},
		}, 1},
		{"complete twice", []step{
			{"claim", "a", webhook.Acquired}, {"complete", "a", 0}, {"complete", "a", 0}, {"claim", "a", webhook.AlreadyDone},
		}, 1},
		{"an old lease's release leaves a new claim alone", []step{
			{"claim", "a", webhook.Acquired}, {"release", "a", 0}, {"claim", "a", webhook.Acquired},
			{"old release", "a", 0}, {"claim", "a", webhook.InProgress},
		}, 1},
		{"keys are independent", []step{
			{"claim", "a", webhook.Acquired}, {"claim", "b", webhook.Acquired}, {"complete", "b", 0},
			{"claim", "a", webhook.InProgress}, {"claim", "b", webhook.AlreadyDone},
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var d webhook.MemoryDeduper // the zero value works
			leases := map[string][]webhook.Lease{}
			for i, s := range tt.steps {
				switch s.op {
				case "claim":
					got, lease, err := d.Claim(ctx, s.key)
					require.NoError(t, err)
					assert.Equal(t, s.want, got, "step %d", i)
					assert.Equal(t, got == webhook.Acquired, lease != nil, "a lease with Acquired only")
					if lease != nil {
						leases[s.key] = append(leases[s.key], lease)
					}
				case "complete":
					ls := leases[s.key]
					require.NoError(t, ls[len(ls)-1].Complete(ctx))
				case "release":
					ls := leases[s.key]
					require.NoError(t, ls[len(ls)-1].Release(ctx))
				case "old release":
					require.NoError(t, leases[s.key][0].Release(ctx))
				}
			}
			assert.Equal(t, tt.len, d.Len())
		})
	}
}

// It remembers at most size done events, forgetting the oldest first;
// events in progress are not forgotten.
func TestMemoryDeduperSize(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := webhook.NewMemoryDeduper(3, 0)
	res, _, _ := d.Claim(ctx, "in progress")
	require.Equal(t, webhook.Acquired, res)
	for i := range 10 {
		_, lease, err := d.Claim(ctx, strconv.Itoa(i))
		require.NoError(t, err)
		require.NoError(t, lease.Complete(ctx))
	}
	assert.Equal(t, 4, d.Len())
	for i, want := range []webhook.ClaimResult{webhook.Acquired, webhook.AlreadyDone} {
		key := strconv.Itoa(6 + 3*i) // 6 was forgotten, 9 is remembered
		got, _, err := d.Claim(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, want, got, key)
	}
	res, _, _ = d.Claim(ctx, "in progress")
	assert.Equal(t, webhook.InProgress, res)
}

// Of many concurrent claims of one key, exactly one wins.
func TestMemoryDeduperConcurrentClaims(t *testing.T) {
	t.Parallel()
	d := webhook.NewMemoryDeduper(10, 0)
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, _, err := d.Claim(context.Background(), "k")
			assert.NoError(t, err)
			if res == webhook.Acquired {
				won.Add(1)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(1), won.Load())
}
