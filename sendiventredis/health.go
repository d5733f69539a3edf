package sendiventredis

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// health tracks whether Redis answers. Once a call fails, the limiter
// follows its failure policy without asking Redis until the probe interval
// has passed; then one Wait asks again while the others keep to the policy,
// so an outage costs one Redis timeout per interval, not one per request.
type health struct {
	probe    time.Duration
	replicas int // for the log: 0 is fail closed

	mu        sync.Mutex
	down      bool
	since     time.Time // when the outage began
	nextProbe time.Time // when the next Wait may ask Redis
	cause     error     // Redis's last error
	fallbacks int       // Waits that followed the policy during this outage
}

// shouldAsk reports whether a Wait at now asks Redis; during an outage it
// claims the probe, so only one Wait per interval does. When it does not,
// it returns Redis's last error.
func (h *health) shouldAsk(now time.Time) (bool, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down {
		return true, nil
	}
	if now.Before(h.nextProbe) {
		h.fallbacks++
		return false, h.cause
	}
	h.nextProbe = now.Add(h.probe)
	return true, nil
}

// failed records Redis's failure to answer; the first failure of an outage
// is logged.
func (h *health) failed(l *Limiter, err error) {
	now := time.Now()
	h.mu.Lock()
	h.cause = err
	h.nextProbe = now.Add(h.probe)
	h.fallbacks++
	if h.down {
		h.mu.Unlock()
		return
	}
	h.down, h.since, h.fallbacks = true, now, 1
	h.mu.Unlock()

	attrs := []slog.Attr{slog.String("key", l.key), slog.String("error", err.Error())}
	msg := "sendiventredis: Redis unreachable; refusing requests until it answers (fail closed)"
	if h.replicas > 0 {
		msg = "sendiventredis: Redis unreachable; pacing this process alone until it answers (fail open)"
		attrs = append(attrs, slog.Float64("rps", float64(l.local.Limit())),
			slog.Int("expected_replicas", h.replicas))
	}
	l.log.LogAttrs(context.Background(), slog.LevelWarn, msg, attrs...)
}

// answered records that Redis answered; the end of an outage is logged.
func (h *health) answered(l *Limiter) {
	h.mu.Lock()
	if !h.down {
		h.mu.Unlock()
		return
	}
	outage, n := time.Since(h.since), h.fallbacks
	h.down, h.cause, h.fallbacks = false, nil, 0
	h.mu.Unlock()

	what := "refused"
	if h.replicas > 0 {
		what = "paced_locally"
	}
	l.log.LogAttrs(context.Background(), slog.LevelInfo, "sendiventredis: Redis answers again; shared pacing resumed",
		slog.String("key", l.key), slog.Duration("outage", outage.Round(time.Millisecond)), slog.Int(what, n))
}

// discard is a slog.Handler that drops everything (slog.DiscardHandler
// needs Go 1.24).
type discard struct{}

func (discard) Enabled(context.Context, slog.Level) bool  { return false }
func (discard) Handle(context.Context, slog.Record) error { return nil }
func (d discard) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discard) WithGroup(string) slog.Handler           { return d }
