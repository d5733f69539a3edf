package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestStatus(t *testing.T) {
	t.Parallel()
	retried := map[int]bool{408: true, 429: true, 500: true, 502: true, 503: true, 504: true}
	for code := 100; code < 600; code++ {
		assert.Equal(t, retried[code], Status(code), code)
	}
}

func TestConflict409(t *testing.T) {
	t.Parallel()
	tests := []struct {
		code       string
		retryAfter bool
		want       bool
	}{
		{"", false, false},
		{"IDEMPOTENCY_KEY_REUSED", false, false},
		{"CONFLICT", false, false},
		{"", true, true},
		{"IDEMPOTENCY_KEY_REUSED", true, true},
		{"IN_PROGRESS", false, true},
		{"IDEMPOTENCY_IN_PROGRESS", false, true},
		{"request_in_progress", false, true},
		{"REQUEST_IN_FLIGHT", false, true},
		{"in_flight", false, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Conflict409(tt.code, tt.retryAfter), "%q %v", tt.code, tt.retryAfter)
	}
}

func TestError(t *testing.T) {
	t.Parallel()
	urlErr := func(err error) error { return &url.Error{Op: "Post", URL: "https://api.test/v1/send/x", Err: err} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"reset", urlErr(errors.New("read tcp: connection reset by peer")), true},
		{"refused", urlErr(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}), true},
		{"dns", urlErr(&net.DNSError{Err: "no such host", Name: "api.test", IsTemporary: true}), true},
		{"EOF", urlErr(io.EOF), true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
		{"timeout", urlErr(errors.New("context deadline exceeded (Client.Timeout exceeded while awaiting headers)")), true},
		{"unknown authority", urlErr(x509.UnknownAuthorityError{}), false},
		{"unknown authority wrapped", fmt.Errorf("x: %w", urlErr(x509.UnknownAuthorityError{})), false},
		{"invalid certificate", urlErr(x509.CertificateInvalidError{Reason: x509.Expired}), false},
		{"hostname", urlErr(x509.HostnameError{Host: "api.test", Certificate: &x509.Certificate{}}), false},
		{"verification", urlErr(&tls.CertificateVerificationError{Err: errors.New("bad")}), false},
		{"record header", urlErr(tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}), false},
		{"redirects", urlErr(errors.New("stopped after 10 redirects")), false},
		{"scheme", urlErr(errors.New(`unsupported protocol scheme "ftp"`)), false},
		{"header", urlErr(errors.New(`net/http: invalid header field value for "X"`)), false},
		{"no host", urlErr(errors.New("http: no Host in request URL")), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Error(tt.err), tt.name)
	}
}

func TestDelay(t *testing.T) {
	t.Parallel()
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for n, w := range want {
		assert.Equal(t, w, Delay(n, 0), n)
		// Jitter takes off up to a quarter.
		assert.Equal(t, w-w/4, Delay(n, 1), n)
		d := Delay(n, 0.5)
		assert.True(t, d >= w-w/4 && d <= w, "%d: %v", n, d)
	}
	for _, n := range []int{10, 62, 63, 64, 1000, math.MaxInt32} {
		assert.Equal(t, MaxDelay, Delay(n, 0), n)
	}
}

func TestParseAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"2", 2 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"120", 2 * time.Minute, true},
		{"1.5", 1500 * time.Millisecond, true},
		{".25", 250 * time.Millisecond, true},
		{"1e2", 100 * time.Second, true},
		{"31536000", 365 * 24 * time.Hour, true}, // a year
		{"3153600000", maxAfter, true},           // a century: capped
		{"99999999999999999999999999", maxAfter, true},
		{"1e300", maxAfter, true},
		{strconv.FormatFloat(math.MaxFloat64, 'f', -1, 64), maxAfter, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(365 * 24 * time.Hour).Format(http.TimeFormat), 365 * 24 * time.Hour, true},
		{"Wed, 01 Apr 2226 12:00:00 GMT", maxAfter, true}, // two centuries ahead: capped
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
		{now.Format(time.RFC850), 0, true},
		{now.Add(time.Minute).Format(time.ANSIC), time.Minute, true},
		{"", 0, false},
		{"   ", 0, false},
		{"-1", 0, false},
		{"-0.5", 0, false},
		{"+5", 0, false},
		{"soon", 0, false},
		{"5s", 0, false},
		{"1e400", 100 * 365 * 24 * time.Hour, true}, // too large for a float64: as long as can be
		{"NaN", 0, false},
		{"nan", 0, false},
		{"Inf", 0, false},
		{"+Inf", 0, false},
		{"Infinity", 0, false},
		{"0x10", 0, false},
		{"2026-04-01T12:00:30Z", 0, false},
	}
	for _, tt := range tests {
		got, ok := ParseAfter(tt.in, now)
		assert.Equal(t, tt.ok, ok, "%q", tt.in)
		assert.Equal(t, tt.want, got, "%q", tt.in)
		assert.GreaterOrEqual(t, got, time.Duration(0), "%q", tt.in)
	}
}

