package webhook_test

import (
	"math"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sendivent/sendivent-go/webhook"
)

// What a request's body can do to the handler: memory grows with the bytes
// that arrive, never with what Content-Length claims; every cap value
// works; bodies that lie, stop, trickle or never end are refused or ended
// by the server's timeouts, and never reach the function.

// heapInUse is the live heap after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// 64 connections that each declare 1 MiB (the default cap) and send 10
// bytes hold what they sent, not 64 MiB. Not parallel: it measures the
// process's heap.
func TestAttackStalledBodiesHoldWhatArrived(t *testing.T) {
	var c calls
	srv := serveRaw(t, webhook.Handler(secret, c.fn))
	const conns = 64
	before := heapInUse()
	for range conns {
		conn := srv.dial(t)
		conn.send(postHead("Content-Length: "+strconv.Itoa(webhook.DefaultMaxBodyBytes), "X-Sendivent-Signature: t=1,v1=00").String() + `{"event":"`)
	}
	waitFor(t, "every request in the handler", func() bool { return srv.entered.Load() == conns })
	time.Sleep(50 * time.Millisecond) // each reaches its body's read
	grew := int64(heapInUse()) - int64(before)
	t.Logf("%d stalled requests declaring %d bytes each: heap grew %d KiB", conns, webhook.DefaultMaxBodyBytes, grew>>10)
	if grew > 8<<20 {
		t.Errorf("heap grew %d MiB for %d connections that sent 10 bytes each; want it to grow with what arrived", grew>>20, conns)
	}
	assert.Zero(t, srv.left.Load(), "a request answered before its body arrived")
	assert.Zero(t, c.n())
}

// A cap of 1 TiB and a request that declares half of it: nothing is
// allocated for the claim (this crashed the process with "fatal error: out
// of memory"). The peer stops after 10 bytes: the body is cut, 400.
func TestAttackHugeDeclaredLength(t *testing.T) {
	t.Parallel()
	var c calls
	srv := serveRaw(t, webhook.Handler(secret, c.fn, webhook.WithMaxBodyBytes(1<<40)))
	conn := srv.dial(t)
	conn.send(postHead("Content-Length: "+strconv.FormatInt(1<<39, 10), "X-Sendivent-Signature: t=1,v1=00").String() + `{"event":"`)
	conn.closeWrite()
	assert.Equal(t, http.StatusBadRequest, conn.status())
	assert.Zero(t, c.n())
}

// Every cap value works, math.MaxInt64 included (its +1 overflowed, and
// every delivery panicked).
func TestAttackEveryCapValue(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	for _, limit := range []int64{math.MaxInt64, math.MaxInt64 - 1, 1 << 62, 1 << 40, int64(len(body)), -1, 0, math.MinInt64} {
		t.Run(strconv.FormatInt(limit, 10), func(t *testing.T) {
			t.Parallel()
			var c calls
			srv := serveRaw(t, webhook.Handler(secret, c.fn, webhook.WithMaxBodyBytes(limit)))
			conn := srv.dial(t)
			conn.send(delivery(body, signature(secret, time.Now(), body)))
			assert.Equal(t, http.StatusNoContent, conn.status())
			assert.Equal(t, 1, c.n())
			// Verify's own check of the cap.
			_, err := webhook.Verify(body, headers(signature(secret, now, body)), secret, at(now), webhook.WithMaxBodyBytes(limit))
			assert.NoError(t, err)
		})
	}
}

