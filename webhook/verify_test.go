package webhook_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := hexMAC(secret, ts, body)
	other := hexMAC("whsec_another", ts, body)
	flipped := bytes.Clone(body)
	flipped[len(flipped)-3]++ // one byte of the timestamp's milliseconds
	const oldSecret = "whsec_old"
	tests := []struct {
		name string
		body []byte
		sig  string
		opts []webhook.Option
		err  error // nil: valid
	}{
		{"valid", body, "t=" + ts + ",v1=" + good, nil, nil},
		{"body changed by one byte", flipped, "t=" + ts + ",v1=" + good, nil, webhook.ErrNoValidSignature},
		{"signed with another secret", body, "t=" + ts + ",v1=" + other, nil, webhook.ErrNoValidSignature},
		{"6 minutes old", body, signature(secret, now.Add(-6*time.Minute), body), nil, webhook.ErrTimestampOutOfRange},
		{"6 minutes ahead", body, signature(secret, now.Add(6*time.Minute), body), nil, webhook.ErrTimestampOutOfRange},
		{"5 minutes old", body, signature(secret, now.Add(-5*time.Minute), body), nil, nil},
		{"5 minutes ahead", body, signature(secret, now.Add(5*time.Minute), body), nil, nil},
		{"6 minutes old, tolerance 10", body, signature(secret, now.Add(-6*time.Minute), body), []webhook.Option{webhook.WithTolerance(10 * time.Minute)}, nil},
		{"tolerance 0 keeps the default", body, signature(secret, now.Add(-6*time.Minute), body), []webhook.Option{webhook.WithTolerance(0)}, webhook.ErrTimestampOutOfRange},
		{"stale and forged: the signature is reported", body, "t=" + strconv.FormatInt(now.Add(-time.Hour).Unix(), 10) + ",v1=" + good, nil, webhook.ErrNoValidSignature},
		{"two v1, the second valid", body, "t=" + ts + ",v1=" + other + ",v1=" + good, nil, nil},
		{"two v1, the first valid", body, "t=" + ts + ",v1=" + good + ",v1=" + other, nil, nil},
		{"two v1, neither valid", body, "t=" + ts + ",v1=" + other + ",v1=" + other, nil, webhook.ErrNoValidSignature},
		{"spaces around commas and equals", body, " t = " + ts + " ,  v1 =" + good + " ", nil, nil},
		{"tabs", body, "t=\t" + ts + "\t,\tv1=" + good, nil, nil},
		{"v1 before t", body, "v1=" + good + ",t=" + ts, nil, nil},
		{"unknown schemes skipped", body, "v0=abc,t=" + ts + ",v2=" + other + ",v1=" + good, nil, nil},
		{"empty elements skipped", body, ",t=" + ts + ",,v1=" + good + ",", nil, nil},
		{"uppercase hex", body, "t=" + ts + ",v1=" + strings.ToUpper(good), nil, nil},
		{"t as sent is signed, leading zero and all", body, "t=0" + ts + ",v1=" + hexMAC(secret, "0"+ts, body), nil, nil},
		{"t re-spelled is not", body, "t=0" + ts + ",v1=" + good, nil, webhook.ErrNoValidSignature},
		{"v1 not hex", body, "t=" + ts + ",v1=" + strings.Repeat("zz", 32), nil, webhook.ErrNoValidSignature},
		{"v1 cut short", body, "t=" + ts + ",v1=" + good[:62], nil, webhook.ErrNoValidSignature},
		{"v1 empty", body, "t=" + ts + ",v1=", nil, webhook.ErrNoValidSignature},
		{"missing header", body, "", nil, webhook.ErrMissingHeader},
		{"garbage header", body, "garbage", nil, webhook.ErrMalformedHeader},
		{"whole-body HMAC, as one old guide does", body, hexMAC(secret, "", body), nil, webhook.ErrMalformedHeader},
		{"no t", body, "v1=" + good, nil, webhook.ErrMalformedHeader},
		{"no v1", body, "t=" + ts + ",v0=" + good, nil, webhook.ErrMalformedHeader},
		{"two t", body, "t=" + ts + ",t=" + ts + ",v1=" + good, nil, webhook.ErrMalformedHeader},
		{"t not a number", body, "t=soon,v1=" + good, nil, webhook.ErrMalformedHeader},
		{"t negative", body, "t=-1,v1=" + good, nil, webhook.ErrMalformedHeader},
		{"t overflows", body, "t=99999999999999999999,v1=" + good, nil, webhook.ErrMalformedHeader},
		{"t at the end of time", body, "t=9223372036854775807,v1=" + hexMAC(secret, "9223372036854775807", body), nil, webhook.ErrTimestampOutOfRange},
		{"t zero", body, "t=0,v1=" + hexMAC(secret, "0", body), nil, webhook.ErrTimestampOutOfRange},
		{"empty key", body, "=1,t=" + ts + ",v1=" + good, nil, webhook.ErrMalformedHeader},
		{"empty body, valid signature", []byte{}, signature(secret, now, nil), nil, webhook.ErrInvalidPayload},
		{"empty body, signature of another body", []byte{}, signature(secret, now, body), nil, webhook.ErrNoValidSignature},
		{"signed, not an object", []byte(`[1]`), signature(secret, now, []byte(`[1]`)), nil, webhook.ErrInvalidPayload},
		{"signed null", []byte(`null`), signature(secret, now, []byte(`null`)), nil, webhook.ErrInvalidPayload},
		{"old secret accepted", body, signature(oldSecret, now, body), []webhook.Option{webhook.WithSecrets(oldSecret)}, nil},
		{"new secret accepted while rotating", body, signature(secret, now, body), []webhook.Option{webhook.WithSecrets(oldSecret)}, nil},
		{"third secret refused", body, "t=" + ts + ",v1=" + other, []webhook.Option{webhook.WithSecrets(oldSecret)}, webhook.ErrNoValidSignature},
		{"body over a lowered cap", body, signature(secret, now, body), []webhook.Option{webhook.WithMaxBodyBytes(int64(len(body) - 1))}, webhook.ErrBodyTooLarge},
		{"body at a lowered cap", body, signature(secret, now, body), []webhook.Option{webhook.WithMaxBodyBytes(int64(len(body)))}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := webhook.Verify(tt.body, headers(tt.sig), secret, append([]webhook.Option{at(now)}, tt.opts...)...)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				assert.Nil(t, ev)
				assertNoSecrets(t, err.Error())
				return
			}
			require.NoError(t, err)
			assert.Equal(t, webhook.DeliveryFailed, ev.Type)
			assert.Equal(t, "wh_attempt_1", ev.WebhookID)
			assert.Equal(t, payload, string(ev.Raw))
		})
	}
}

