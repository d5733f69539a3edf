package sendivent_test

// Adversarial tests: servers and transports the SDK did not write, attacking
// its public API on loopback. Each test states the property it checks; each
// of the 18 holes they found is fixed and its test runs:
//
//	go test -race -count=1 -run TestAttack -v .

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
)

// atkKey is the key every attack uses: no run of 8 of its characters may
// reach an error, an error's fields or a log line.
const atkKey = "test_Atk7Qm2Lx9Pw4Rv8Ns3Kd6Hj1Fb5"

const atkAccepted = `{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`

func atkSend(ctx context.Context, c *sendivent.Client) (*sendivent.SendResponse, error) {
	return c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(ctx)
}

// atkClient is a client of url with a short attempt bound (200 ms), one
// retry, and its waits (backoff, Retry-After, polls) scaled down 1000 times
// by WithTimeScale, which changes none of its decisions; opts come last, so
// they win.
func atkClient(t *testing.T, url string, opts ...sendivent.Option) *sendivent.Client {
	t.Helper()
	base := []sendivent.Option{sendivent.WithBaseURL(url), sendivent.WithTimeout(200 * time.Millisecond),
		sendivent.WithMaxRetries(1), sendivent.WithTimeScale(1000)}
	c, err := sendivent.NewClient(atkKey, append(base, opts...)...)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// longEnv names the environment variable that runs the long campaigns in
// full: chaos at 20,000 sends, the throughput run of 2,000 sends at 200/s,
// the hostile peers at their full timings. .ci/run sets it; by default each
// runs in a short form that proves the same behaviour.
const longEnv = "SENDIVENT_LONG_TESTS"

// long reports whether $SENDIVENT_LONG_TESTS asks for the long campaigns.
func long() bool { return os.Getenv(longEnv) != "" }

var errAtkHang = errors.New("attack: the call did not return")

// atkCall runs f under a context that ends after limit. A panic is a test
// failure, not a crash; a call still running 5 s after its context ended is
// reported as a hang and abandoned.
func atkCall(t *testing.T, limit time.Duration, f func(context.Context) error) (time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	type outcome struct {
		err   error
		panic any
		stack []byte
	}
	ch := make(chan outcome, 1)
	start := time.Now()
	go func() {
		var o outcome
		defer func() {
			if p := recover(); p != nil {
				o.panic, o.stack = p, debug.Stack()
			}
			ch <- o
		}()
		o.err = f(ctx)
	}()
	select {
	case o := <-ch:
		if o.panic != nil {
			t.Errorf("PANIC: %v\n%s", o.panic, o.stack)
			return time.Since(start), fmt.Errorf("panic: %v", o.panic)
		}
		return time.Since(start), o.err
	case <-time.After(limit + 5*time.Second):
		t.Errorf("HANG: the call outlived its context (%v) by 5 s", limit)
		return time.Since(start), errAtkHang
	}
}

// atkTyped fails unless err is one of the SDK's five error types.
func atkTyped(t *testing.T, err error) {
	t.Helper()
	var (
		ae *sendivent.APIError
		te *sendivent.TransportError
		ve *sendivent.ValidationError
		we *sendivent.WaitTimeoutError
		be *sendivent.BatchError
	)
	if err == nil {
		t.Errorf("want an error, got nil")
		return
	}
	if !errors.As(err, &ae) && !errors.As(err, &te) && !errors.As(err, &ve) && !errors.As(err, &we) && !errors.As(err, &be) {
		t.Errorf("error of no SDK type: %T: %v", err, err)
	}
}

// atkPieces lists the runs of 8 characters of the key found in s.
func atkPieces(s string) []string {
	var found []string
	for i := 0; i+8 <= len(atkKey); i++ {
		if strings.Contains(s, atkKey[i:i+8]) {
			found = append(found, atkKey[i:i+8])
		}
	}
	return found
}

func atkNoKey(t *testing.T, where, s string) {
	t.Helper()
	if p := atkPieces(s); len(p) > 0 {
		t.Errorf("KEY LEAK: %s holds %d run(s) of 8 of the key's characters, such as %q: %.300q", where, len(p), p[0], s)
	}
}

// atkNoKeyInErr looks for the key in everything err carries: its message in
// every form, each error it wraps, each attempt's error, and an APIError's
// fields.
func atkNoKeyInErr(t *testing.T, err error) {
	t.Helper()
	atkWalk(err, func(e error) {
		atkNoKey(t, fmt.Sprintf("%T.Error()", e), e.Error())
		atkNoKey(t, fmt.Sprintf("%%+v of %T", e), fmt.Sprintf("%+v", e))
		var attempts []sendivent.Attempt
		switch v := e.(type) {
		case *sendivent.APIError:
			atkNoKey(t, "APIError.Body", string(v.Body))
			for _, s := range []string{v.Message, v.Code, v.Field, v.Channel, v.RequestID} {
				atkNoKey(t, "APIError field", s)
			}
			attempts = v.Attempts
		case *sendivent.TransportError:
			attempts = v.Attempts
		}
		for i, a := range attempts {
			if a.Err != nil {
				atkNoKey(t, fmt.Sprintf("Attempts[%d].Err", i), a.Err.Error())
			}
		}
	})
}

func atkWalk(err error, f func(error)) {
	if err == nil {
		return
	}
	f(err)
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		atkWalk(u.Unwrap(), f)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			atkWalk(e, f)
		}
	}
}

// atkAttempts is how many attempts the error records.
func atkAttempts(err error) int {
	var ae *sendivent.APIError
	if errors.As(err, &ae) {
		return len(ae.Attempts)
	}
	var te *sendivent.TransportError
	if errors.As(err, &te) {
		return len(te.Attempts)
	}
	return -1
}

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

// atkRT is a caller's RoundTripper made of a function.
type atkRT func(*http.Request) (*http.Response, error)

func (f atkRT) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// atkLimiter is a caller's Limiter made of a function.
type atkLimiter func(context.Context) error

func (f atkLimiter) Wait(ctx context.Context) error { return f(ctx) }
