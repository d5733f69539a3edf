package clock

import (
	"context"
	"sync"
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
		{"fake", NewFake(time.Time{}), time.Second, 0},
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
	f := NewFake(time.Time{})
	assert.ErrorIs(t, Sleep(done, f, time.Second), context.Canceled)
	assert.Empty(t, f.Sleeps(), "an ended context waits for nothing")
}

func TestFake(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	f := NewFake(start)
	var hooked []time.Duration
	f.OnSleep = func(d time.Duration) { hooked = append(hooked, d) }
	require.NoError(t, Sleep(context.Background(), f, 2*time.Second))
	f.Advance(time.Minute)
	assert.Zero(t, f.Wait(-time.Second), "a negative wait is recorded but moves nothing")
	assert.Equal(t, start.Add(time.Minute+2*time.Second), f.Now())
	assert.Equal(t, []time.Duration{2 * time.Second, -time.Second}, f.Sleeps())
	assert.Equal(t, f.Sleeps(), hooked)
}

func TestFakeConcurrent(t *testing.T) {
	t.Parallel()
	f := NewFake(time.Time{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 100; j++ {
				f.Wait(time.Millisecond)
				_ = f.Now()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, f.Sleeps(), 800)
	assert.Equal(t, time.Time{}.Add(800*time.Millisecond), f.Now())
}
