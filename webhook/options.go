package webhook

import (
	"log/slog"
	"time"
)

// Defaults of [Verify] and [Handler].
const (
	// DefaultTolerance is how far a signature's timestamp may be from the
	// receiver's clock, in either direction.
	DefaultTolerance = 5 * time.Minute
	// DefaultMaxBodyBytes caps a delivery's body. Delivery events are a
	// few hundred bytes; the cap only stops a hostile peer.
	DefaultMaxBodyBytes = 1 << 20
)

// Option configures [Verify] and [Handler].
type Option func(*config)

type config struct {
	secrets   [][]byte
	tolerance time.Duration
	now       func() time.Time
	maxBody   int64
	deduper   Deduper
	dedupeSet bool
	logger    *slog.Logger
	observer  *Observer // nil: no hooks to call
}

func newConfig(secret string, opts []Option) *config {
	c := &config{tolerance: DefaultTolerance, now: time.Now, maxBody: DefaultMaxBodyBytes}
	c.addSecrets(secret)
	for _, o := range opts {
		o(c)
	}
	return c
}

// addSecrets keeps the non-empty ones: an empty key would let anyone sign.
func (c *config) addSecrets(secrets ...string) {
	for _, s := range secrets {
		if s != "" {
			c.secrets = append(c.secrets, []byte(s))
		}
	}
}

// WithSecrets adds signing secrets accepted besides the one passed to
// [Verify] or [Handler]: a delivery signed with any of them passes. Use it
// while rotating, with the old and the new secret; the main secret may then
// be "". Empty strings are ignored.
func WithSecrets(secrets ...string) Option {
	return func(c *config) { c.addSecrets(secrets...) }
}

// WithTolerance sets how far a signature's timestamp may be from now, in
// either direction (default [DefaultTolerance]). A value of zero or less
// keeps the default: the check cannot be turned off, since it is what stops
// a captured delivery from being replayed. To verify a stored delivery
// later, pass [WithNow] with the time it was received.
func WithTolerance(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.tolerance = d
		}
	}
}

// WithNow sets the clock that timestamps are checked against (default
// time.Now). Tests use it; so does re-verifying a stored delivery.
func WithNow(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithMaxBodyBytes caps a delivery's body (default [DefaultMaxBodyBytes]).
// A larger body fails with [ErrBodyTooLarge] before its signature is
// computed; [Handler] answers it 413 without reading past the cap. Any
// positive value works, math.MaxInt64 included: [Handler]'s memory grows
// with the bytes received, whatever the cap. A value of zero or less keeps
// the default.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// WithDeduper sets the store [Handler] uses to call its function once per
// event (default: a [MemoryDeduper] of [DefaultDedupeSize] events kept for
// [DefaultDedupeTTL]). Pass a shared store when several processes receive
// deliveries (sendiventredis.NewDeduper, on Redis), or nil to call the
// function for every verified delivery.
// [Verify] ignores it.
func WithDeduper(d Deduper) Option {
	return func(c *config) { c.deduper, c.dedupeSet = d, true }
}

// WithLogger makes [Handler] log what it refuses and why (a bad signature,
// a stale timestamp, an oversized body), its function's errors and the
// dedupe store's errors. By default it logs nothing. Secrets and
// signatures are never logged. [Verify] ignores it.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
