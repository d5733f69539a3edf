// Package clock decides how long the SDK's waits really last: in full, or
// scaled down for a client of a fake whose time runs faster
// (sendivent.WithTimeScale).
package clock

import (
	"context"
	"math"
	"time"
)

// Clock tells the time and is told of each wait the SDK is about to make.
type Clock interface {
	Now() time.Time
	// Wait returns how long a wait of d really lasts: d on the wall clock.
	Wait(d time.Duration) time.Duration
}

// Sleep waits as k says for d, or until ctx ends, and then returns
// ctx.Err().
func Sleep(ctx context.Context, k Clock, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d = k.Wait(d)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Wait returns d.
func (Real) Wait(d time.Duration) time.Duration { return d }

// Scaled is the wall clock with waits that last 1/Factor of the time asked:
// a retry told to wait 1 s waits 1 ms at Factor 1000. It serves clients of
// a fake server, whose tests should not wait for real.
type Scaled struct{ Factor float64 }

// Now returns time.Now().
func (Scaled) Now() time.Time { return time.Now() }

// Wait returns d/Factor, or the longest Duration when that is longer: a
// float beyond int64 converts to anything (the minimum, on amd64), and a
// wait that would never end must not become none.
func (s Scaled) Wait(d time.Duration) time.Duration {
	if s.Factor > 0 {
		if w := float64(d) / s.Factor; w < math.MaxInt64 {
			return time.Duration(w)
		}
		return math.MaxInt64
	}
	return d
}
