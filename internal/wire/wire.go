// Package wire holds byte-level helpers of the request path and package
// webhook: bounded body reads (package webhook's), lenient timestamps, and
// a fast path for the usual flat JSON answer of a send.
package wire

import (
	"errors"
	"io"
)

// ErrTooLarge is returned by ReadAll when a body exceeds its cap.
var ErrTooLarge = errors.New("response body larger than the size cap")

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
