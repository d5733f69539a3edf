package sendiventredis_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sendivent/sendivent-go/sendiventredis"
)

// Wait ends with its context whatever Redis does: a 100 ms deadline, or a
// cancel at 100 ms, returns at about 100 ms against a Redis that stalls,
// answers half a reply, closes mid-reply, drops connections, answers
// garbage or errors, or is paused with SIGSTOP, with the package doc's
// client options and with go-redis's defaults (it returned after 500 ms
// with the first, 3 s with the second). The bound asserted is 400 ms: what
// is proved is that Wait does not wait for Redis.
func TestWaitEndsWithItsContext(t *testing.T) {
	t.Parallel()
	for _, h := range hostileRedis() {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			addr, breakIt, heal := h.start(t)
			if breakIt != nil {
				breakIt()
			}
			for _, cl := range hostileClients {
				for _, end := range []string{"deadline", "cancel"} {
					rdb := redis.NewClient(cl.opts(addr))
					t.Cleanup(func() { _ = rdb.Close() })
					l, _ := newLimiter(t, rdb, 1000, 10, sendiventredis.WithProbeInterval(50*time.Millisecond))
					for i := range 2 { // the second queues behind the call the first gave up on
						ctx, cancel := endsAt100ms(end)
						start := time.Now()
						err := l.Wait(ctx)
						took := time.Since(start)
						cancel()
						t.Logf("%s, %s, Wait %d: %v after %v", cl.name, end, i, err, took.Round(time.Millisecond))
						if took > 400*time.Millisecond {
							t.Errorf("%s, %s: Wait %d returned after %v; want it to end with its context at 100 ms", cl.name, end, i, took)
						}
						if err == nil {
							t.Errorf("%s, %s: Wait %d = nil; want an error", cl.name, end, i)
						} else if !isCtxErr(err) && !errors.Is(err, sendiventredis.ErrUnavailable) {
							t.Errorf("%s, %s: Wait %d = %v; want the context's error or ErrUnavailable", cl.name, end, i, err)
						}
						if h.stalls() && !isCtxErr(err) && i == 0 {
							t.Errorf("%s, %s: Wait = %v against a Redis that never answers; want the context's error", cl.name, end, err)
						}
					}
				}
			}
			if heal == nil {
				return
			}
			heal()
			rdb := redis.NewClient(clientOptions(addr))
			t.Cleanup(func() { _ = rdb.Close() })
			l, _ := newLimiter(t, rdb, 1000, 10, sendiventredis.WithProbeInterval(50*time.Millisecond))
			waitUntil(t, 15*time.Second, func() bool { return l.Wait(context.Background()) == nil })
		})
	}
}

// A Limiter that Redis stops answering notices the outage from the call a
// Wait gave up on: later Waits follow the failure policy at once instead of
// each waiting out its own deadline.
func TestWaitGivenUpStillSeesTheOutage(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(clientOptions(stallingRedis(t)))
	t.Cleanup(func() { _ = rdb.Close() })
	l, logs := newLimiter(t, rdb, 1000, 10, sendiventredis.WithProbeInterval(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v; want DeadlineExceeded", err)
	}
	// The call goes on to the client's 500 ms timeouts, then fails.
	waitUntil(t, 10*time.Second, func() bool { return logs.count(slog.LevelWarn, msgOutage) > 0 })
	start := time.Now()
	err := l.Wait(context.Background())
	if !errors.Is(err, sendiventredis.ErrUnavailable) {
		t.Errorf("Wait during the outage = %v; want ErrUnavailable at once", err)
	}
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Errorf("Wait during a known outage took %v; want it at once", d)
	}
}

func endsAt100ms(how string) (context.Context, context.CancelFunc) {
	if how == "deadline" {
		return context.WithTimeout(context.Background(), 100*time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	timer := time.AfterFunc(100*time.Millisecond, cancel)
	return ctx, func() { timer.Stop(); cancel() }
}

func isCtxErr(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// A Wait with no deadline against a Redis that never answers ends on the
// client's own timeouts (the package doc's: about 1 s) and follows the
// failure policy.
func TestWaitWithoutDeadlineAgainstAStall(t *testing.T) {
	t.Parallel()
	addr := stallingRedis(t)
	for _, tc := range []struct {
		name string
		opts []sendiventredis.LimiterOption
		want error
	}{
		{"fail closed", nil, sendiventredis.ErrUnavailable},
		{"fail open", []sendiventredis.LimiterOption{sendiventredis.FailOpen(2)}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rdb := redis.NewClient(clientOptions(addr))
			t.Cleanup(func() { _ = rdb.Close() })
			l, _ := newLimiter(t, rdb, 100, 10, append(tc.opts, sendiventredis.WithProbeInterval(time.Hour))...)
			start := time.Now()
			err := l.Wait(context.Background())
			took := time.Since(start)
			t.Logf("Wait = %v after %v", err, took.Round(time.Millisecond))
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("Wait = %v; want %v", err, tc.want)
			}
			if took > 10*time.Second {
				t.Errorf("Wait took %v; the client's timeouts should end it in about 1 s", took)
			}
		})
	}
}
