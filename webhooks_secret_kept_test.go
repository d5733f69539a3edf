package sendivent_test

// Hostile answers to Webhooks.Create. Property: whenever an answer holds
// the signing secret (which the service shows once; the next Create gets
// 409), Create returns it, beside the error when the rest cannot be read;
// a secret cut short is never returned as one.

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/webhook"
)

const keptSecret = "whsec_K3ptS3cretAbc/xyz+9="

var keptConfig = sendivent.WebhookConfig{URL: "https://example.com/hooks", EnabledEvents: []webhook.EventType{webhook.DeliverySent}}

// httpAnswer writes a whole HTTP/1.1 answer with body.
func httpAnswer(status int, body string) string {
	return fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
}

// keptServer answers the n-th request (from 0) with answers[n], the last
// repeating.
func keptServer(t *testing.T, answers ...func(*atkRaw, net.Conn, *http.Request)) *atkRaw {
	t.Helper()
	return atkRawServer(t, func(s *atkRaw, conn net.Conn, r *http.Request) {
		answers[min(int(s.n.Load())-1, len(answers)-1)](s, conn, r)
	})
}

// brokenAfter declares body whole and sends its first n bytes, then closes.
func brokenAfter(status int, body string, n int) func(*atkRaw, net.Conn, *http.Request) {
	return func(_ *atkRaw, conn net.Conn, _ *http.Request) {
		full := httpAnswer(status, body)
		_, _ = io.WriteString(conn, full[:len(full)-len(body)+n])
	}
}

func TestWebhookSecretKeptWhateverTheAnswer(t *testing.T) {
	t.Parallel()
	s := `"signing_secret":"` + strings.ReplaceAll(keptSecret, "/", `\/`) + `"`
	tests := []struct {
		name   string
		status int
		body   string
		err    error // nil: no error
		check  func(t *testing.T, w *sendivent.Webhook)
	}{
		{"is_active a string", 201, `{"success":true,"webhook":{"uuid":"wh-1","url":"https://example.com/hooks","is_active":"true",` + s + `}}`, nil,
			func(t *testing.T, w *sendivent.Webhook) { assert.True(t, w.Active) }},
		{"is_active a number", 201, `{"webhook":{"uuid":"wh-1","is_active":0,` + s + `}}`, nil,
			func(t *testing.T, w *sendivent.Webhook) { assert.False(t, w.Active) }},
		{"a numeric uuid", 201, `{"webhook":{"uuid":42,"url":"https://example.com/hooks",` + s + `}}`, nil,
			func(t *testing.T, w *sendivent.Webhook) { assert.Equal(t, "42", w.UUID) }},
		{"enabled_events a string", 201, `{"webhook":{"uuid":"wh-1","enabled_events":"delivery.sent, delivery.failed",` + s + `}}`, nil,
			func(t *testing.T, w *sendivent.Webhook) {
				assert.Equal(t, []webhook.EventType{webhook.DeliverySent, webhook.DeliveryFailed}, w.EnabledEvents)
			}},
		{"enabled_events an object, mixed list", 201, `{"webhook":{"uuid":"wh-1","enabled_events":{"a":1},"events":[1,"delivery.sent",null],` + s + `}}`, nil,
			func(t *testing.T, w *sendivent.Webhook) {
				assert.Equal(t, []webhook.EventType{webhook.DeliverySent}, w.EnabledEvents)
			}},
		{"every other field mistyped", 201, `{"webhook":{"uuid":"wh-1","url":7,"description":{},"created_at":12,"is_active":[],` + s + `}}`, nil,
			func(t *testing.T, w *sendivent.Webhook) { assert.Equal(t, "wh-1", w.UUID) }},
		{"the secret beside the webhook", 201, `{"success":true,"webhook":{"uuid":"wh-1"},` + s + `}`, nil, nil},
		{"the secret beside the data envelope", 201, `{"data":{"webhook":{"uuid":"wh-1"}},` + s + `}`, nil, nil},
		{"the secret as secret", 201, `{"webhook":{"uuid":"wh-1","secret":"` + keptSecret + `"}}`, nil, nil},
		{"signingSecret", 201, `{"uuid":"wh-1","signingSecret":"` + keptSecret + `"}`, nil, nil},
		{"200, not 201", 200, `{"webhook":{"uuid":"wh-1",` + s + `}}`, nil, nil},
		{"bytes after the JSON", 201, `{"webhook":{"uuid":"wh-1",` + s + `}} trailing <html>`, nil, nil},
		{"neither uuid nor url", 201, `{"webhook":{` + s + `}}`, sendivent.ErrMalformed, nil},
		{"the webhook a string", 201, `{"webhook":"` + keptSecret + `"}`, sendivent.ErrMalformed, nil},
		{"not JSON around the secret", 201, `<html>"` + keptSecret + `"</html>`, sendivent.ErrMalformed, nil},
		{"an array", 201, `[{"uuid":"wh-1",` + s + `}]`, sendivent.ErrMalformed, nil},
		{"success false with a secret", 201, `{"success":false,` + s + `}`, sendivent.ErrRejected, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := keptServer(t, atkWrite(httpAnswer(tt.status, tt.body)))
			w, err := hookClient(t, srv.url).Webhooks.Create(context.Background(), keptConfig)
			if tt.err == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.err)
			}
			require.NotNil(t, w, "the secret is returned")
			assert.Equal(t, keptSecret, string(w.SigningSecret))
			assert.NotContains(t, string(w.Raw), "K3ptS3cret")
			if tt.check != nil {
				tt.check(t, w)
			}
			assert.EqualValues(t, 1, srv.n.Load(), "not retried: a whole answer comes the same way again")
		})
	}
}

