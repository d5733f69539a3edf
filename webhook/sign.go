package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// The headers of a delivery.
const (
	// SignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256>".
	SignatureHeader = "X-Sendivent-Signature"
	// WebhookIDHeader carries the id of the delivery attempt.
	WebhookIDHeader = "X-Sendivent-Webhook-Id"
	// UserAgent is the User-Agent the service sends.
	UserAgent = "Sendivent-Webhook/1.0"
)

// mac is the signature scheme, and the only place that knows it.
//
// The service's documentation stops after "extract t and v1", so the signed
// string is inferred, not documented: HMAC-SHA256 keyed with the signing
// secret as given (whsec_ prefix included) over "<t>.<raw body>", where <t>
// is the header's t value as sent, compared with v1 as lowercase or
// uppercase hex. This is Stripe's scheme, which the header's shape copies.
// Should the service turn out to differ, this function is what changes.
func mac(secret []byte, t string, body []byte) [sha256.Size]byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(t))
	h.Write([]byte{'.'})
	h.Write(body)
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// Sign returns the X-Sendivent-Signature value the service would send for
// body signed with secret at t: "t=<unix seconds>,v1=<hex>". Tests use it
// to make deliveries that [Verify] and [Handler] accept; the scheme is
// inferred (see the package documentation).
func Sign(body []byte, secret string, t time.Time) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	sum := mac([]byte(secret), ts, body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(sum[:])
}

// NewRequest returns a POST of body to url shaped like a delivery from the
// service: Content-Type application/json, the service's User-Agent, and an
// X-Sendivent-Signature made by [Sign] with secret at t. Set
// [WebhookIDHeader] on it to give the attempt an id. The request can be
// sent with an http.Client or passed to a handler's ServeHTTP.
func NewRequest(ctx context.Context, url string, body []byte, secret string, t time.Time) (*http.Request, error) {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", UserAgent)
	r.Header.Set(SignatureHeader, Sign(body, secret, t))
	return r, nil
}
