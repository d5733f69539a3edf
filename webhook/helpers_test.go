package webhook_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/sendivent/sendivent-go/webhook"
)

// The tests compute signatures here, by hand, and never through
// webhook.Sign, so that a mistake in the package cannot agree with itself.

const secret = "whsec_c2VjcmV0LWZvci10ZXN0cw"

// now is the receiver's clock in the tests: 2026-03-30T12:00:00Z.
var now = time.Unix(1774872000, 0)

// payload is the reference's example delivery, for a failed email.
const payload = `{"event":"delivery.failed","delivery":{"uuid":"5f0c6f5e-8a34-4d1e-9d7e-1c2b3a4d5e6f","channel":"email","status":"failed","event_name":"welcome","message_id":"0100018e-ses","sent_at":"2026-03-30T11:59:58.000Z","delivered_at":null,"error":{"code":"HARD_BOUNCE","message":"mailbox does not exist"}},"request_id":"9b1d2c3e-0000-4000-8000-000000000001","timestamp":"2026-03-30T12:00:00.123Z"}`

// hexMAC is HMAC-SHA256(secret, "<t>.<body>") in hex.
func hexMAC(secret, t string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(t + "."))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// signature is a header value for body signed with secret at t.
func signature(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hexMAC(secret, ts, body)
}

func headers(sig string) http.Header {
	h := http.Header{}
	if sig != "" {
		h.Set(webhook.SignatureHeader, sig)
	}
	h.Set(webhook.WebhookIDHeader, "wh_attempt_1")
	return h
}

func at(t time.Time) webhook.Option {
	return webhook.WithNow(func() time.Time { return t })
}
