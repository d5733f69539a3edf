package sendiventredis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"
)

// ErrUnavailable is matched (errors.Is) by the error Wait returns under
// FailClosed while Redis cannot be reached. The error also wraps Redis's
// own error, the cause.
var ErrUnavailable = errors.New("sendiventredis: Redis unavailable")

// keyPrefix namespaces the keys KeyFor makes. redis_rate adds its own
// prefix, "rate:", in front.
const keyPrefix = "sendivent:ratelimit:"

// KeyFor returns the Redis key for apiKey's shared budget:
// "sendivent:ratelimit:" and 32 hex digits, the first 128 bits of SHA-256
// over a fixed label and apiKey. The same API key gives the same key in every
// process and version; the key cannot be recovered from it. An empty apiKey
// reads $SENDIVENT_API_KEY, as sendivent.NewClient does.
func KeyFor(apiKey string) string {
	if apiKey == "" {
		apiKey = os.Getenv("SENDIVENT_API_KEY")
	}
	// The label keeps the module's first name: processes of every version
	// must share one budget.
	sum := sha256.Sum256([]byte("sendivent-go/redislimit\x00" + apiKey))
	return keyPrefix + hex.EncodeToString(sum[:16])
}

// Rate bounds NewLimiter accepts.
const (
	// MaxRPS is the highest rate: one request a microsecond, Redis's clock
	// resolution.
	MaxRPS = 1e6
	// MinRPS is the lowest rate: one request a day.
	MinRPS = 1.0 / 86400
)

// Limiter paces requests to rps a second across every process that uses the
// same Redis key, rate and burst. It satisfies sendivent.Limiter. Its
// methods are safe for concurrent use.
type Limiter struct {
	rl    *redis_rate.Limiter
	key   string
	limit redis_rate.Limit
	local *rate.Limiter // the fail-open pace; nil under FailClosed
	log   *slog.Logger
	h     health
	gate  chan struct{} // held by the one Wait that talks to Redis
}

// NewLimiter makes a limiter that allows rps requests a second with bursts of
// burst, counted in rdb under key (use KeyFor). rps may be fractional (0.5 is
// one request every 2 s) and lies between MinRPS and MaxRPS; burst is at
// least 1. A burst of a few requests lets the full rate through when a
// process's turn comes a little late; burst 1 loses that lateness.
//
// NewLimiter does not contact Redis: a Redis that is down at start is an outage
// like any other. By default the limiter fails closed (see FailClosed) and
// logs to slog.Default().
func NewLimiter(rdb redis.UniversalClient, key string, rps float64, burst int, opts ...LimiterOption) (*Limiter, error) {
	cfg := limiterConfig{logger: slog.Default(), probe: DefaultProbeInterval}
	for _, o := range opts {
		o(&cfg)
	}
	errs := cfg.errs
	if rdb == nil || isNilPointer(rdb) {
		errs = append(errs, errors.New("nil Redis client"))
	}
	switch {
	case key == "":
		errs = append(errs, errors.New("empty key: use KeyFor(apiKey)"))
	case strings.HasPrefix(key, "live_") || strings.HasPrefix(key, "test_"):
		// The key would be stored in Redis and could reach its logs.
		errs = append(errs, errors.New("the key looks like an API key: pass KeyFor(apiKey), which hashes it"))
	}
	if math.IsNaN(rps) || rps < MinRPS || rps > MaxRPS {
		errs = append(errs, fmt.Errorf("rps %v is outside [MinRPS, MaxRPS]: one request a day to a million a second", rps))
	}
	if burst < 1 {
		errs = append(errs, fmt.Errorf("burst %d is less than 1", burst))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("sendiventredis.NewLimiter: %w", errors.Join(errs...))
	}
	l := &Limiter{
		rl:    redis_rate.NewLimiter(rdb),
		key:   key,
		limit: limitFor(rps, burst),
		log:   cfg.logger,
		h:     health{probe: cfg.probe, replicas: cfg.replicas},
		gate:  make(chan struct{}, 1),
	}
	if cfg.replicas > 0 {
		n := float64(cfg.replicas)
		l.local = rate.NewLimiter(rate.Limit(rps/n), max(1, int(math.Ceil(float64(burst)/n))))
	}
	return l, nil
}

