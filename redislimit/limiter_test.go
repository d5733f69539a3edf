package redislimit_test

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/redislimit"
)

var _ sendivent.Limiter = (*redislimit.Limiter)(nil)

const secretKey = "live_Sup3rSecretKeyThatMustNeverShow"

func TestNewRejectsBadArguments(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never contacted
	t.Cleanup(func() { _ = rdb.Close() })
	var nilClient *redis.Client
	key := redislimit.KeyFor(secretKey)
	tests := []struct {
		name  string
		rdb   redis.UniversalClient
		key   string
		rps   float64
		burst int
		opts  []redislimit.Option
		want  string
	}{
		{"nil client", nil, key, 10, 1, nil, "nil Redis client"},
		{"typed nil client", nilClient, key, 10, 1, nil, "nil Redis client"},
		{"empty key", rdb, "", 10, 1, nil, "empty key"},
		{"live API key as key", rdb, secretKey, 10, 1, nil, "looks like an API key"},
		{"test API key as key", rdb, "test_abc", 10, 1, nil, "looks like an API key"},
		{"zero rps", rdb, key, 0, 1, nil, "rps 0 is outside"},
		{"negative rps", rdb, key, -5, 1, nil, "rps -5 is outside"},
		{"NaN rps", rdb, key, math.NaN(), 1, nil, "rps NaN is outside"},
		{"infinite rps", rdb, key, math.Inf(1), 1, nil, "rps +Inf is outside"},
		{"rps under one a day", rdb, key, 1.0 / 100000, 1, nil, "is outside"},
		{"rps over a million", rdb, key, 2e6, 1, nil, "is outside"},
		{"zero burst", rdb, key, 10, 0, nil, "burst 0 is less than 1"},
		{"negative burst", rdb, key, 10, -1, nil, "burst -1 is less than 1"},
		{"zero replicas", rdb, key, 10, 1, []redislimit.Option{redislimit.FailOpen(0)}, "FailOpen(0)"},
		{"zero probe interval", rdb, key, 10, 1, []redislimit.Option{redislimit.WithProbeInterval(0)}, "WithProbeInterval: 0s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := redislimit.New(tc.rdb, tc.key, tc.rps, tc.burst, tc.opts...)
			if err == nil || l != nil {
				t.Fatalf("New = %v, %v; want an error", l, err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "redislimit.New: ") {
				t.Errorf("error %q; want it to start with redislimit.New: and say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "Sup3rSecret") || strings.Contains(err.Error(), "test_abc") {
				t.Errorf("error %q shows the API key", err)
			}
		})
	}

	t.Run("every error at once", func(t *testing.T) {
		t.Parallel()
		_, err := redislimit.New(nil, "", 0, 0)
		for _, want := range []string{"nil Redis client", "empty key", "rps 0", "burst 0"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v; want it to say %q", err, want)
			}
		}
	})
	t.Run("good arguments", func(t *testing.T) {
		t.Parallel()
		for _, rps := range []float64{redislimit.MinRPS, 0.5, 2.5, 10, 100, redislimit.MaxRPS} {
			if _, err := redislimit.New(rdb, key, rps, 1, redislimit.FailOpen(3), redislimit.WithLogger(nil)); err != nil {
				t.Errorf("New(rps %v): %v", rps, err)
			}
		}
	})
}

func TestKeyFor(t *testing.T) {
	t.Parallel()
	k := redislimit.KeyFor(secretKey)
	// Pinned: processes running different versions must agree on the key.
	if want := "sendivent:ratelimit:66a03e0646e480badfe0cc8bf7a4877a"; k != want {
		t.Errorf("KeyFor = %q; want %q", k, want)
	}
	if k != redislimit.KeyFor(secretKey) {
		t.Error("KeyFor is not deterministic")
	}
	if strings.Contains(k, "Sup3r") || strings.Contains(k, "live_") {
		t.Errorf("KeyFor = %q contains a piece of the API key", k)
	}
	if other := redislimit.KeyFor(secretKey + "x"); other == k {
		t.Error("two API keys share a Redis key")
	}
	if l := len(k) - len("sendivent:ratelimit:"); l != 32 {
		t.Errorf("hash part has %d hex digits; want 32", l)
	}
}

func TestKeyForReadsTheEnvironment(t *testing.T) { // not parallel: Setenv
	t.Setenv("SENDIVENT_API_KEY", secretKey)
	if got, want := redislimit.KeyFor(""), redislimit.KeyFor(secretKey); got != want {
		t.Errorf("KeyFor(\"\") = %q; want KeyFor($SENDIVENT_API_KEY) = %q", got, want)
	}
}

