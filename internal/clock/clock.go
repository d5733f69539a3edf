// Package clock lets the retry and polling code wait on a clock that tests
// can replace, so no test has to sleep for real.
package clock

import (
	"context"
	"sync"
	"time"
)

// Clock tells the time and waits.
type Clock interface {
	Now() time.Time
	// Sleep waits for d or until ctx ends, whichever is first, and returns
	// ctx.Err() in the second case.
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Sleep waits on a timer that ends with ctx.
func (Real) Sleep(ctx context.Context, d time.Duration) error {
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

// Fake is a clock whose Sleep returns at once and moves Now forward by the
// time slept. It records each sleep. The zero value starts at the zero time;
// use NewFake to start at a given instant.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// OnSleep, when set, runs after each sleep with the clock unlocked; tests
	// use it to change the world between polls.
	OnSleep func(d time.Duration)
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake { return &Fake{now: start} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Sleep records d and advances the clock by it, unless ctx has ended.
func (f *Fake) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	if d > 0 {
		f.now = f.now.Add(d)
	}
	hook := f.OnSleep
	f.mu.Unlock()
	if hook != nil {
		hook(d)
	}
	return ctx.Err()
}

// Advance moves the clock forward without recording a sleep.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Sleeps returns a copy of every duration slept so far.
func (f *Fake) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// Scaled is the wall clock with sleeps that last 1/Factor of the time
// asked: a retry told to wait 1 s waits 1 ms at Factor 1000. It serves the
// fake server's clients, whose tests should not wait for real.
type Scaled struct{ Factor float64 }

// Now returns time.Now().
func (Scaled) Now() time.Time { return time.Now() }

// Sleep waits d/Factor, or until ctx ends.
func (s Scaled) Sleep(ctx context.Context, d time.Duration) error {
	if s.Factor > 0 {
		d = time.Duration(float64(d) / s.Factor)
	}
	return Real{}.Sleep(ctx, d)
}
