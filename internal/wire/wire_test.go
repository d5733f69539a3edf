package wire

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
)

func TestReadAll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		n     int
		limit int64
		err   error
		kept  int
	}{
		{"empty", 0, 10, nil, 0},
		{"under", 9, 10, nil, 9},
		{"exactly the cap", 10, 10, nil, 10},
		{"one over", 11, 10, ErrTooLarge, 10},
		{"far over", 100000, 10, ErrTooLarge, 10},
		{"cap of one", 2, 1, ErrTooLarge, 1},
		{"large body exactly", 1 << 20, 1 << 20, nil, 1 << 20},
		{"large body one over", 1<<20 + 1, 1 << 20, ErrTooLarge, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := strings.Repeat("x", tt.n)
			for _, r := range []io.Reader{strings.NewReader(src), iotest.OneByteReader(strings.NewReader(src)), iotest.DataErrReader(strings.NewReader(src))} {
				got, err := ReadAll(nil, r, tt.limit)
				assert.Equal(t, tt.err, err)
				assert.Equal(t, src[:tt.kept], string(got))
			}
		})
	}
}

func TestReadAllAppends(t *testing.T) {
	t.Parallel()
	got, err := ReadAll([]byte("head:"), strings.NewReader("0123456789"), 4)
	assert.Equal(t, ErrTooLarge, err)
	assert.Equal(t, "head:0123", string(got))
}

func TestReadAllReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	got, err := ReadAll(nil, io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), 10)
	assert.Equal(t, boom, err)
	assert.Equal(t, "abc", string(got))
}

func TestReadAllDoesNotAllocateWithRoom(t *testing.T) {
	dst := make([]byte, 0, 1024)
	r := strings.NewReader("")
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(`{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`)
		dst, _ = ReadAll(dst[:0], r, 1<<20)
	})
	assert.Zero(t, allocs)
}
