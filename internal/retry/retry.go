// Package retry holds the retry policy of the SDK: which answers are worth
// another attempt, how long to wait before it, and how to read Retry-After.
package retry

import (
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

// Backoff curve: 0.5 s·2ⁿ, capped, with up to 25% taken off at random so
// that many clients failing together do not retry together.
const (
	BaseDelay = 500 * time.Millisecond
	MaxDelay  = 8 * time.Second
)

// Status reports whether an HTTP status is worth retrying. 409 is left to
// the caller: only an in-flight idempotency conflict is.
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
	if err == nil {
		return false
	}
	var (
		unknownCA   x509.UnknownAuthorityError
		invalidCert x509.CertificateInvalidError
		hostname    x509.HostnameError
		verify      *tls.CertificateVerificationError
		recordHdr   tls.RecordHeaderError
	)
	if errors.As(err, &unknownCA) || errors.As(err, &invalidCert) ||
		errors.As(err, &hostname) || errors.As(err, &verify) || errors.As(err, &recordHdr) {
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
		if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) || secs < 0 {
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
