package sendivent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
)

// TestAttackRetryAfter: Retry-After values at their edges on 429, 503 and
// 409: negative, huge, dates past and future, two headers, NaN, lists,
// fractions. Property: a bad value is ignored (backoff applies); a wait
// longer than WithMaxRetryWait (2 s here) is not waited and is reported in
// RetryAfter; no wait passes the context's deadline; the error matches the
// status's sentinel; at most MaxRetries+1 requests.
func TestAttackRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	tests := []struct {
		name     string
		status   int
		after    []string
		attempts int           // requests the server sees
		atLeast  time.Duration // RetryAfter reported at least this
		within   time.Duration // the call ends within this
	}{
		{"429 negative", 429, []string{"-1"}, 2, 0, 3 * time.Second},
		{"429 a billion seconds", 429, []string{"1000000000"}, 1, 1e9 * time.Second, time.Second},
		{"429 twenty nines", 429, []string{"99999999999999999999"}, 1, 50 * 365 * 24 * time.Hour, time.Second},
		{"429 date in the past", 429, []string{now.Add(-time.Hour).Format(http.TimeFormat)}, 2, 0, time.Second},
		{"429 date in an hour", 429, []string{now.Add(time.Hour).Format(http.TimeFormat)}, 1, 59 * time.Minute, time.Second},
		{"429 year 9999", 429, []string{"Fri, 31 Dec 9999 23:59:59 GMT"}, 1, 50 * 365 * 24 * time.Hour, time.Second},
		{"503 two headers, 0 first", 503, []string{"0", "3600"}, 2, 0, time.Second},
		{"503 two headers, 3600 first", 503, []string{"3600", "0"}, 1, time.Hour, time.Second},
		{"409 0: in flight", 409, []string{"0"}, 2, 0, time.Second},
		{"409 none: a reused key", 409, nil, 1, 0, time.Second},
		{"429 NaN", 429, []string{"NaN"}, 2, 0, 3 * time.Second},
		{"429 a list", 429, []string{"1, 2"}, 2, 0, 3 * time.Second},
		{"429 a tiny fraction", 429, []string{"1e-300"}, 2, 0, time.Second},
		{"429 empty", 429, []string{""}, 2, 0, 3 * time.Second},
		{"429 hex", 429, []string{"0x10"}, 2, 0, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := make([]string, 0, 2*len(tt.after))
			for _, v := range tt.after {
				header = append(header, "Retry-After", v)
			}
			srv, n := atkStatic(t, tt.status, `{"error":"slow down"}`, header...)
			c := atkClient(t, srv.URL, sendivent.WithMaxRetryWait(2*time.Second), sendivent.WithTimeout(time.Second))
			took, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
			var ae *sendivent.APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.status, ae.StatusCode)
			assert.EqualValues(t, tt.attempts, n.Load(), "requests")
			assert.GreaterOrEqual(t, ae.RetryAfter, tt.atLeast)
			assert.Less(t, took, tt.within)
			switch tt.status {
			case 429:
				assert.ErrorIs(t, err, sendivent.ErrRateLimited)
			case 503:
				assert.ErrorIs(t, err, sendivent.ErrServer)
			case 409:
				assert.ErrorIs(t, err, sendivent.ErrConflict)
				assert.Equal(t, tt.attempts > 1, ae.Temporary(), "Temporary agrees with the retry")
			}
		})
	}
}

// TestAttackRetryAfterMeetsDeadline: a Retry-After that fits under
// WithMaxRetryWait but not before the context's deadline, and a context
// cancelled during the wait. Property: no wait is started that cannot end
// in time; a cancel ends the wait at once; the error matches both the
// status's sentinel and the context's error.
func TestAttackRetryAfterMeetsDeadline(t *testing.T) {
	t.Parallel()
	srv, n := atkStatic(t, 429, `{}`, "Retry-After", "5")
	c := atkClient(t, srv.URL, sendivent.WithMaxRetries(3))
	took, err := atkCall(t, 3*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	assert.ErrorIs(t, err, sendivent.ErrRateLimited)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, 2*time.Second, "the 5 s wait is not begun")
	assert.EqualValues(t, 1, n.Load())

	srv, _ = atkStatic(t, 503, `{}`, "Retry-After", "3")
	c = atkClient(t, srv.URL, sendivent.WithMaxRetries(3), sendivent.WithTimeScale(1)) // the wait is what is cancelled
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err = atkSend(ctx, c)
	assert.ErrorIs(t, err, sendivent.ErrServer)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), 2*time.Second, "the cancel ends the 3 s wait")
}

