package clock

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRealNow(t *testing.T) {
	t.Parallel()
	before := time.Now()
	assert.False(t, Real{}.Now().Before(before))
	assert.False(t, Scaled{}.Now().Before(before))
}

func TestWaitDurations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		k    Clock
		d    time.Duration
		want time.Duration
	}{
		{"real", Real{}, time.Second, time.Second},
		{"scaled", Scaled{Factor: 1000}, time.Second, time.Millisecond},
		{"scaled without a factor", Scaled{}, time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.k.Wait(tt.d))
		})
	}
}

func TestSleep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Now()
	require.NoError(t, Sleep(ctx, Real{}, 5*time.Millisecond))
	assert.GreaterOrEqual(t, time.Since(start), 5*time.Millisecond)
	require.NoError(t, Sleep(ctx, Real{}, 0))
	require.NoError(t, Sleep(ctx, Real{}, -time.Second))

	start = time.Now()
	require.NoError(t, Sleep(ctx, Scaled{Factor: 1e6}, time.Hour))
	assert.Less(t, time.Since(start), time.Second, "an hour at a millionth is 3.6 ms")
}

func TestSleepEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	start := time.Now()
	assert.ErrorIs(t, Sleep(ctx, Real{}, time.Hour), context.Canceled)
	assert.Less(t, time.Since(start), time.Second)

	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer dcancel()
	assert.ErrorIs(t, Sleep(dctx, Real{}, time.Hour), context.DeadlineExceeded)

	done, stop := context.WithCancel(context.Background())
	stop()
	assert.ErrorIs(t, Sleep(done, Real{}, 0), context.Canceled, "a zero sleep still reports an ended context")
}
