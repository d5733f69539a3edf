// Package alarm rings a callback once a duration has passed, on timers
// drawn from a pool, so that setting one allocates nothing. It bounds each
// attempt of a request.
package alarm

import (
	"sync"
	"time"
)

// Ringer is told when its alarm rings. token is the one given to Set: an
// alarm may ring just as it is stopped, so Ring must ignore a token it no
// longer expects.
type Ringer interface {
	Ring(token uint64)
}

// Alarm is a set alarm. Stop it once it is no longer needed.
type Alarm struct {
	t     *time.Timer
	mu    sync.Mutex
	r     Ringer // nil once rung or stopped
	token uint64
	rang  bool
}

var pool = sync.Pool{New: func() any {
	a := &Alarm{}
	a.t = time.AfterFunc(time.Hour, a.ring)
	a.t.Stop()
	return a
}}

// Set returns an alarm that calls r.Ring(token), in a goroutine of its own,
// after d, unless it is stopped first.
func Set(d time.Duration, r Ringer, token uint64) *Alarm {
	a := pool.Get().(*Alarm)
	a.mu.Lock()
	a.r, a.token, a.rang = r, token, false
	a.mu.Unlock()
	a.t.Reset(d)
	return a
}

// Stop disarms a; a must not be used afterwards. Ring may still be running,
// or about to run with its token, when Stop returns.
func (a *Alarm) Stop() {
	stopped := a.t.Stop()
	a.mu.Lock()
	a.r = nil
	rang := a.rang
	a.mu.Unlock()
	// A timer that could not be stopped and has not rung yet is about to:
	// it must not ring for the alarm's next user.
	if stopped || rang {
		pool.Put(a)
	}
}

func (a *Alarm) ring() {
	a.mu.Lock()
	r, token := a.r, a.token
	a.r, a.rang = nil, true
	a.mu.Unlock()
	if r != nil {
		r.Ring(token)
	}
}
