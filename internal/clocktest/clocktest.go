// Package clocktest holds a fake clock for the SDK's own tests: its waits
// take no real time and move its time forward. Only _test.go files import
// it, so no application compiles it.
package clocktest

import (
	"sync"
	"time"
)

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
