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
	now := Real{}.Now()
	assert.False(t, now.Before(before))
}

func TestRealSleep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	start := time.Now()
	require.NoError(t, Real{}.Sleep(ctx, 5*time.Millisecond))
	assert.GreaterOrEqual(t, time.Since(start), 5*time.Millisecond)
	require.NoError(t, Real{}.Sleep(ctx, 0))
	require.NoError(t, Real{}.Sleep(ctx, -time.Second))
}

func TestRealSleepEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(10*time.Millisecond, cancel)
	start := time.Now()
	err := Real{}.Sleep(ctx, time.Hour)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), time.Second)

	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer dcancel()
	assert.ErrorIs(t, Real{}.Sleep(dctx, time.Hour), context.DeadlineExceeded)

	done, stop := context.WithCancel(context.Background())
	stop()
	assert.ErrorIs(t, Real{}.Sleep(done, 0), context.Canceled, "a zero sleep still reports an ended context")
}

func TestFake(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	f := NewFake(start)
	assert.Equal(t, start, f.Now())

	var hooked []time.Duration
	f.OnSleep = func(d time.Duration) {
		hooked = append(hooked, d)
		_ = f.Now() // the clock is unlocked in the hook
	}
	ctx := context.Background()
	require.NoError(t, f.Sleep(ctx, time.Second))
	require.NoError(t, f.Sleep(ctx, 0))
	require.NoError(t, f.Sleep(ctx, -time.Second))
	require.NoError(t, f.Sleep(ctx, 2*time.Second))
	assert.Equal(t, start.Add(3*time.Second), f.Now())
	assert.Equal(t, []time.Duration{time.Second, 0, -time.Second, 2 * time.Second}, f.Sleeps())
	assert.Equal(t, f.Sleeps(), hooked)

	f.Advance(time.Minute)
	assert.Equal(t, start.Add(time.Minute+3*time.Second), f.Now())
	assert.Len(t, f.Sleeps(), 4, "Advance is not a sleep")

	s := f.Sleeps()
	s[0] = time.Hour
	assert.Equal(t, time.Second, f.Sleeps()[0], "Sleeps returns a copy")

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, f.Sleep(cctx, time.Second), context.Canceled)
	assert.Len(t, f.Sleeps(), 4, "a sleep on an ended context is not recorded")
	assert.Equal(t, start.Add(time.Minute+3*time.Second), f.Now())

	// A hook that cancels the context makes that sleep report it.
	hctx, hcancel := context.WithCancel(ctx)
	g := NewFake(start)
	g.OnSleep = func(time.Duration) { hcancel() }
	assert.ErrorIs(t, g.Sleep(hctx, time.Second), context.Canceled)
}

func TestFakeZeroValueAndConcurrency(t *testing.T) {
	t.Parallel()
	var f Fake
	assert.True(t, f.Now().IsZero())
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				_ = f.Sleep(context.Background(), time.Millisecond)
				_ = f.Now()
			}
		}()
	}
	wg.Wait()
	assert.Len(t, f.Sleeps(), 800)
	assert.Equal(t, time.Time{}.Add(800*time.Millisecond), f.Now())
}

var _ Clock = Real{}
var _ Clock = (*Fake)(nil)