func FuzzParseAfter(f *testing.F) {
	for _, s := range []string{"0", "1.5", "-1", "NaN", "1e400", "Wed, 01 Apr 2026 12:00:00 GMT", "9999999999999"} {
		f.Add(s)
	}
	now := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseAfter(s, now)
		if d < 0 || d > maxAfter {
			t.Fatalf("ParseAfter(%q) = %v", s, d)
		}
		if !ok && d != 0 {
			t.Fatalf("ParseAfter(%q) = %v, false", s, d)
		}
	})
}

func TestRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		f    Failure
		want bool
	}{
		{"503", Failure{Status: 503}, true},
		{"501", Failure{Status: 501}, false},
		{"404", Failure{Status: 404}, false},
		{"409 reused key", Failure{Status: 409, Code: "IDEMPOTENCY_KEY_REUSED"}, false},
		{"409 in flight", Failure{Status: 409, Code: "IN_PROGRESS"}, true},
		{"409 Retry-After 0", Failure{Status: 409, HasRetryAfter: true}, true},
		{"101", Failure{Status: 101}, false},
		{"200 cut", Failure{Status: 200, Cut: true}, true},
		{"200 whole but unusable", Failure{Status: 200, Err: errors.New("no id")}, false},
		{"300 not followed", Failure{Status: 300}, false},
		{"network", Failure{Err: io.ErrUnexpectedEOF}, true},
		{"certificate", Failure{Err: x509.UnknownAuthorityError{}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, Retryable(tt.f))
		})
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	plan := func(retries int, deadline time.Duration, jitter float64) Plan {
		p := Plan{Retries: retries, MaxRetries: 2, MaxRetryWait: 30 * time.Second, Now: now, Jitter: jitter}
		if deadline > 0 {
			p.Deadline = now.Add(deadline)
		}
		return p
	}
	after := func(d time.Duration) Failure { return Failure{Status: 429, HasRetryAfter: true, RetryAfter: d} }
	tests := []struct {
		name     string
		f        Failure
		p        Plan
		want     Decision
		deadline bool // Stop matches context.DeadlineExceeded
	}{
		{"first retry", Failure{Status: 503}, plan(0, 0, 0), Decision{Retry: true, Wait: 500 * time.Millisecond, Reason: ReasonBackoff}, false},
		{"second retry", Failure{Status: 503}, plan(1, 0, 0), Decision{Retry: true, Wait: time.Second, Reason: ReasonBackoff}, false},
		{"retries spent", Failure{Status: 503}, plan(2, 0, 0), Decision{Reason: ReasonExhausted}, false},
		{"not retryable", Failure{Status: 400}, plan(0, 0, 0), Decision{Reason: ReasonNotRetryable}, false},
		{"not retryable with retries spent", Failure{Status: 400}, plan(2, 0, 0), Decision{Reason: ReasonNotRetryable}, false},
		{"jitter takes off up to a quarter", Failure{Status: 503}, plan(1, 0, 0.999999), Decision{Retry: true, Wait: 750*time.Millisecond + 250, Reason: ReasonBackoff}, false},
		{"Retry-After", after(time.Second), plan(0, 0, 0), Decision{Retry: true, Wait: time.Second, Reason: ReasonRetryAfter}, false},
		{"Retry-After plus jitter", after(time.Second), plan(0, 0, 0.5), Decision{Retry: true, Wait: 1125 * time.Millisecond, Reason: ReasonRetryAfter}, false},
		{"Retry-After 0 is at once", after(0), plan(0, 0, 0.5), Decision{Retry: true, Wait: 0, Reason: ReasonRetryAfter}, false},
		{"Retry-After over the cap", after(31 * time.Second), plan(0, 0, 0), Decision{Reason: ReasonAfterTooLong}, false},
		{"wait passes the deadline", Failure{Status: 503}, plan(0, 400*time.Millisecond, 0), Decision{}, true},
		{"wait ends at the deadline", Failure{Status: 503}, plan(0, 500*time.Millisecond, 0), Decision{}, true},
		{"wait fits", Failure{Status: 503}, plan(0, 501*time.Millisecond, 0), Decision{Retry: true, Wait: 500 * time.Millisecond, Reason: ReasonBackoff}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Decide(tt.f, tt.p)
			if tt.deadline {
				assert.False(t, got.Retry)
				assert.ErrorIs(t, got.Stop, context.DeadlineExceeded)
				assert.Contains(t, got.Stop.Error(), "deadline")
				assert.Equal(t, ReasonDeadline, got.Reason)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAfterJitterNeverLess(t *testing.T) {
	t.Parallel()
	for _, after := range []time.Duration{0, time.Second, time.Minute, time.Hour} {
		for _, r := range []float64{0, 0.3, 0.999} {
			got := AfterJitter(after, r)
			assert.GreaterOrEqual(t, got, after)
			assert.LessOrEqual(t, got, after+5*time.Second)
		}
	}
	// Clients told "1" spread over a quarter of a second.
	assert.Equal(t, 250*time.Millisecond, AfterJitter(time.Second, 0.999999999)-time.Second+1)
	assert.Equal(t, time.Hour+5*time.Second, AfterJitter(time.Hour, 1))
}
