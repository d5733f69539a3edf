// Package wire holds the byte-level helpers of the request path: pooled
// buffers, bounded body reads and a fast path for flat JSON answers.
package wire

import (
	"errors"
	"io"
	"sync"
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