// What net/http lets through of a lying or malformed Content-Length, and
// what the handler makes of it: never the function, never a crash, and the
// server goes on serving.
func TestAttackContentLength(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	sig := "X-Sendivent-Signature: " + signature(secret, time.Now(), body)
	n := strconv.Itoa(len(body))
	tests := []struct {
		name   string
		req    string
		cut    bool  // half-close after sending
		status []int // any of these; 0: the connection closed unanswered
	}{
		{"declares more than it sends", postHead("Content-Length: "+strconv.Itoa(len(body)+100), sig).String() + string(body), true, []int{http.StatusBadRequest}},
		{"declares less than it sends", postHead("Content-Length: "+strconv.Itoa(len(body)-10), sig).String() + string(body), false, []int{http.StatusBadRequest}},
		{"declares over the cap", postHead("Content-Length: "+strconv.Itoa(webhook.DefaultMaxBodyBytes+1), sig).String(), false, []int{http.StatusRequestEntityTooLarge}},
		{"declares 2^63-1", postHead("Content-Length: 9223372036854775807", sig).String(), false, []int{http.StatusRequestEntityTooLarge}},
		{"declares 2^63", postHead("Content-Length: 9223372036854775808", sig).String() + string(body), false, []int{http.StatusBadRequest}},
		{"negative", postHead("Content-Length: -1", sig).String() + string(body), false, []int{http.StatusBadRequest}},
		{"not a number", postHead("Content-Length: 1e3", sig).String() + string(body), false, []int{http.StatusBadRequest}},
		{"two different values", postHead("Content-Length: "+n, "Content-Length: 5", sig).String() + string(body), false, []int{http.StatusBadRequest}},
		{"the same value twice: one request", postHead("Content-Length: "+n, "Content-Length: "+n, sig).String() + string(body), false, []int{http.StatusNoContent}},
		{"with chunked too: chunked wins", postHead("Content-Length: 3", "Transfer-Encoding: chunked", sig).String() + strconv.FormatInt(int64(len(body)), 16) + "\r\n" + string(body) + "\r\n0\r\n\r\n", false, []int{http.StatusNoContent, http.StatusBadRequest}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c calls
			srv := serveRaw(t, webhook.Handler(secret, c.fn))
			conn := srv.dial(t)
			conn.send(tt.req)
			if tt.cut {
				conn.closeWrite()
			}
			resp, err := conn.response()
			got := 0
			if err == nil {
				got = resp.StatusCode
			}
			assert.Contains(t, tt.status, got, "answer (0: none): %v", err)
			if got != http.StatusNoContent {
				assert.Zero(t, c.n(), "the function was called")
			}
			// The server still serves.
			next := srv.dial(t)
			next.send(delivery(body, signature(secret, time.Now(), body)))
			assert.Contains(t, []int{http.StatusNoContent, http.StatusOK}, next.status())
		})
	}
}

// A body over the cap is answered 413 and its connection closed: net/http
// reads no more of it (it would read up to 256 KiB more, to reuse the
// connection), whether the cap was seen in Content-Length or while
// reading.
func TestAttackOverTheCapClosesTheConnection(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	body := strings.Repeat("x", 2*limit)
	for name, req := range map[string]string{
		"declared": postHead("Content-Length: "+strconv.Itoa(len(body)), "X-Sendivent-Signature: t=1,v1=00").String() + body,
		"chunked": postHead("Transfer-Encoding: chunked", "X-Sendivent-Signature: t=1,v1=00").String() +
			strconv.FormatInt(int64(len(body)), 16) + "\r\n" + body + "\r\n0\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var c calls
			srv := serveRaw(t, webhook.Handler(secret, c.fn, webhook.WithMaxBodyBytes(limit)))
			conn := srv.dial(t)
			conn.send(req)
			assert.Equal(t, http.StatusRequestEntityTooLarge, conn.status())
			assert.True(t, conn.closed(), "the connection is closed")
			assert.Zero(t, c.n())
		})
	}
}

