package wire

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadCapped(t *testing.T) {
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
			var dst bytes.Buffer
			err := ReadCapped(&dst, strings.NewReader(src), tt.limit)
			assert.Equal(t, tt.err, err)
			assert.Equal(t, src[:tt.kept], dst.String())
		})
	}
}

func TestReadCappedAppends(t *testing.T) {
	t.Parallel()
	dst := bytes.NewBufferString("head:")
	err := ReadCapped(dst, strings.NewReader("0123456789"), 4)
	assert.Equal(t, ErrTooLarge, err)
	assert.Equal(t, "head:0123", dst.String())
}

func TestReadCappedReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("connection reset")
	var dst bytes.Buffer
	err := ReadCapped(&dst, io.MultiReader(strings.NewReader("abc"), iotest.ErrReader(boom)), 10)
	assert.Equal(t, boom, err)
	assert.Equal(t, "abc", dst.String())
}

func TestBufferPool(t *testing.T) {
	t.Parallel()
	b := Buffer()
	require.NotNil(t, b)
	b.WriteString("data")
	Release(b)
	assert.Zero(t, b.Len(), "a released buffer is reset")
	Release(nil) // no panic

	big := Buffer()
	big.Grow(maxPooled + 1)
	big.WriteString("kept")
	Release(big) // too big to pool: dropped, not reset
	assert.Equal(t, "kept", big.String())

	for range 100 {
		assert.Zero(t, Buffer().Len(), "buffers come out empty")
	}
}
