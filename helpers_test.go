package sendivent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/webhook"
)

// Adversarial tests: servers and transports the SDK did not write, attacking
// its public API on loopback. Each test states the property it checks; each
// of the 18 holes they found is fixed and its test runs:
//
//	go test -race -count=1 -run TestAttack -v .

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

// atkRT is a caller's RoundTripper made of a function.
type atkRT func(*http.Request) (*http.Response, error)

func (f atkRT) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

var keptConfig = sendivent.WebhookConfig{URL: "https://example.com/hooks", EnabledEvents: []webhook.EventType{webhook.DeliverySent}}

// keptServer answers the n-th request (from 0) with answers[n], the last
// repeating.
func keptServer(t *testing.T, answers ...func(*atkRaw, net.Conn, *http.Request)) *atkRaw {
	t.Helper()
	return atkRawServer(t, func(s *atkRaw, conn net.Conn, r *http.Request) {
		answers[min(int(s.n.Load())-1, len(answers)-1)](s, conn, r)
	})
}

// hookClient is atkClient with an attempt bound that a loaded machine
// under -race does not reach: these tests count attempts.
func hookClient(t *testing.T, url string, opts ...sendivent.Option) *sendivent.Client {
	t.Helper()
	return atkClient(t, url, append([]sendivent.Option{sendivent.WithTimeout(5 * time.Second)}, opts...)...)
}

// atkStatic is an httptest server that answers every request with status
// and body, and counts the requests.
func atkStatic(t *testing.T, status int, body string, header ...string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Add(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

var quick = []sendivent.WaitOption{sendivent.PollEvery(10*time.Millisecond, 50*time.Millisecond), sendivent.WaitAtMost(10 * time.Second)}

func alice() []sendivent.Recipient {
	return []sendivent.Recipient{sendivent.Address("alice@example.com")}
}

func hostileSend(ctx context.Context, c *sendivent.Client) (*sendivent.SendResponse, error) {
	return c.Send(ctx, "welcome", sendivent.SendRequest{
		To: []sendivent.Recipient{sendivent.Address("alice@example.com")},
	})
}
