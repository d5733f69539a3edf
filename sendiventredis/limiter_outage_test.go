package sendiventredis_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sendivent/sendivent-go/sendiventredis"
)

func TestFailClosed(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	l, logs := newLimiter(t, rs.Client(), 1000, 10, sendiventredis.WithProbeInterval(100*time.Millisecond))
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs.Stop()
	for i := range 50 {
		err := l.Wait(context.Background())
		if !errors.Is(err, sendiventredis.ErrUnavailable) {
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
	l, logs := newLimiter(t, rs.Client(), 40, 4, sendiventredis.FailOpen(4),
		sendiventredis.WithProbeInterval(time.Hour))
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs.Stop()
	got := waitAll(t, []*sendiventredis.Limiter{l}, 11, 4) // burst 1, then 10 at 10/s
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
	l, logs := newLimiter(t, rs.Client(), 1000, 10, sendiventredis.FailOpen(2),
		sendiventredis.WithProbeInterval(50*time.Millisecond))
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
	l, _ := newLimiter(t, rdb, 1e5, 100, sendiventredis.FailOpen(1), sendiventredis.WithProbeInterval(time.Hour))
	rs.Stop()
	waitAll(t, []*sendiventredis.Limiter{l}, 500, 8)
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
	key := sendiventredis.KeyFor(secretKey + t.Name())
	if err := rdb.HSet(context.Background(), "rate:"+key, "f", "v").Err(); err != nil {
		t.Fatal(err)
	}
	l, err := sendiventredis.NewLimiter(rdb, key, 10, 1, sendiventredis.WithLogger(nil))
	if err != nil {
		t.Fatal(err)
	}
	err = l.Wait(context.Background())
	if !errors.Is(err, sendiventredis.ErrUnavailable) || !strings.Contains(err.Error(), "WRONGTYPE") {
		t.Errorf("Wait = %v; want ErrUnavailable with Redis's WRONGTYPE", err)
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
