package wire

import (
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestPool(t *testing.T) {
	t.Parallel()
	b := Get()
	require.NotNil(t, b)
	b.B = append(b.B, "data"...)
	Put(b)
	assert.Empty(t, b.B, "a returned buffer is emptied")
	Put(nil) // no panic

	big := Get()
	big.B = append(make([]byte, 0, maxPooled+1), "kept"...)
	Put(big) // too big to pool: dropped, not reset
	assert.Equal(t, "kept", string(big.B))

	for range 100 {
		assert.Empty(t, Get().B, "buffers come out empty")
	}
}

type stalledBody struct {
	closed chan struct{}
}

func (b *stalledBody) Read([]byte) (int, error) {
	<-b.closed
	return 0, errors.New("read on closed body")
}

func (b *stalledBody) Close() error {
	select {
	case <-b.closed:
	default:
		close(b.closed)
	}
	return nil
}

func TestReadAllWithin(t *testing.T) {
	t.Parallel()
	got, err := ReadAllWithin(nil, io.NopCloser(strings.NewReader("quick")), 100, time.Second)
	require.NoError(t, err)
	assert.Equal(t, "quick", string(got))

	start := time.Now()
	_, err = ReadAllWithin(nil, &stalledBody{closed: make(chan struct{})}, 100, 20*time.Millisecond)
	assert.Equal(t, ErrTimeout, err)
	assert.Less(t, time.Since(start), time.Second)

	// The pooled timer of the stalled read does not close the next body.
	got, err = ReadAllWithin(nil, io.NopCloser(strings.NewReader("next")), 100, time.Second)
	require.NoError(t, err)
	assert.Equal(t, "next", string(got))
}

func TestReadAllWithinDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops values at random under the race detector")
	}
	dst := make([]byte, 0, 1024)
	r := strings.NewReader("")
	body := io.NopCloser(r)
	ReadAllWithin(dst, body, 1<<20, time.Minute) // fill the pool
	allocs := testing.AllocsPerRun(100, func() {
		r.Reset(`{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`)
		dst, _ = ReadAllWithin(dst[:0], body, 1<<20, time.Minute)
	})
	assert.Zero(t, allocs)
}

// TestReadAllWithinLateTimer: a guard whose timer fires just as its read
// ends must not close the body of a later read that takes the guard from
// the pool. Reads that last about their timeout race their timers, beside
// reads with an hour to go that no guard may close.
func TestReadAllWithinLateTimer(t *testing.T) {
	t.Parallel()
	var wrong atomic.Int64
	var wg sync.WaitGroup
	deadline := time.Now().Add(3 * time.Second)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 0, 64)
			for i := 0; time.Now().Before(deadline) && wrong.Load() == 0; i++ {
				if i%2 == 0 {
					_, _ = ReadAllWithin(buf[:0], &spinBody{d: 20 * time.Microsecond}, 10, 20*time.Microsecond)
					continue
				}
				body := &closeCounter{Reader: strings.NewReader("y")}
				_, _ = ReadAllWithin(buf[:0], body, 10, time.Hour)
				if body.closed.Load() {
					wrong.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	assert.Zero(t, wrong.Load(), "a stale timer closed another read's body")
}

// spinBody takes d to end, without sleeping (a sleep would be too coarse).
type spinBody struct{ d time.Duration }

func (b *spinBody) Read([]byte) (int, error) {
	for end := time.Now().Add(b.d); time.Now().Before(end); {
	}
	return 0, io.EOF
}

func (*spinBody) Close() error { return nil }

type closeCounter struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeCounter) Close() error { c.closed.Store(true); return nil }
