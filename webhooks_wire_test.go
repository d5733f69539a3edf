package sendivent_test

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/webhook"
)

// Property: a webhook signing secret never reaches what the SDK keeps or
// prints but the Webhook's SigningSecret field itself: not Raw, not
// another field, not an error's Body, Message or Error(), not a log line;
// and WebhookSecret is masked by every encoder, not only by fmt.

// maskedPiece is a piece of every secret of the masking tests that must never
// show.
const maskedPiece = "M4sk3dPiece"

const (
	maskedSecret = "whsec_" + maskedPiece + "Abc"
	otherSecret  = "whsec_0ther" + maskedPiece // the existing endpoint's, in a 409
	plainSecret  = "sk_" + maskedPiece + "Xyz" // a secret without the documented prefix
)

func noSecret(t *testing.T, where, s string) {
	t.Helper()
	assert.NotContains(t, s, maskedPiece, where)
}

// everyPrint is every way a caller may print v.
func everyPrint(v any) string {
	var b strings.Builder
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		fmt.Fprintf(&b, verb+"\n", v)
	}
	return b.String()
}

// TestWebhookSecretEchoedIsMasked: answers that repeat the secret outside
// signing_secret keep it nowhere.
func TestWebhookSecretEchoedIsMasked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, secret string
	}{
		{"in a note", `{"webhook":{"uuid":"wh-1","signing_secret":"` + maskedSecret + `","note":"store ` + maskedSecret + ` now"}}`, maskedSecret},
		{"in the description", `{"webhook":{"uuid":"wh-1","signing_secret":"` + maskedSecret + `","description":"` + maskedSecret + `"}}`, maskedSecret},
		{"in the URL", `{"webhook":{"uuid":"wh-1","signing_secret":"` + maskedSecret + `","url":"https://example.com/h?s=` + maskedSecret + `"}}`, maskedSecret},
		{"escaped elsewhere", `{"webhook":{"uuid":"wh-1","signing_secret":"` + maskedSecret + `","x":"whsec_\u004d4sk3dPieceAbc"}}`, maskedSecret},
		{"another whsec_ value", `{"webhook":{"uuid":"wh-1","signing_secret":"` + maskedSecret + `","old":"` + otherSecret + `"}}`, maskedSecret},
		{"a secret without the prefix, echoed", `{"webhook":{"uuid":"wh-1","signing_secret":"` + plainSecret + `","note":"it is ` + plainSecret + `"}}`, plainSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := keptServer(t, atkWrite(httpAnswer(201, tt.body)))
			var logs bytes.Buffer
			c := hookClient(t, srv.url, sendivent.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			w, err := c.Webhooks.Create(context.Background(), keptConfig)
			require.NoError(t, err)
			assert.Equal(t, tt.secret, string(w.SigningSecret), "the caller gets it")
			noSecret(t, "Raw", string(w.Raw))
			noSecret(t, "Description", w.Description)
			noSecret(t, "URL", w.URL)
			noSecret(t, "prints", everyPrint(w)+everyPrint(*w)+everyPrint([]*sendivent.Webhook{w}))
			b, err := json.Marshal(w)
			require.NoError(t, err)
			noSecret(t, "json", string(b))
			slog.New(slog.NewJSONHandler(&logs, nil)).Info("hook", "w", w, "ws", []sendivent.Webhook{*w})
			slog.New(slog.NewTextHandler(&logs, nil)).Info("hook", "w", w, "ws", []sendivent.Webhook{*w})
			noSecret(t, "logs", logs.String())
		})
	}
}