// assertNoSecrets fails if s holds a secret or a signature, or a piece of
// one.
func assertNoSecrets(t *testing.T, s string) {
	t.Helper()
	ts := strconv.FormatInt(now.Unix(), 10)
	for _, v := range []string{secret, "whsec_old", "whsec_another", hexMAC(secret, ts, []byte(payload))} {
		assert.NotContains(t, s, v[len(v)-8:])
	}
}

func TestVerifyBigBody(t *testing.T) {
	t.Parallel()
	const size = 10 << 20
	body := make([]byte, 0, size)
	body = append(body, `{"event":"delivery.sent","padding":"`...)
	body = append(body, bytes.Repeat([]byte("x"), size-len(body)-2)...)
	body = append(body, `"}`...)
	require.Len(t, body, size)
	sig := signature(secret, now, body)

	_, err := webhook.Verify(body, headers(sig), secret, at(now))
	require.ErrorIs(t, err, webhook.ErrBodyTooLarge)

	ev, err := webhook.Verify(body, headers(sig), secret, at(now), webhook.WithMaxBodyBytes(16<<20))
	require.NoError(t, err)
	assert.Equal(t, webhook.DeliverySent, ev.Type)
	assert.Len(t, ev.Raw, size)
}

func TestVerifySecrets(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	sig := signature("whsec_b", now, body)
	tests := []struct {
		name   string
		secret string
		opts   []webhook.Option
		err    error
	}{
		{"only WithSecrets", "", []webhook.Option{webhook.WithSecrets("whsec_a", "whsec_b")}, nil},
		{"main secret matches", "whsec_b", []webhook.Option{webhook.WithSecrets("whsec_a")}, nil},
		{"WithSecrets twice", "whsec_a", []webhook.Option{webhook.WithSecrets("whsec_c"), webhook.WithSecrets("whsec_b")}, nil},
		{"none match", "whsec_a", []webhook.Option{webhook.WithSecrets("whsec_c")}, webhook.ErrNoValidSignature},
		{"no secret", "", nil, webhook.ErrNoSecret},
		{"only empty secrets", "", []webhook.Option{webhook.WithSecrets("", "")}, webhook.ErrNoSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := webhook.Verify(body, headers(sig), tt.secret, append(tt.opts, at(now))...)
			assert.ErrorIs(t, err, tt.err)
		})
	}
}

// An empty secret must not verify a signature made with an empty key.
func TestVerifyEmptyKeySignature(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	_, err := webhook.Verify(body, headers(signature("", now, body)), "", at(now), webhook.WithSecrets(""))
	assert.ErrorIs(t, err, webhook.ErrNoSecret)
}

func TestVerifyHeaderLookup(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	sig := signature(secret, now, body)
	tests := []struct {
		name string
		h    http.Header
		id   string
	}{
		{"canonical", http.Header{"X-Sendivent-Signature": {sig}, "X-Sendivent-Webhook-Id": {"a"}}, "a"},
		{"lowercase, as serverless platforms give them", http.Header{"x-sendivent-signature": {sig}, "x-sendivent-webhook-id": {"b"}}, "b"},
		{"no webhook id", http.Header{"X-Sendivent-Signature": {sig}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := webhook.Verify(body, tt.h, secret, at(now))
			require.NoError(t, err)
			assert.Equal(t, tt.id, ev.WebhookID)
		})
	}
}

func TestVerifyUsesTheClock(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	sig := signature(secret, now, body)
	// Without WithNow, a delivery signed in 2026 is checked against the
	// real clock.
	if d := time.Since(now); d > 5*time.Minute || d < -5*time.Minute {
		_, err := webhook.Verify(body, headers(sig), secret)
		assert.ErrorIs(t, err, webhook.ErrTimestampOutOfRange)
	}
	_, err := webhook.Verify(body, headers(signature(secret, time.Now(), body)), secret)
	assert.NoError(t, err)
	_, err = webhook.Verify(body, headers(sig), secret, webhook.WithNow(nil), at(now.Add(299*time.Second)))
	assert.NoError(t, err)
}
