// Package retry holds the retry policy of the SDK: which failures are worth
// another attempt, how long to wait before it, and whether that wait fits
// before the deadline. Decide is the one place that says so; the client's
// retry loop, APIError.Temporary and Wait all ask it or Retryable.
package retry

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Failure is how one attempt failed, as the policy sees it.
type Failure struct {
	Status        int    // the answer's HTTP status; 0 when none came
	Code          string // the error body's machine code (it qualifies a 409)
	HasRetryAfter bool
	RetryAfter    time.Duration // the parsed Retry-After, when HasRetryAfter
	// Err is why no usable answer came: a transport error, or why a 2xx
	// body could not be used.
	Err error
	// Cut is true when the answer's body ended too soon (the connection
	// broke, or the JSON stops mid-way): it may come whole next time.
	Cut bool
}

// Retryable reports whether the same request may succeed if sent again.
func Retryable(f Failure) bool {
	switch {
	case f.Status >= 200 && f.Status < 300:
		return f.Cut // a whole 2xx body that is unusable will be so again
	case f.Status == http.StatusConflict:
		return Conflict409(f.Code, f.HasRetryAfter)
	case f.Status >= 300:
		return Status(f.Status)
	case f.Status != 0: // 1xx: a protocol switch the SDK did not ask for
		return false
	}
	return f.Cut || Error(f.Err)
}

// Plan is what the policy needs to know about the call besides the failure.
type Plan struct {
	Retries      int // retries made so far
	MaxRetries   int
	MaxRetryWait time.Duration // the longest Retry-After waited out
	Now          time.Time
	Deadline     time.Time // the context's; zero when it has none
	Jitter       float64   // a random number in [0, 1)
}

// Decision is the policy's answer: retry after Wait, or stop. Stop, when
// set, is why the SDK stopped before its retries ran out. Reason says why,
// in one of the words below, for observers.
type Decision struct {
	Retry  bool
	Wait   time.Duration
	Stop   error
	Reason string
}

// Reasons of a Decision.
const (
	ReasonBackoff      = "backoff"              // retry after the backoff curve's wait
	ReasonRetryAfter   = "retry_after"          // retry after the wait the service asked for
	ReasonNotRetryable = "not_retryable"        // the failure would happen again
	ReasonExhausted    = "retries_exhausted"    // no retries left
	ReasonAfterTooLong = "retry_after_too_long" // the service asked for more than MaxRetryWait
	ReasonDeadline     = "deadline"             // the next attempt would start after the deadline
)

// Decide says whether to retry after failure f and how long to wait first.
// Backoff is 0.5 s·2ⁿ capped at 8 s, less up to a quarter at random. A
// Retry-After is waited out, plus jitter so that many clients told the same
// wait do not come back together, unless it is longer than MaxRetryWait:
// then the SDK stops and the caller sees it. A wait that would end at or
// after the deadline is not started.
func Decide(f Failure, p Plan) Decision {
	if !Retryable(f) {
		return Decision{Reason: ReasonNotRetryable}
	}
	if p.Retries >= p.MaxRetries {
		return Decision{Reason: ReasonExhausted}
	}
	wait, reason := Delay(p.Retries, p.Jitter), ReasonBackoff
	if f.HasRetryAfter {
		if f.RetryAfter > p.MaxRetryWait {
			return Decision{Reason: ReasonAfterTooLong}
		}
		wait, reason = AfterJitter(f.RetryAfter, p.Jitter), ReasonRetryAfter
		if room := p.Deadline.Sub(p.Now); !p.Deadline.IsZero() && wait >= room && f.RetryAfter < room {
			// The wait asked for fits; its jitter is trimmed to what is left.
			wait = f.RetryAfter + time.Duration(float64(room-f.RetryAfter)*p.Jitter)
		}
	}
	if !p.Deadline.IsZero() && !p.Now.Add(wait).Before(p.Deadline) {
		return Decision{Stop: &deadlineStop{wait: wait}, Reason: ReasonDeadline}
	}
	return Decision{Retry: true, Wait: wait, Reason: reason}
}

