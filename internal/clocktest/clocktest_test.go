package clocktest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/internal/clock"
)

var _ clock.Clock = (*Fake)(nil)

func TestFakeWaitsNoRealTime(t *testing.T) {
	t.Parallel()
	f := NewFake(time.Time{})
	assert.Zero(t, f.Wait(time.Second))
	done, stop := context.WithCancel(context.Background())
	stop()
	assert.ErrorIs(t, clock.Sleep(done, f, time.Second), context.Canceled)
	assert.Equal(t, []time.Duration{time.Second}, f.Sleeps(), "an ended context waits for nothing more")
}

func TestFake(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	f := NewFake(start)
	var hooked []time.Duration
	f.OnSleep = func(d time.Duration) { hooked = append(hooked, d) }
	require.NoError(t, clock.Sleep(context.Background(), f, 2*time.Second))
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
