package sendivent_test

// Property: a webhook signing secret never reaches what the SDK keeps or
// prints but the Webhook's SigningSecret field itself: not Raw, not
// another field, not an error's Body, Message or Error(), not a log line;
// and WebhookSecret is masked by every encoder, not only by fmt.

import (
	"bytes"
	"context"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
)

// maskedPiece is a piece of every secret of this file that must never
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
