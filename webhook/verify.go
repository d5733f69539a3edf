package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"net/http"
	"time"
)

// The errors of [Verify], matchable with [errors.Is]. Their texts say what
// is wrong and never hold a secret or an expected signature.
var (
	// ErrMissingHeader: the request has no X-Sendivent-Signature, or an
	// empty one. It did not come from the service.
	ErrMissingHeader = errors.New("webhook: missing " + SignatureHeader + " header")
	// ErrMalformedHeader: the header is not "t=<unix>,v1=<hex>…".
	ErrMalformedHeader = errors.New("webhook: malformed " + SignatureHeader + " header")
	// ErrNoValidSignature: no v1 signature in the header matches the body
	// under any of the secrets. The body was altered, the secret is wrong,
	// or the request is forged.
	ErrNoValidSignature = errors.New("webhook: no valid signature")
	// ErrTimestampOutOfRange: the signature is valid, but its timestamp is
	// further from now than the tolerance: a replay, or a skewed clock.
	ErrTimestampOutOfRange = errors.New("webhook: signature timestamp out of range")
	// ErrBodyTooLarge: the body is over the size cap; it was not checked.
	ErrBodyTooLarge = errors.New("webhook: body too large")
	// ErrInvalidPayload: the signature is valid but the body is not a JSON
	// object.
	ErrInvalidPayload = errors.New("webhook: payload is not a JSON object")
	// ErrNoSecret: Verify was given no non-empty secret to check with.
	ErrNoSecret = errors.New("webhook: no signing secret")
)

// Verify checks that body, with the headers it came with, is a delivery
// signed by the service with secret (or with one of [WithSecrets]), and
// returns its event.
//
// Pass the body exactly as received, before any parsing: the signature
// covers its raw bytes. In order, Verify refuses a body over the size cap
// ([ErrBodyTooLarge]), a missing or malformed header ([ErrMissingHeader],
// [ErrMalformedHeader]; a header over [MaxSignatureHeaderBytes] is
// malformed, and one sent as several lines is read as one list, as HTTP
// defines it), a header none of whose v1 values matches
// ([ErrNoValidSignature]; signatures are compared in constant time), and a
// valid signature whose timestamp is off by more than the tolerance
// ([ErrTimestampOutOfRange]). Only then is the body decoded, once; one
// that is not a JSON object gives [ErrInvalidPayload].
//
// The event's Raw is body itself, not a copy, and its WebhookID is the
// X-Sendivent-Webhook-Id header.
func Verify(body []byte, header http.Header, secret string, opts ...Option) (*Event, error) {
	c := newConfig(secret, opts)
	if len(c.secrets) == 0 {
		return nil, ErrNoSecret
	}
	return c.verify(body, header)
}

func (c *config) verify(body []byte, header http.Header) (*Event, error) {
	if err := c.check(body, headerValues(header, SignatureHeader)); err != nil {
		return nil, err
	}
	ev := &Event{Raw: body, WebhookID: headerValue(header, WebhookIDHeader)}
	if err := ev.decode(body); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPayload, err)
	}
	return ev, nil
}

// check is the verification proper: size, header, signature, timestamp.
func (c *config) check(body []byte, sig []string) error {
	if int64(len(body)) > c.maxBody {
		return fmt.Errorf("%w: %d bytes, over the cap of %d", ErrBodyTooLarge, len(body), c.maxBody)
	}
	if len(sig) == 0 || len(sig) == 1 && sig[0] == "" {
		return ErrMissingHeader
	}
	h, err := parseHeader(sig)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformedHeader, err)
	}
	if n, ok := c.signed(h, body); !ok {
		return fmt.Errorf("%w: %d v1 value(s) checked against %d secret(s)", ErrNoValidSignature, n, len(c.secrets))
	}
	// Signature first: a stale timestamp on a genuine signature points at
	// a replay or a skewed clock, which is worth knowing; on a forged one
	// it would mislead.
	switch age := age(c.now(), h.unix); {
	case age > c.tolerance:
		return fmt.Errorf("%w: signed %s ago, tolerance %s", ErrTimestampOutOfRange, age.Round(time.Second), c.tolerance)
	case age < -c.tolerance:
		return fmt.Errorf("%w: signed %s in the future, tolerance %s", ErrTimestampOutOfRange, age.Abs().Round(time.Second), c.tolerance)
	}
	return nil
}

// age is how long before now the Unix time t was, saturated to the range
// of a Duration. time.Unix itself would wrap for the largest t, a time in
// the far future becoming one in the far past.
func age(now time.Time, t int64) time.Duration {
	const maxSec = int64(math.MaxInt64 / time.Second)
	switch sec := now.Unix(); {
	case t > sec+maxSec:
		return math.MinInt64
	case t < sec-maxSec:
		return math.MaxInt64
	}
	return now.Sub(time.Unix(t, 0))
}

// signed reports whether any v1 value matches body under any secret, and
// how many v1 values could be signatures. Every pair is compared, each in
// constant time, so the time taken tells nothing about which one (if any)
// matched. The header's size cap bounds the pairs.
func (c *config) signed(h sigHeader, body []byte) (n int, ok bool) {
	want := make([][sha256.Size]byte, len(c.secrets))
	for i, secret := range c.secrets {
		want[i] = mac(secret, h.t, body)
	}
	h.eachV1(func(got [sha256.Size]byte) {
		n++
		for i := range want {
			if hmac.Equal(want[i][:], got[:]) {
				ok = true
			}
		}
	})
	return n, ok
}
