package sendiventredis

import (
	"fmt"
	"log/slog"
	"time"
)

// DefaultProbeInterval is how often, during an outage, a Limiter asks Redis
// again unless WithProbeInterval says otherwise.
const DefaultProbeInterval = time.Second

// LimiterOption configures a Limiter; pass options to NewLimiter.
type LimiterOption func(*limiterConfig)

type limiterConfig struct {
	replicas int // 0: fail closed; n > 0: fail open at rps/n
	logger   *slog.Logger
	probe    time.Duration
	errs     []error
}

// FailClosed makes Wait return an error while Redis cannot be reached, so no
// request goes out that the shared budget did not grant. The error matches
// ErrUnavailable and keeps Redis's error as its cause; a
// sendivent.Client returns it from the call without sending. This is the
// default: the service's limit is never exceeded, and the outage is seen by
// the caller instead of turning into 429s.
func FailClosed() LimiterOption { return func(c *limiterConfig) { c.replicas = 0 } }

// FailOpen makes Wait pace requests on its own while Redis cannot be reached,
// at rps/expectedReplicas with a burst of burst/expectedReplicas (at least
// 1), so that expectedReplicas processes together stay at the shared rate.
// Sending goes on through the outage; if more processes run than expected,
// the service answers the excess with 429, which the SDK retries.
func FailOpen(expectedReplicas int) LimiterOption {
	return func(c *limiterConfig) {
		if expectedReplicas < 1 {
			c.errs = append(c.errs, fmt.Errorf("FailOpen(%d): want at least 1 replica", expectedReplicas))
		}
		c.replicas = expectedReplicas
	}
}

// WithLogger sets where the limiter logs an outage (Warn, once when Redis
// stops answering) and the recovery (Info, once when it answers again).
// Default slog.Default(); nil logs nothing. It logs the Redis key (a hash,
// see KeyFor) and Redis's error, never an API key.
func WithLogger(l *slog.Logger) LimiterOption {
	return func(c *limiterConfig) {
		if l == nil {
			l = slog.New(discard{})
		}
		c.logger = l
	}
}

// WithProbeInterval sets how long, after Redis failed to answer, the limiter
// acts on the failure policy without asking Redis; then one Wait asks again
// (default DefaultProbeInterval).
func WithProbeInterval(d time.Duration) LimiterOption {
	return func(c *limiterConfig) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithProbeInterval: %v is not positive", d))
		}
		c.probe = d
	}
}