// TestWebhookSecretKeptAcrossRetries: the answer that held the secret
// broke off, or passed the size cap; the retry (same idempotency key) gets
// a replay, or a 409 from a service that does not replay. The secret read
// first is kept either way; one cut inside its own token is not a secret.
func TestWebhookSecretKeptAcrossRetries(t *testing.T) {
	t.Parallel()
	full := `{"success":true,"webhook":{"uuid":"wh-1","url":"https://example.com/hooks","signing_secret":"` + keptSecret + `","created_at":"2026-03-30T12:00:00.123Z"}}`
	afterSecret := strings.Index(full, keptSecret) + len(keptSecret) + 1
	conflict := httpAnswer(409, `{"error":"Webhook already exists","code":"CONFLICT"}`)
	tests := []struct {
		name    string
		answers []func(*atkRaw, net.Conn, *http.Request)
		secret  string
		err     error
		calls   int64
	}{
		{"broken after the secret, then a replay", []func(*atkRaw, net.Conn, *http.Request){
			brokenAfter(201, full, afterSecret), atkWrite(httpAnswer(201, full))}, keptSecret, nil, 2},
		{"broken after the secret, then 409", []func(*atkRaw, net.Conn, *http.Request){
			brokenAfter(201, full, afterSecret), atkWrite(conflict)}, keptSecret, sendivent.ErrConflict, 2},
		{"broken after the secret, then 503s", []func(*atkRaw, net.Conn, *http.Request){
			brokenAfter(201, full, afterSecret), atkWrite(httpAnswer(503, `{}`))}, keptSecret, sendivent.ErrServer, 2},
		{"broken inside the secret, then 409", []func(*atkRaw, net.Conn, *http.Request){
			brokenAfter(201, full, afterSecret-6), atkWrite(conflict)}, "", sendivent.ErrConflict, 2},
		{"over the size cap, the secret first", []func(*atkRaw, net.Conn, *http.Request){
			atkWrite(httpAnswer(201, `{"webhook":{"signing_secret":"`+keptSecret+`","pad":"`+strings.Repeat("x", 2<<20)+`"}}`))},
			keptSecret, sendivent.ErrTooLarge, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := keptServer(t, tt.answers...)
			c := hookClient(t, srv.url)
			w, err := c.Webhooks.Create(context.Background(), keptConfig)
			if tt.err == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.err)
			}
			assert.Equal(t, tt.calls, srv.n.Load())
			assert.Equal(t, 1, srv.distinctKeys(), "one idempotency key")
			if tt.secret == "" {
				assert.Nil(t, w, "a secret cut short is not a secret")
				return
			}
			require.NotNil(t, w)
			assert.Equal(t, tt.secret, string(w.SigningSecret))
			assert.NotContains(t, string(w.Raw), "K3ptS3cret")
			assert.NotContains(t, err2s(err), "K3ptS3cret")
		})
	}
}

func err2s(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// hookClient is atkClient with an attempt bound that a loaded machine
// under -race does not reach: these tests count attempts.
func hookClient(t *testing.T, url string, opts ...sendivent.Option) *sendivent.Client {
	t.Helper()
	return atkClient(t, url, append([]sendivent.Option{sendivent.WithTimeout(5 * time.Second)}, opts...)...)
}
