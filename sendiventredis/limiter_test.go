package sendiventredis_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventredis"
)

var _ sendivent.Limiter = (*sendiventredis.Limiter)(nil)

const secretKey = "live_Sup3rSecretKeyThatMustNeverShow"

// newLimiter makes a limiter on rs with its log captured.
func newLimiter(t *testing.T, rdb redis.UniversalClient, rps float64, burst int, opts ...sendiventredis.LimiterOption) (*sendiventredis.Limiter, *logCapture) {
	t.Helper()
	logs := newLogCapture(nil)
	opts = append([]sendiventredis.LimiterOption{sendiventredis.WithLogger(slog.New(logs))}, opts...)
	l, err := sendiventredis.NewLimiter(rdb, sendiventredis.KeyFor(secretKey+t.Name()), rps, burst, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l, logs
}

// waitAll runs n Waits from goroutines goroutines and returns how long they
// took in all; any error fails t.
func waitAll(t *testing.T, ls []*sendiventredis.Limiter, n, goroutines int) time.Duration {
	t.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := ls[g%len(ls)].Wait(context.Background()); err != nil {
					t.Errorf("Wait: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start)
}

func TestPacing(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	tests := []struct {
		name       string
		rps        float64
		burst      int
		n, limiter int // waits; limiters sharing the key (each its own Redis client)
	}{
		{"whole rps, one limiter", 50, 1, 51, 1},
		{"whole rps, three limiters share it", 50, 5, 55, 3},
		{"fractional rps", 2.5, 1, 5, 2},
		{"rps under 1", 0.75, 2, 4, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ls []*sendiventredis.Limiter
			for range tc.limiter {
				l, _ := newLimiter(t, rs.Client(), tc.rps, tc.burst)
				ls = append(ls, l)
			}
			// The burst goes at once, each later Wait one interval after
			// the one before.
			want := time.Duration(float64(tc.n-tc.burst) / tc.rps * float64(time.Second))
			got := waitAll(t, ls, tc.n, 4*tc.limiter)
			t.Logf("%d waits at %v/s, burst %d: %v (ideal %v)", tc.n, tc.rps, tc.burst, got, want)
			if got < want*95/100 {
				t.Errorf("%d waits took %v; pacing at %v/s needs at least %v", tc.n, got, tc.rps, want)
			}
			if got > want*2+time.Second {
				t.Errorf("%d waits took %v; want about %v", tc.n, got, want)
			}
		})
	}
}

func TestWaitAndTheContext(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)

	t.Run("a slot after the deadline fails at once", func(t *testing.T) {
		t.Parallel()
		l, _ := newLimiter(t, rs.Client(), 1, 1) // a slot a second
		first := time.Now()
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		err := l.Wait(ctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v; want an error matching context.DeadlineExceeded", err)
		}
		if ctx.Err() != nil {
			t.Error("Wait returned only at the deadline; want at once")
		}
		// The refused Wait took no slot: the next one is due a second after
		// the first, not two.
		time.Sleep(time.Until(first.Add(1050 * time.Millisecond)))
		start := time.Now()
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Errorf("Wait after a refusal took %v; the refusal used a slot", d)
		}
	})
	t.Run("canceled during the wait", func(t *testing.T) {
		t.Parallel()
		l, _ := newLimiter(t, rs.Client(), 0.5, 1) // a slot every 2 s
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		start := time.Now()
		if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait = %v; want context.Canceled", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Wait returned %v after the cancel; want promptly", d)
		}
	})
	t.Run("queued behind another Wait until the deadline", func(t *testing.T) {
		t.Parallel()
		l, _ := newLimiter(t, rs.Client(), 0.5, 1)
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		hold, stop := context.WithCancel(context.Background())
		t.Cleanup(stop)
		go func() { _ = l.Wait(hold) }() // holds the line for 2 s
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Wait = %v; want context.DeadlineExceeded", err)
		}
	})
	t.Run("an ended context asks nothing", func(t *testing.T) {
		t.Parallel()
		stopped := startRedis(t)
		stopped.Stop()
		l, logs := newLimiter(t, stopped.Client(), 10, 1)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := l.Wait(ctx); err != context.Canceled {
			t.Fatalf("Wait = %v; want context.Canceled", err)
		}
		if logs.count(slog.LevelWarn, msgOutage) != 0 {
			t.Error("an ended context was taken for an outage")
		}
	})
}

func waitUntil(t *testing.T, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
