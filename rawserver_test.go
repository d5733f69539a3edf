package sendivent_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// atkRaw is a TCP server that answers each request with whatever bytes
// answer writes, then closes the connection. It records each request's
// idempotency key and Authorization header.
type atkRaw struct {
	url  string
	done chan struct{} // closed when the test ends: an answer that hangs waits on it
	mu   sync.Mutex
	keys []string
	auth []string
	n    atomic.Int64
}

func atkRawServer(t *testing.T, answer func(s *atkRaw, conn net.Conn, req *http.Request)) *atkRaw {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &atkRaw{url: "http://" + ln.Addr().String(), done: make(chan struct{})}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		close(s.done)
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			stop := make(chan struct{})
			wg.Add(2)
			go func() { // ends the connection with the test, whatever answer does
				defer wg.Done()
				select {
				case <-s.done:
				case <-stop:
				}
				conn.Close()
			}()
			go func() {
				defer wg.Done()
				defer close(stop)
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				_, _ = io.Copy(io.Discard, req.Body)
				s.mu.Lock()
				s.keys = append(s.keys, req.Header.Get("X-Idempotency-Key"))
				s.auth = append(s.auth, req.Header.Get("Authorization"))
				s.mu.Unlock()
				s.n.Add(1)
				answer(s, conn, req)
			}()
		}
	}()
	return s
}

// sleep waits d, or less when the test ends; it reports whether d passed.
func (s *atkRaw) sleep(d time.Duration) bool {
	select {
	case <-s.done:
		return false
	case <-time.After(d):
		return true
	}
}

// hang holds the connection until the test ends.
func (s *atkRaw) hang() { <-s.done }

// distinctKeys is how many idempotency keys the server saw.
func (s *atkRaw) distinctKeys() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, k := range s.keys {
		seen[k] = true
	}
	return len(seen)
}

// atkWrite returns an answer that writes raw and closes.
func atkWrite(raw string) func(*atkRaw, net.Conn, *http.Request) {
	return func(_ *atkRaw, conn net.Conn, _ *http.Request) { _, _ = io.WriteString(conn, raw) }
}

func rawStatus(code int, body string, header ...string) func(*atkRaw, net.Conn, *http.Request) {
	return func(_ *atkRaw, conn net.Conn, _ *http.Request) {
		h := ""
		for i := 0; i+1 < len(header); i += 2 {
			h += header[i] + ": " + header[i+1] + "\r\n"
		}
		_, _ = fmt.Fprintf(conn, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			code, http.StatusText(code), h, len(body), body)
	}
}

func noAnswer(_ *atkRaw, conn net.Conn, _ *http.Request) {} // closes the connection unanswered

type ans = func(*atkRaw, net.Conn, *http.Request)