// limitFor maps rps to redis_rate's terms, whose rate is a whole number of
// requests per period: a whole rps is rps per second, any other one request
// per 1/rps, which keeps the interval between requests exact to the
// nanosecond.
func limitFor(rps float64, burst int) redis_rate.Limit {
	if rps >= 1 && rps == math.Trunc(rps) {
		return redis_rate.Limit{Rate: int(rps), Burst: burst, Period: time.Second}
	}
	return redis_rate.Limit{Rate: 1, Burst: burst, Period: time.Duration(math.Round(float64(time.Second) / rps))}
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// Wait blocks until the shared budget grants a request, and returns nil.
// While Redis refuses, it waits the time Redis reports and asks again. It
// returns ctx's error when ctx ends first, and at once an error matching
// context.DeadlineExceeded when the next slot comes after ctx's deadline; it
// never sleeps past the deadline. While Redis cannot be reached it follows
// the failure policy: under FailClosed an error matching ErrUnavailable,
// under FailOpen the in-process pace.
//
// Wait returns when ctx ends, whatever Redis does: stalled, paused, or
// answering half a reply. A call to Redis that ctx gave up on goes on in
// the background until the Redis client's own timeouts end it, and its
// outcome counts (a failure starts an outage, as for any call).
//
// One Wait per Limiter talks to Redis at a time; the others queue in
// arrival order, so Redis sees one request per process per slot, however
// many goroutines wait, and a Redis that stalls holds one connection per
// Limiter, not one per Wait. A queued Wait returns ctx's error when ctx
// ends before its turn.
func (l *Limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case l.gate <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	cause, err, held := l.ask(ctx)
	if held {
		<-l.gate
	}
	if cause != nil {
		return l.fallback(ctx, cause)
	}
	return err
}

// ask asks Redis for a slot until it grants one (nil, nil), ctx forbids
// waiting more (nil, err), or Redis cannot be reached (cause, nil). held is
// false when ctx ended during a call to Redis: the call goes on, holding
// the gate, and its outcome is recorded when it ends (see late).
func (l *Limiter) ask(ctx context.Context) (cause, err error, held bool) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err, true
		}
		if ask, cause := l.h.shouldAsk(time.Now()); !ask {
			return cause, nil, true
		}
		res, err, ok := bounded(ctx, l.allow, l.late)
		if !ok {
			return nil, err, false
		}
		if err != nil {
			l.h.failed(l, err)
			return err, nil, true
		}
		l.h.answered(l)
		if res.Allowed > 0 {
			return nil, nil, true
		}
		if err := sleep(ctx, max(res.RetryAfter, 0)); err != nil {
			return nil, err, true
		}
	}
}

func (l *Limiter) allow(ctx context.Context) (*redis_rate.Result, error) {
	return l.rl.Allow(ctx, l.key, l.limit)
}

// late records the outcome of a call to Redis that a Wait gave up on, and
// passes the gate on. A slot it was granted goes unused: the budget is
// under-spent, never over.
func (l *Limiter) late(_ *redis_rate.Result, err error) {
	if err != nil {
		l.h.failed(l, err)
	} else {
		l.h.answered(l)
	}
	<-l.gate
}

// fallback applies the failure policy while Redis is unreachable.
func (l *Limiter) fallback(ctx context.Context, cause error) error {
	if l.local == nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, cause)
	}
	r := l.local.Reserve() // never refused: its burst is at least 1
	d := r.Delay()
	if d == 0 {
		return nil
	}
	if err := sleep(ctx, d); err != nil {
		r.Cancel()
		return err
	}
	return nil
}

// sleep waits d, or until ctx ends. A wait that would end after ctx's
// deadline fails at once.
func sleep(ctx context.Context, d time.Duration) error {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return fmt.Errorf("sendiventredis: the next request may go in %v, after the context's deadline: %w",
			d.Round(time.Millisecond), context.DeadlineExceeded)
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
