// Package wire holds the byte-level helpers of the request path: pooled
// buffers and bounded body reads.
package wire

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// ErrTooLarge is returned by ReadCapped when a body exceeds its cap.
var ErrTooLarge = errors.New("response body larger than the size cap")

var pool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooled keeps one huge response from pinning memory in the pool.
const maxPooled = 64 << 10

// Buffer returns an empty buffer from the pool.
func Buffer() *bytes.Buffer { return pool.Get().(*bytes.Buffer) }

// Release returns b to the pool. b must not be used afterwards.
func Release(b *bytes.Buffer) {
	if b == nil || b.Cap() > maxPooled {
		return
	}
	b.Reset()
	pool.Put(b)
}

// ReadCapped appends at most limit bytes of r to dst. It returns ErrTooLarge
// (with the first limit bytes in dst) when r holds more.
func ReadCapped(dst *bytes.Buffer, r io.Reader, limit int64) error {
	n, err := dst.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return err
	}
	if n > limit {
		dst.Truncate(dst.Len() - int(n-limit))
		return ErrTooLarge
	}
	return nil
}