// TestAttackRedirects: redirect loops, chains slower than the attempt's
// bound, 3xx without Location, redirects to another port, to another
// scheme, to https on a plain port. Property: a typed error in bounded
// time; a loop ends after at most 10 hops and is not retried; the key is
// never sent to another origin.
func TestAttackRedirects(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var stolen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stolen = append(stolen, r.Header.Get("Authorization"))
		mu.Unlock()
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, atkAccepted)
	}))
	t.Cleanup(other.Close)
	var hops atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		kind := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
		self := "http://" + r.Host + r.URL.Path
		switch kind {
		case "loop302":
			http.Redirect(w, r, self, http.StatusFound)
		case "loop307":
			http.Redirect(w, r, self, http.StatusTemporaryRedirect)
		case "slow":
			time.Sleep(60 * time.Millisecond)
			http.Redirect(w, r, self, http.StatusTemporaryRedirect)
		case "nolocation":
			w.WriteHeader(http.StatusFound)
		case "badlocation":
			w.Header().Set("Location", "http://[::1")
			w.WriteHeader(http.StatusMovedPermanently)
		case "other307", "other308":
			code := http.StatusTemporaryRedirect
			if kind == "other308" {
				code = http.StatusPermanentRedirect
			}
			http.Redirect(w, r, other.URL+r.URL.Path, code)
		case "localhost":
			http.Redirect(w, r, strings.Replace(other.URL, "127.0.0.1", "localhost", 1)+r.URL.Path, http.StatusTemporaryRedirect)
		case "ftp":
			http.Redirect(w, r, "ftp://127.0.0.1/x", http.StatusFound)
		case "https":
			http.Redirect(w, r, "https://"+r.Host+"/x", http.StatusTemporaryRedirect)
		}
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		kind     string
		ok       bool // the other server's answer is the result
		maxHops  int64
		attempts int
	}{
		{"loop302", false, 11, 1},
		{"loop307", false, 11, 1},
		{"slow", false, 16, 2}, // 60 ms a hop against a 200 ms bound: cut, and retried
		{"nolocation", false, 1, 1},
		{"badlocation", false, 2, 2}, // retried once: a parse error that will repeat (harmless)
		{"other307", true, 1, 1},
		{"other308", true, 1, 1},
		{"localhost", true, 1, 1},
		{"ftp", false, 1, 1},
		{"https", false, 2, 2}, // retried once: net/http hides the tls.RecordHeaderError (harmless)
	}
	for _, tt := range tests {
		hops.Store(0)
		// Only "slow" is about the attempt's bound; the others get one a
		// loaded machine under -race cannot reach in ten hops.
		bound := 5 * time.Second
		if tt.kind == "slow" {
			bound = 200 * time.Millisecond
		}
		c := atkClient(t, srv.URL+"/"+tt.kind, sendivent.WithTimeout(bound))
		res, err := atkSend(context.Background(), c)
		if tt.ok {
			if assert.NoError(t, err, tt.kind) {
				assert.NotEmpty(t, res.ID)
			}
		} else {
			atkTyped(t, err)
			atkNoKeyInErr(t, err)
			assert.Equal(t, tt.attempts, atkAttempts(err), "%s: %v", tt.kind, err)
		}
		assert.LessOrEqual(t, hops.Load(), tt.maxHops, tt.kind)
		t.Logf("%s: %d hops: %v", tt.kind, hops.Load(), err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, a := range stolen {
		assert.Empty(t, a, "Authorization sent to another origin")
	}
	assert.Len(t, stolen, 3)
}

// TestAttackRetryAfterOverflow: a Retry-After too large for a float64
// ("1e400", 400 nines). Property: like "99999999999999999999", it means
// "not soon" (RetryAfter at the cap, not waited, not retried), rather than
// being ignored so that the backoff retries it within a second.
func TestAttackRetryAfterOverflow(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"1e400", strings.Repeat("9", 400)} {
		srv, n := atkStatic(t, 429, `{}`, "Retry-After", v)
		c := atkClient(t, srv.URL)
		_, err := atkSend(context.Background(), c)
		var ae *sendivent.APIError
		require.ErrorAs(t, err, &ae)
		assert.EqualValues(t, 1, n.Load(), "%.10s: not retried", v)
		assert.Greater(t, ae.RetryAfter, 24*time.Hour, "%.10s", v)
	}
}

// atkRedirectChain redirects every request to a new path after 100 ms, and
// counts the hops.
func atkRedirectChain(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var hops atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := hops.Add(1)
		time.Sleep(100 * time.Millisecond)
		http.Redirect(w, r, fmt.Sprintf("/hop%d", n), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	return srv, &hops
}

// TestAttackRedirectChainBound: ten hops of 100 ms each under a 200 ms
// attempt bound. Property: the chain is cut at the attempt's bound, not
// given a fresh bound per hop.
func TestAttackRedirectChainBound(t *testing.T) {
	t.Parallel()
	srv, hops := atkRedirectChain(t)
	c := atkClient(t, srv.URL, sendivent.WithMaxRetries(0))
	took, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, took, 800*time.Millisecond, "10 hops would take 1 s")
	assert.LessOrEqual(t, hops.Load(), int64(4))
	var te *sendivent.TransportError
	assert.True(t, errors.As(err, &te) && te.Temporary())
}

// TestAttackRedirectChainBoundCallerTransport: the same chain through a
// caller's transport that does not set Response.Request (nothing in
// net/http's RoundTripper contract requires it; http.Client never reads
// it). Property: the chain is still cut at the attempt's bound.
func TestAttackRedirectChainBoundCallerTransport(t *testing.T) {
	t.Parallel()
	srv, hops := atkRedirectChain(t)
	base := &http.Transport{}
	t.Cleanup(base.CloseIdleConnections)
	rt := atkRT(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		if resp != nil {
			resp.Request = nil
		}
		return resp, err
	})
	c := atkClient(t, srv.URL, sendivent.WithMaxRetries(0), sendivent.WithHTTPClient(&http.Client{Transport: rt}))
	took, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	atkTyped(t, err)
	assert.Less(t, took, 800*time.Millisecond, "the attempt's bound is 200 ms; 10 hops take 1 s: %v", err)
	assert.LessOrEqual(t, hops.Load(), int64(4))
}
