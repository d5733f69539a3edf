package webhook

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// ClaimResult is the answer of [Deduper.Claim].
type ClaimResult int

// The answers of [Deduper.Claim].
const (
	// Acquired: the caller now holds the event and must call Complete
	// when it has handled it, or Release when it could not.
	Acquired ClaimResult = iota + 1
	// AlreadyDone: the event was handled before; [Handler] answers 200
	// without calling its function.
	AlreadyDone
	// InProgress: another delivery of the event is being handled now;
	// [Handler] answers 503 so that the service tries again later and
	// the event is not lost should that other handling fail.
	InProgress
)

// Deduper remembers which events were handled, so that [Handler] calls its
// function once per event though the service may deliver an event more
// than once. Keys come from [Event.DedupeKey].
//
// The three steps make a failed attempt retryable and stop two concurrent
// deliveries from both running the function: Claim marks the key in
// progress, atomically; Complete marks it done once the function
// succeeded; Release forgets it when the function failed, so the service's
// retry handles it again. [Handler] calls Complete or Release after every
// Acquired, even when the function panics, with a context that the peer
// hanging up does not cancel.
//
// [MemoryDeduper] serves one process. A shared store (Redis, SQL) for
// several processes should, in Claim, set the key to "in progress" only if
// it is absent, with an expiry (a lease) longer than the function's longest
// run, so that a process that dies mid-event does not block it for good;
// in Complete, set it to "done" with an expiry longer than the service's
// redelivery window; in Release, delete it. With Redis: SET key pending NX
// PX lease, then GET to tell AlreadyDone from InProgress; SET key done PX
// ttl; DEL key. An error from any step is logged, and from Claim answered
// 500 so that the service retries.
type Deduper interface {
	Claim(ctx context.Context, key string) (ClaimResult, error)
	Complete(ctx context.Context, key string) error
	Release(ctx context.Context, key string) error
}

// Defaults of [MemoryDeduper].
const (
	DefaultDedupeSize = 10000          // done events remembered
	DefaultDedupeTTL  = 24 * time.Hour // how long a done event is remembered
)

// MemoryDeduper is an in-process [Deduper], bounded in size and age: it
// remembers at most size done events, each for at most ttl, forgetting the
// oldest first. Events in progress are not counted (there are as many as
// deliveries being handled at once) and do not expire: each stays claimed
// until Complete or Release, which [Handler] always calls. The zero value
// is ready to use with the defaults. It is safe for concurrent use.
type MemoryDeduper struct {
	mu   sync.Mutex
	size int
	ttl  time.Duration
	now  func() time.Time // tests replace it
	keys map[string]*memEntry
	done list.List // of *memEntry, oldest completion first
}

type memEntry struct {
	key  string
	at   time.Time     // when completed
	elem *list.Element // in done; nil while in progress
}

// NewMemoryDeduper returns a MemoryDeduper that remembers size done events
// for ttl each. Zero or less for either keeps its default
// ([DefaultDedupeSize], [DefaultDedupeTTL]).
func NewMemoryDeduper(size int, ttl time.Duration) *MemoryDeduper {
	return &MemoryDeduper{size: size, ttl: ttl}
}

// Claim implements [Deduper].
func (d *MemoryDeduper) Claim(_ context.Context, key string) (ClaimResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.init()
	d.expire()
	if e, ok := d.keys[key]; ok {
		if e.elem == nil {
			return InProgress, nil
		}
		return AlreadyDone, nil
	}
	d.keys[key] = &memEntry{key: key}
	return Acquired, nil
}

// Complete implements [Deduper]. It marks key done whether or not it was
// claimed.
func (d *MemoryDeduper) Complete(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.init()
	e, ok := d.keys[key]
	if !ok {
		e = &memEntry{key: key}
		d.keys[key] = e
	} else if e.elem != nil {
		d.done.Remove(e.elem)
	}
	e.at = d.now()
	e.elem = d.done.PushBack(e)
	for d.done.Len() > d.size {
		d.forget(d.done.Front())
	}
	d.expire()
	return nil
}

// Release implements [Deduper]. It forgets key if it is in progress; a
// done key stays done.
func (d *MemoryDeduper) Release(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.keys[key]; ok && e.elem == nil {
		delete(d.keys, key)
	}
	return nil
}

// Len returns how many events d remembers, done or in progress.
func (d *MemoryDeduper) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.keys)
}

func (d *MemoryDeduper) init() {
	if d.keys != nil {
		return
	}
	d.keys = make(map[string]*memEntry)
	if d.size <= 0 {
		d.size = DefaultDedupeSize
	}
	if d.ttl <= 0 {
		d.ttl = DefaultDedupeTTL
	}
	if d.now == nil {
		d.now = time.Now
	}
}

// expire forgets done events older than the ttl; they are at the front.
func (d *MemoryDeduper) expire() {
	now := d.now()
	for f := d.done.Front(); f != nil && now.Sub(f.Value.(*memEntry).at) >= d.ttl; f = d.done.Front() {
		d.forget(f)
	}
}

func (d *MemoryDeduper) forget(elem *list.Element) {
	delete(d.keys, d.done.Remove(elem).(*memEntry).key)
}