// newLimiter makes a limiter on rs with its log captured.
func newLimiter(t *testing.T, rdb redis.UniversalClient, rps float64, burst int, opts ...redislimit.Option) (*redislimit.Limiter, *logCapture) {
	t.Helper()
	logs := newLogCapture(nil)
	opts = append([]redislimit.Option{redislimit.WithLogger(slog.New(logs))}, opts...)
	l, err := redislimit.New(rdb, redislimit.KeyFor(secretKey+t.Name()), rps, burst, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l, logs
}

// waitAll runs n Waits from goroutines goroutines and returns how long they
// took in all; any error fails t.
func waitAll(t *testing.T, ls []*redislimit.Limiter, n, goroutines int) time.Duration {
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
			var ls []*redislimit.Limiter
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

func TestFailClosed(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	l, logs := newLimiter(t, rs.Client(), 1000, 10, redislimit.WithProbeInterval(100*time.Millisecond))
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs.Stop()
	for i := range 50 {
		err := l.Wait(context.Background())
		if !errors.Is(err, redislimit.ErrUnavailable) {
			t.Fatalf("Wait %d with Redis stopped = %v; want ErrUnavailable", i, err)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("Wait %d = %v; want Redis's error (connection refused) kept as the cause", i, err)
		}
	}
	if n := logs.count(slog.LevelWarn, msgOutage); n != 1 {
		t.Errorf("outage logged %d times; want once:\n%s", n, logs.text())
	}
	rs.Start()
	waitUntil(t, 5*time.Second, func() bool { return l.Wait(context.Background()) == nil })
	for range 20 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatalf("Wait after recovery: %v", err)
		}
	}
	if n := logs.count(slog.LevelInfo, msgRecovery); n != 1 {
		t.Errorf("recovery logged %d times; want once:\n%s", n, logs.text())
	}
	if n := logs.count(slog.LevelWarn, msgOutage); n != 1 {
		t.Errorf("outage logged %d times in all; want once:\n%s", n, logs.text())
	}
	if text := logs.text(); strings.Contains(text, "Sup3r") || !strings.Contains(text, "sendivent:ratelimit:") {
		t.Errorf("log shows the API key, or not the hashed key:\n%s", text)
	}
}

func TestFailOpen(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	// 40/s shared by an expected 4 replicas: 10/s each alone.
	l, logs := newLimiter(t, rs.Client(), 40, 4, redislimit.FailOpen(4),
		redislimit.WithProbeInterval(time.Hour))
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs.Stop()
	got := waitAll(t, []*redislimit.Limiter{l}, 11, 4) // burst 1, then 10 at 10/s
	t.Logf("11 waits with Redis stopped: %v", got)
	if got < 950*time.Millisecond || got > 3*time.Second {
		t.Errorf("11 waits alone took %v; want about 1 s (10/s)", got)
	}
	if n := logs.count(slog.LevelWarn, msgOutage); n != 1 {
		t.Errorf("outage logged %d times; want once:\n%s", n, logs.text())
	}
	if text := logs.text(); !strings.Contains(text, "rps=10") || !strings.Contains(text, "expected_replicas=4") {
		t.Errorf("outage log does not give the local pace:\n%s", text)
	}

	t.Run("the local pace respects the deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_ = l.Wait(context.Background())
		if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait = %v; want context.DeadlineExceeded", err)
		}
	})
}

func TestFailOpenRecovers(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	l, logs := newLimiter(t, rs.Client(), 1000, 10, redislimit.FailOpen(2),
		redislimit.WithProbeInterval(50*time.Millisecond))
	rs.Stop()
	for range 30 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatalf("Wait failing open = %v", err)
		}
	}
	rs.Start()
	waitUntil(t, 5*time.Second, func() bool {
		_ = l.Wait(context.Background())
		return logs.count(slog.LevelInfo, msgRecovery) > 0
	})
	for range 30 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if o, r := logs.count(slog.LevelWarn, msgOutage), logs.count(slog.LevelInfo, msgRecovery); o != 1 || r != 1 {
		t.Errorf("logged %d outages and %d recoveries; want 1 each:\n%s", o, r, logs.text())
	}
}

// During an outage Redis is asked once per probe interval, not per Wait.
func TestOutageProbesOncePerInterval(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	rdb := rs.Client()
	var calls atomic.Int64
	rdb.AddHook(countHook{&calls})
	l, _ := newLimiter(t, rdb, 1e5, 100, redislimit.FailOpen(1), redislimit.WithProbeInterval(time.Hour))
	rs.Stop()
	waitAll(t, []*redislimit.Limiter{l}, 500, 8)
	if n := calls.Load(); n != 1 {
		t.Errorf("500 Waits during an outage asked Redis %d times; want once", n)
	}
}

// A key that holds something else in Redis is treated as Redis failing,
// with Redis's error as the cause.
func TestKeyOfAnotherType(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	rdb := rs.Client()
	key := redislimit.KeyFor(secretKey + t.Name())
	if err := rdb.HSet(context.Background(), "rate:"+key, "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	l, err := redislimit.New(rdb, key, 10, 1, redislimit.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = l.Wait(context.Background())
	if !errors.Is(err, redislimit.ErrUnavailable) || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("Wait = %v; want ErrUnavailable with Redis's WRONGTYPE", err)
	}
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

type countHook struct{ n *atomic.Int64 }

func (countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