// Chunked bodies: one over the cap is refused at the cap, however long it
// goes on; one that stops without its last chunk is cut.
func TestAttackChunkedBodies(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	chunk := strings.Repeat("x", 100)
	t.Run("never ends, past the cap", func(t *testing.T) {
		t.Parallel()
		var c calls
		srv := serveRaw(t, webhook.Handler(secret, c.fn, webhook.WithMaxBodyBytes(limit)))
		conn := srv.dial(t)
		conn.send(postHead("Transfer-Encoding: chunked", "X-Sendivent-Signature: t=1,v1=00").String())
		go func() { // the peer would go on for ever; the server stops reading at the cap
			for range 1000 {
				if _, err := conn.Write([]byte("64\r\n" + chunk + "\r\n")); err != nil {
					return
				}
			}
		}()
		assert.Equal(t, http.StatusRequestEntityTooLarge, conn.status())
		assert.True(t, conn.closed(), "the connection is closed unread")
		assert.Zero(t, c.n())
	})
	t.Run("stops without its last chunk", func(t *testing.T) {
		t.Parallel()
		var c calls
		srv := serveRaw(t, webhook.Handler(secret, c.fn, webhook.WithMaxBodyBytes(limit)))
		conn := srv.dial(t)
		conn.send(postHead("Transfer-Encoding: chunked", "X-Sendivent-Signature: t=1,v1=00").String() + "64\r\n" + chunk + "\r\n")
		conn.closeWrite()
		assert.Equal(t, http.StatusBadRequest, conn.status())
		assert.Zero(t, c.n())
	})
	t.Run("a malformed chunk size", func(t *testing.T) {
		t.Parallel()
		var c calls
		srv := serveRaw(t, webhook.Handler(secret, c.fn, webhook.WithMaxBodyBytes(limit)))
		conn := srv.dial(t)
		conn.send(postHead("Transfer-Encoding: chunked", "X-Sendivent-Signature: t=1,v1=00").String() + "ffffffffffffffffff\r\nxx\r\n")
		assert.Equal(t, http.StatusBadRequest, conn.status())
		assert.Zero(t, c.n())
	})
	t.Run("a signed delivery in chunks", func(t *testing.T) {
		t.Parallel()
		var c calls
		srv := serveRaw(t, webhook.Handler(secret, c.fn, webhook.WithMaxBodyBytes(limit)))
		body := []byte(payload)
		conn := srv.dial(t)
		conn.send(postHead("Transfer-Encoding: chunked", "X-Sendivent-Signature: "+signature(secret, time.Now(), body)).String() +
			strconv.FormatInt(100, 16) + "\r\n" + string(body[:100]) + "\r\n" +
			strconv.FormatInt(int64(len(body)-100), 16) + "\r\n" + string(body[100:]) + "\r\n0\r\n\r\n")
		assert.Equal(t, http.StatusNoContent, conn.status())
		assert.Equal(t, 1, c.n())
	})
}

// A body cut mid-way is refused and claims nothing: the whole delivery,
// sent again, is handled.
func TestAttackBodyCutMidway(t *testing.T) {
	t.Parallel()
	var c calls
	srv := serveRaw(t, webhook.Handler(secret, c.fn))
	body := []byte(payload)
	sig := signature(secret, time.Now(), body)
	conn := srv.dial(t)
	conn.send(delivery(body, sig)[:len(delivery(body, sig))-len(body)/2])
	conn.closeWrite()
	assert.Equal(t, http.StatusBadRequest, conn.status())
	assert.Zero(t, c.n())

	again := srv.dial(t)
	again.send(delivery(body, sig))
	assert.Equal(t, http.StatusNoContent, again.status())
	assert.Equal(t, 1, c.n())
}

// A body that trickles in (slowloris) holds its request until the server's
// ReadTimeout, as the handler's documentation asks, ends it; the function
// is never called, and the handler returns.
func TestAttackSlowBody(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		t.Run("chunked "+strconv.FormatBool(chunked), func(t *testing.T) {
			t.Parallel()
			var c calls
			srv := serveRaw(t, webhook.Handler(secret, c.fn), func(s *http.Server) {
				s.ReadHeaderTimeout = time.Second
				s.ReadTimeout = 300 * time.Millisecond
			})
			conn := srv.dial(t)
			if chunked {
				conn.send(postHead("Transfer-Encoding: chunked", "X-Sendivent-Signature: t=1,v1=00").String())
			} else {
				conn.send(postHead("Content-Length: 100000", "X-Sendivent-Signature: t=1,v1=00").String())
			}
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(20 * time.Millisecond):
					}
					b := "x"
					if chunked {
						b = "1\r\nx\r\n"
					}
					if _, err := conn.Write([]byte(b)); err != nil {
						return
					}
				}
			}()
			waitFor(t, "the handler to return", func() bool { return srv.left.Load() == 1 })
			assert.Zero(t, c.n())
		})
	}
}