// TestWebhookSecretInErrorsIsMasked: error answers that echo a secret (a
// 409 naming the existing endpoint, a 500 page, a 422) keep it out of the
// error's every field and text.
func TestWebhookSecretInErrorsIsMasked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		is     error
	}{
		{"409 echoing the existing endpoint", 409, `{"error":"Webhook already exists: ` + otherSecret + `","code":"CONFLICT","webhook":{"uuid":"wh-0","signing_secret":"` + otherSecret + `"}}`, sendivent.ErrConflict},
		{"nested error", 409, `{"error":{"message":"exists (` + otherSecret + `)","code":"` + otherSecret + `"}}`, sendivent.ErrConflict},
		{"an HTML 500", 500, `<html><body>debug: secret=` + otherSecret + `</body></html>`, sendivent.ErrServer},
		{"422 naming the field", 422, `{"error":"bad","field":"` + otherSecret + `"}`, sendivent.ErrValidation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := keptServer(t, atkWrite(httpAnswer(tt.status, tt.body)))
			var logs bytes.Buffer
			c := hookClient(t, srv.url, sendivent.WithMaxRetries(0),
				sendivent.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			w, err := c.Webhooks.Create(context.Background(), keptConfig)
			assert.Nil(t, w, "an error answer gives no endpoint")
			require.ErrorIs(t, err, tt.is)
			var ae *sendivent.APIError
			require.ErrorAs(t, err, &ae)
			noSecret(t, "Error()", err.Error())
			noSecret(t, "Body", string(ae.Body))
			noSecret(t, "fields", ae.Message+ae.Code+ae.Field)
			noSecret(t, "prints", everyPrint(err)+everyPrint(ae))
			noSecret(t, "logs", logs.String())
			assert.Contains(t, string(ae.Body), "whsec_****", "masked, not dropped")
		})
	}
}

type secretHolder struct {
	XMLName xml.Name                `xml:"holder" json:"-"`
	Secret  sendivent.WebhookSecret `xml:"secret" json:"secret"`
	Attr    sendivent.WebhookSecret `xml:"attr,attr" json:"attr"`
}

// TestWebhookSecretEveryEncoder: inside a struct, a slice or a map, as the
// encoders of the standard library see it.
func TestWebhookSecretEveryEncoder(t *testing.T) {
	t.Parallel()
	s := sendivent.WebhookSecret(maskedSecret)
	h := secretHolder{Secret: s, Attr: s}

	b, err := json.Marshal(map[string]any{"h": h, "list": []sendivent.WebhookSecret{s}, "map": map[string]sendivent.WebhookSecret{"k": s}, "bare": s})
	require.NoError(t, err)
	noSecret(t, "json", string(b))
	assert.Contains(t, string(b), `"whsec_****"`)

	b, err = xml.Marshal(h)
	require.NoError(t, err)
	noSecret(t, "xml", string(b))
	assert.Equal(t, `<holder attr="whsec_****"><secret>whsec_****</secret></holder>`, string(b))

	var buf bytes.Buffer
	require.NoError(t, gob.NewEncoder(&buf).Encode(h))
	noSecret(t, "gob", buf.String())

	b, err = s.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "whsec_****", string(b))
	assert.Equal(t, "****", fmt.Sprint(sendivent.WebhookSecret(plainSecret)))

	var logs bytes.Buffer
	for _, hd := range []slog.Handler{slog.NewJSONHandler(&logs, nil), slog.NewTextHandler(&logs, nil)} {
		slog.New(hd).Info("config", "h", h, "p", &h, "list", []sendivent.WebhookSecret{s},
			"map", map[string]sendivent.WebhookSecret{"k": s}, "s", s)
	}
	noSecret(t, "slog", logs.String())
	noSecret(t, "fmt", everyPrint(h)+everyPrint(&h)+everyPrint([]sendivent.WebhookSecret{s}))
}

// TestWebhookSecretMaskedFormRefused: a masked secret read back (a config
// round-tripped through JSON or gob) is an error, not a wrong secret
// taken in silence; a real secret reads as it is.
func TestWebhookSecretMaskedFormRefused(t *testing.T) {
	t.Parallel()
	var h secretHolder
	b, _ := json.Marshal(secretHolder{Secret: maskedSecret})
	assert.Error(t, json.Unmarshal(b, &h))
	assert.Error(t, json.Unmarshal([]byte(`{"secret":"****"}`), &h))

	var buf bytes.Buffer
	require.NoError(t, gob.NewEncoder(&buf).Encode(secretHolder{Secret: maskedSecret, Attr: maskedSecret}))
	assert.Error(t, gob.NewDecoder(&buf).Decode(&h))

	require.NoError(t, json.Unmarshal([]byte(`{"secret":"`+maskedSecret+`"}`), &h))
	assert.Equal(t, maskedSecret, string(h.Secret))
}

// Hostile answers to Webhooks.Create. Property: whenever an answer holds
// the signing secret (which the service shows once; the next Create gets
// 409), Create returns it, beside the error when the rest cannot be read;
// a secret cut short is never returned as one.

const keptSecret = "whsec_K3ptS3cretAbc/xyz+9="

// httpAnswer writes a whole HTTP/1.1 answer with body.
func httpAnswer(status int, body string) string {
	return fmt.Sprintf("HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		status, http.StatusText(status), len(body), body)
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
