// Package clock decides how long the SDK's waits really last, so that tests
// can run retries and polls without sleeping.
package clock

import (
	"context"
	"sync"
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
// a retry told to wait 1 s waits 1 ms at Factor 1000. It serves the fake
// server's clients, whose tests should not wait for real.
type Scaled struct{ Factor float64 }

// Now returns time.Now().
func (Scaled) Now() time.Time { return time.Now() }

// Wait returns d/Factor.
func (s Scaled) Wait(d time.Duration) time.Duration {
	if s.Factor > 0 {
		return time.Duration(float64(d) / s.Factor)
	}
	return d
}

// Fake is a clock whose waits take no real time and move Now forward by the
// time waited. It records each wait. Use NewFake to start at a given instant.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// OnSleep, when set, runs after each wait with the clock unlocked;
	// tests use it to change the world between polls.
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

// Wait records d, advances the clock by it and returns 0.
func (f *Fake) Wait(d time.Duration) time.Duration {
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
	return 0
}

// Advance moves the clock forward without recording a wait.
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// Sleeps returns a copy of every duration waited so far.
func (f *Fake) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}
