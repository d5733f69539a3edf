package webhook

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// ClaimResult is the answer of [Deduper.Claim].
type ClaimResult int

// The answers of [Deduper.Claim].
const (
	// Acquired: the caller now holds the event, through the [Lease] Claim
	// returned, and must end the lease with Complete once it has handled
	// the event, or with Release when it could not.
	Acquired ClaimResult = iota + 1
	// AlreadyDone: the event was handled before; [Handler] answers 200
	// without calling its function.
	AlreadyDone
	// InProgress: another delivery of the event is being handled now;
	// [Handler] answers 503 so that the service tries again later and
	// the event is not lost should that other handling fail.
	InProgress
)

// ErrClaimLost is matched by the error of [Lease.Complete] when the event
// was recorded as done but the lease had lapsed before (a shared store's
// lease expired while the function ran): another delivery may have claimed
// the event, and run it, in the meantime.
var ErrClaimLost = errors.New("webhook: the claim had lapsed")

// Deduper remembers which events were handled, so that [Handler] calls its
// function once per event though the service may deliver an event more
// than once, to one process or to several. Keys come from
// [Event.DedupeKey].
//
// Claim marks the key in progress, atomically: of concurrent claims, in
// one process or many, one gets Acquired and a [Lease]; the others get
// InProgress, or AlreadyDone once the event is done. The lease's Complete
// marks the event done once the function succeeded; its Release forgets
// the claim when the function failed, so the service's retry handles the
// event again. [Handler] ends every lease it gets, even when the function
// panics, with a context that the peer hanging up does not cancel.
//
// An implementation's methods return when their context ends, whatever
// the store does, with the context's error. [MemoryDeduper] serves one
// process; package github.com/sendivent/sendivent-go/sendiventredis has
// one on Redis for several. A shared store should hold a claim as a lease
// that expires unless renewed, so that a process that dies mid-event does
// not block the event for good, and should release or complete a claim
// only while it still holds it.
type Deduper interface {
	Claim(ctx context.Context, key string) (ClaimResult, Lease, error)
}

// Lease is a claim that [Deduper.Claim] acquired. The first of Complete
// and Release ends it; a later call does nothing and returns nil.
type Lease interface {
	// Complete marks the event done: later claims get AlreadyDone. An
	// error matching ErrClaimLost says the event was marked done but the
	// claim had lapsed before.
	Complete(ctx context.Context) error
	// Release gives the claim up without marking the event done, so that
	// its next delivery is handled. An event marked done meanwhile stays
	// done.
	Release(ctx context.Context) error
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
// until its lease ends, which [Handler] always does. The zero value is
// ready to use with the defaults. It is safe for concurrent use.
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
func (d *MemoryDeduper) Claim(_ context.Context, key string) (ClaimResult, Lease, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.init()
	d.expire()
	if e, ok := d.keys[key]; ok {
		if e.elem == nil {
			return InProgress, nil, nil
		}
		return AlreadyDone, nil, nil
	}
	e := &memEntry{key: key}
	d.keys[key] = e
	return Acquired, &memLease{d: d, e: e}, nil
}

// memLease is a MemoryDeduper's claim. An in-process claim cannot lapse:
// it is held until ended.
type memLease struct {
	d     *MemoryDeduper
	e     *memEntry
	ended bool // under d.mu
}

func (l *memLease) Complete(context.Context) error {
	d := l.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if l.ended {
		return nil
	}
	l.ended = true
	l.e.at = d.now()
	l.e.elem = d.done.PushBack(l.e)
	for d.done.Len() > d.size {
		d.forget(d.done.Front())
	}
	d.expire()
	return nil
}

func (l *memLease) Release(context.Context) error {
	d := l.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if l.ended {
		return nil
	}
	l.ended = true
	delete(d.keys, l.e.key)
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
