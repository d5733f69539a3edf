package sendiventredis

import (
	"errors"
	"fmt"
	"time"
)

// Defaults of NewDeduper.
const (
	// DefaultLease is how long a claim lasts unless renewed. The claim of
	// a process that dies mid-event lapses within it, and the service's
	// next retry runs the event.
	DefaultLease = 30 * time.Second
	// DefaultDedupeKeyPrefix starts every key a Deduper writes.
	DefaultDedupeKeyPrefix = "sendivent:webhook:"
)

// DeduperOption configures a Deduper; pass options to NewDeduper.
type DeduperOption func(*deduperConfig)

type deduperConfig struct {
	prefix      string
	lease, done time.Duration
	errs        []error
}

// WithLease sets how long a claim lasts unless renewed (default
// DefaultLease, at least 10 ms). While the function runs, its claim is
// renewed every third of d, so d bounds how long the event of a process
// that died stays blocked, not how long the function may run. Make it
// shorter than the time the service keeps retrying a delivery.
func WithLease(d time.Duration) DeduperOption {
	return func(c *deduperConfig) {
		if d < 10*time.Millisecond {
			c.errs = append(c.errs, fmt.Errorf("WithLease: %v is under 10ms", d))
		}
		c.lease = d
	}
}

// WithDoneTTL sets how long a handled event is remembered (default
// webhook.DefaultDedupeTTL, 24 hours): a delivery of it within that time is
// answered 200 without running the function. Make it longer than the time
// the service may deliver an event again. Redis keeps one small key per
// event for that long.
func WithDoneTTL(d time.Duration) DeduperOption {
	return func(c *deduperConfig) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithDoneTTL: %v is not positive", d))
		}
		c.done = d
	}
}

// WithKeyPrefix sets what starts every key the Deduper writes (default
// DefaultDedupeKeyPrefix), for applications that share one Redis.
func WithKeyPrefix(p string) DeduperOption {
	return func(c *deduperConfig) {
		if p == "" {
			c.errs = append(c.errs, errors.New("WithKeyPrefix: empty prefix"))
		}
		c.prefix = p
	}
}
