package sendivent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

// TestWebhookSecretHidden: the signing secret Create returns is the
// caller's (string(w.SigningSecret)), but printing, logging or encoding the
// Webhook never shows it.
func TestWebhookSecretHidden(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(201, createdJSON))
	w, err := h.c.Webhooks.Create(context.Background(), WebhookConfig{URL: "https://example.com/hooks", EnabledEvents: []webhook.EventType{webhook.DeliverySent}})
	require.NoError(t, err)
	require.Equal(t, hookSecret, string(w.SigningSecret))

	secretPart := strings.TrimPrefix(hookSecret, "whsec_")
	check := func(what, s string) {
		t.Helper()
		assert.NotContains(t, s, secretPart, what)
		assert.NotContains(t, s, fmt.Sprintf("%x", secretPart), what)
		assert.NotContains(t, s, fmt.Sprint([]byte(secretPart)[:4]), what) // Raw printed as numbers
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		for _, v := range []any{w, *w, w.SigningSecret, []*Webhook{w}, map[string]Webhook{"a": *w}} {
			check(verb, fmt.Sprintf(verb, v))
		}
	}
	assert.Equal(t, "whsec_****", fmt.Sprint(w.SigningSecret))
	assert.Equal(t, `"whsec_****"`, fmt.Sprintf("%q", w.SigningSecret))
	assert.Equal(t, "", fmt.Sprint(WebhookSecret("")), "no secret prints as nothing")
	assert.Contains(t, fmt.Sprintf("%+v", *w), "SigningSecret:whsec_****")

	var buf bytes.Buffer
	for _, hd := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		log := slog.New(hd)
		log.Info("created", "hook", w, "value", *w, "secret", w.SigningSecret, slog.Group("g", "s", w.SigningSecret))
	}
	check("slog", buf.String())
	assert.Contains(t, buf.String(), "whsec_****")

	b, err := json.Marshal(w)
	require.NoError(t, err)
	check("json", string(b))
	assert.JSONEq(t, `{"uuid":"wh-1","url":"https://example.com/hooks","enabled_events":["delivery.sent","delivery.failed"],"is_active":true,"description":"prod","created_at":"2026-03-30T12:00:00.123Z"}`, string(b))
}

// TestWebhookRawMasksTheSecret: the secret is masked in Raw however the
// answer is shaped, and with the JSON escapes it was sent with.
func TestWebhookRawMasksTheSecret(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, raw string }{
		{"escaped", `{"webhook":{"uuid":"wh-1","url":"https://example.com/hooks","signing_secret":"whsec_\u0041bcdefgh\/ij"}}`,
			`{"webhook":{"uuid":"wh-1","url":"https://example.com/hooks","signing_secret":"whsec_****"}}`},
		{"bare", `{"uuid":"wh-1","signing_secret":"whsec_Abcdefgh\/ij","url":"https://example.com/hooks"}`,
			`{"uuid":"wh-1","signing_secret":"whsec_****","url":"https://example.com/hooks"}`},
		{"data envelope, a list", `{"data":{"webhooks":[{"uuid":"wh-1","signing_secret":"whsec_\u0041bcdefgh/ij"}]}}`,
			`{"data":{"webhooks":[{"uuid":"wh-1","signing_secret":"whsec_****"}]}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(201, tt.body))
			w, err := h.c.Webhooks.Create(context.Background(), WebhookConfig{URL: "https://example.com/hooks", EnabledEvents: []webhook.EventType{webhook.DeliverySent}})
			require.NoError(t, err)
			assert.Equal(t, "whsec_Abcdefgh/ij", string(w.SigningSecret))
			assert.Equal(t, tt.raw, string(w.Raw))
		})
	}
}