// deadlineStop matches context.DeadlineExceeded: the deadline is as good as
// passed, since no attempt could start before it.
type deadlineStop struct{ wait time.Duration }

func (e *deadlineStop) Error() string {
	return "the next attempt, due in " + e.wait.String() + ", would start after the context's deadline"
}
func (e *deadlineStop) Is(target error) bool { return target == context.DeadlineExceeded }

// AfterJitter is a Retry-After wait plus up to a quarter of it more (at
// most 5 s more), given a random number r in [0, 1): clients told "1" come
// back over 250 ms, not all at once. It is never less than after, and "0"
// stays 0: the service asked for an attempt at once.
func AfterJitter(after time.Duration, r float64) time.Duration {
	return after + time.Duration(float64(min(after/4, 5*time.Second))*r)
}

// Backoff curve: 0.5 s·2ⁿ, capped, with up to 25% taken off at random so
// that many clients failing together do not retry together.
const (
	BaseDelay = 500 * time.Millisecond
	MaxDelay  = 8 * time.Second
)

// Status reports whether an HTTP status is worth retrying: 408, 429, 500,
// 502, 503 and 504. 409 is left to Conflict409: only an in-flight
// idempotency conflict is.
func Status(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Conflict409 reports whether a 409 answer describes a request that is still
// in flight (worth retrying with the same key) rather than a key reused for a
// different request (never worth it). It reads the error code and the
// Retry-After header, the only two signals the service could give.
func Conflict409(code string, hasRetryAfter bool) bool {
	if hasRetryAfter {
		return true
	}
	c := strings.ToUpper(code)
	return strings.Contains(c, "IN_PROGRESS") || strings.Contains(c, "IN_FLIGHT")
}

// Error reports whether a transport error (no HTTP answer) is worth retrying.
// Certificate problems, redirect loops, bad URLs and bad headers fail the
// same way every time, so they are not.
func Error(err error) bool {
	if err == nil || TLSFailure(err) {
		return false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		msg := ue.Err.Error()
		if strings.Contains(msg, "stopped after") || // redirect limit
			strings.Contains(msg, "unsupported protocol scheme") ||
			strings.Contains(msg, "invalid header") ||
			strings.Contains(msg, "no Host in request URL") {
			return false
		}
	}
	return true
}

// TLSFailure reports whether err is the server's certificate failing
// verification, or a TLS handshake with what does not speak TLS.
func TLSFailure(err error) bool {
	var (
		unknownCA   x509.UnknownAuthorityError
		invalidCert x509.CertificateInvalidError
		hostname    x509.HostnameError
		verify      *tls.CertificateVerificationError
		recordHdr   tls.RecordHeaderError
	)
	return errors.As(err, &unknownCA) || errors.As(err, &invalidCert) ||
		errors.As(err, &hostname) || errors.As(err, &verify) || errors.As(err, &recordHdr)
}

// Delay returns the backoff before retry number n (0 for the first retry),
// given a random number r in [0, 1).
func Delay(n int, r float64) time.Duration {
	d := MaxDelay
	if n < 5 { // 0.5 s·2⁴ = 8 s: past that it is the cap anyway
		d = min(BaseDelay<<n, MaxDelay)
	}
	return d - time.Duration(float64(d)*0.25*r)
}

// maxAfter bounds a parsed Retry-After so arithmetic on it cannot overflow.
const maxAfter = 100 * 365 * 24 * time.Hour

// ParseAfter reads a Retry-After value: delay seconds (a decimal number is
// accepted) or an HTTP date. It reports false for an empty, negative or
// unreadable value. A date in the past gives 0.
func ParseAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if c := v[0]; c >= '0' && c <= '9' || c == '.' {
		secs, err := strconv.ParseFloat(v, 64)
		if math.IsInf(secs, 1) { // too large for a float64: as long as can be
			return maxAfter, true
		}
		if err != nil || math.IsNaN(secs) || secs < 0 {
			return 0, false
		}
		if secs >= maxAfter.Seconds() {
			return maxAfter, true
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := t.Sub(now)
	if d < 0 {
		return 0, true
	}
	return min(d, maxAfter), true
}
