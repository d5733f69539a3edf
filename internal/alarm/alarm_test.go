package alarm

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

type recorder struct {
	mu     sync.Mutex
	tokens []uint64
	rung   chan struct{}
}

func newRecorder() *recorder { return &recorder{rung: make(chan struct{}, 100)} }

func (r *recorder) Ring(token uint64) {
	r.mu.Lock()
	r.tokens = append(r.tokens, token)
	r.mu.Unlock()
	r.rung <- struct{}{}
}

func (r *recorder) got() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]uint64(nil), r.tokens...)
}

func TestRings(t *testing.T) {
	t.Parallel()
	r := newRecorder()
	start := time.Now()
	a := Set(20*time.Millisecond, r, 7)
	select {
	case <-r.rung:
	case <-time.After(5 * time.Second):
		t.Fatal("never rang")
	}
	assert.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
	a.Stop() // after ringing: harmless
	assert.Equal(t, []uint64{7}, r.got())
}

func TestStopped(t *testing.T) {
	t.Parallel()
	r := newRecorder()
	Set(20*time.Millisecond, r, 1).Stop()
	time.Sleep(60 * time.Millisecond)
	assert.Empty(t, r.got())
}

// TestNoRingForTheNextUser: an alarm stopped just as it rings never rings
// for the one that sets it next.
func TestNoRingForTheNextUser(t *testing.T) {
	t.Parallel()
	var wrong atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(time.Second)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				racy := &countRinger{}
				a := Set(time.Microsecond, racy, 1)
				for end := time.Now().Add(time.Microsecond); time.Now().Before(end); {
				}
				a.Stop()
				never := &countRinger{}
				b := Set(time.Hour, never, 2)
				time.Sleep(50 * time.Microsecond)
				b.Stop()
				wrong.Add(never.n.Load())
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, wrong.Load(), "a stale timer rang for another alarm")
}

type countRinger struct{ n atomic.Int64 }

func (c *countRinger) Ring(uint64) { c.n.Add(1) }

func TestSetAndStopDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops values at random under the race detector")
	}
	r := &countRinger{}
	Set(time.Hour, r, 0).Stop() // fill the pool
	allocs := testing.AllocsPerRun(1000, func() { Set(time.Hour, r, 0).Stop() })
	assert.Zero(t, allocs)
}
