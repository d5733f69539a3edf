// Package wire holds the byte-level helpers of the request path: pooled
// buffers and bounded body reads.
package wire

import (
	"errors"
	"io"
	"sync"
	"time"
)

// ErrTooLarge is returned by ReadAll when a body exceeds its cap.
var ErrTooLarge = errors.New("response body larger than the size cap")

// Buf is a pooled byte slice.
type Buf struct{ B []byte }

var pool = sync.Pool{New: func() any { return &Buf{B: make([]byte, 0, 512)} }}

// maxPooled keeps one huge response from pinning memory in the pool.
const maxPooled = 64 << 10

// Get returns an empty buffer from the pool.
func Get() *Buf { return pool.Get().(*Buf) }

// Put returns b to the pool. b must not be used afterwards.
func Put(b *Buf) {
	if b == nil || cap(b.B) > maxPooled {
		return
	}
	b.B = b.B[:0]
	pool.Put(b)
}

// ReadAll appends r's bytes to dst until EOF and returns the result. When r
// holds more than limit bytes it stops after limit of them and returns
// ErrTooLarge. Unlike io.ReadAll with an io.LimitReader it allocates nothing
// once dst has room.
func ReadAll(dst []byte, r io.Reader, limit int64) ([]byte, error) {
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)-start) > limit {
			return dst[:start+int(limit)], ErrTooLarge
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// ErrTimeout is returned by ReadAllWithin when the body took too long.
var ErrTimeout = errors.New("reading the body took longer than the timeout")

// ReadAllWithin is ReadAll that closes body, ending the read, if it has not
// finished after timeout. Its timers are pooled, so a read costs no
// allocation.
func ReadAllWithin(dst []byte, body io.ReadCloser, limit int64, timeout time.Duration) ([]byte, error) {
	g := guards.Get().(*guard)
	g.mu.Lock()
	g.body, g.fired = body, false
	g.mu.Unlock()
	g.t.Reset(timeout)
	dst, err := ReadAll(dst, body, limit)
	stopped := g.t.Stop()
	g.mu.Lock()
	fired := g.fired
	g.body = nil
	g.mu.Unlock()
	// A timer that could not be stopped and has not fired yet is about to:
	// that guard must not guard another body.
	if stopped || fired {
		guards.Put(g)
	}
	if fired && err != nil && err != ErrTooLarge {
		err = ErrTimeout
	}
	return dst, err
}

// guard closes a body when its timer fires, unless the read is over.
type guard struct {
	t     *time.Timer
	mu    sync.Mutex
	body  io.Closer
	fired bool
}

var guards = sync.Pool{New: func() any {
	g := &guard{}
	g.t = time.AfterFunc(time.Hour, g.fire)
	g.t.Stop()
	return g
}}

func (g *guard) fire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.body != nil {
		g.body.Close()
		g.fired = true
	}
}
