package sendivent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/sendivent/sendivent-go/webhook"
)

// WebhookSecret is a webhook endpoint's signing secret, "whsec_…".
// Printing it shows only its prefix ("whsec_****"), with every fmt verb and
// in log/slog, and Webhook's JSON leaves it out, so that logging a Webhook
// cannot leak it. string(secret) is the secret itself: pass that to
// webhook.Handler and to your secret store. (It has no String method, so
// that the masked form cannot be taken for the secret by mistake.)
type WebhookSecret string

// masked keeps only the documented prefix: it says what the value is, and
// is the same for every secret.
func (s WebhookSecret) masked() string {
	switch {
	case s == "":
		return ""
	case strings.HasPrefix(string(s), "whsec_"):
		return "whsec_****"
	}
	return "****"
}

// Format prints the secret masked, whatever the verb.
func (s WebhookSecret) Format(f fmt.State, verb rune) {
	m := s.masked()
	if verb == 'q' || (verb == 'v' && f.Flag('#')) {
		m = strconv.Quote(m)
	}
	_, _ = io.WriteString(f, m)
}

// LogValue logs the secret masked.
func (s WebhookSecret) LogValue() slog.Value { return slog.StringValue(s.masked()) }

// webhookFmt is Webhook without its Format method, for Format to print.
type webhookFmt Webhook

// Format prints the endpoint as fmt prints any struct, with the signing
// secret masked: also for verbs that do not fit a struct (%s, %d of a
// []*Webhook), where fmt would otherwise print the fields raw.
func (w Webhook) Format(f fmt.State, verb rune) {
	s := fmt.Sprintf(fmt.FormatString(f, verb), webhookFmt(w))
	if verb == 'v' && f.Flag('#') {
		s = strings.Replace(s, "sendivent.webhookFmt", "sendivent.Webhook", 1)
	}
	_, _ = io.WriteString(f, s)
}

// webhookWire is an endpoint as the service sends it, with the spellings a
// young API may use.
type webhookWire struct {
	UUID          string              `json:"uuid"`
	ID            json.RawMessage     `json:"id"`
	URL           string              `json:"url"`
	EnabledEvents []webhook.EventType `json:"enabled_events"`
	Events        []webhook.EventType `json:"events"`
	IsActive      *bool               `json:"is_active"`
	Active        *bool               `json:"active"`
	Description   *string             `json:"description"`
	SigningSecret json.RawMessage     `json:"signing_secret"`
	CreatedAt     lenientTime         `json:"created_at"`
}

// decodeWebhookAnswer reads the answer of Create and Update, which must
// hold an endpoint.
func decodeWebhookAnswer(a *answer) (*Webhook, error) {
	w, err := decodeWebhook(a)
	if err == nil && w == nil {
		err = &malformedError{err: errors.New("the answer has no webhook")}
	}
	return w, err
}

// decodeWebhookGet reads the answer of Get, which may say there is none.
func decodeWebhookGet(a *answer) (*Webhook, error) {
	w, err := decodeWebhook(a)
	if err == nil && w == nil {
		err = errNoWebhook
	}
	return w, err
}

// decodeWebhook finds the endpoint in an answer: under "webhook" (as
// documented), "webhooks" or "data" (the first of a list), or the answer
// itself (in the data envelope or not). It returns nil, nil when the answer
// says there is none: null, or an empty list.
func decodeWebhook(a *answer) (*Webhook, error) {
	f, err := fields(a)
	if err != nil {
		return nil, err
	}
	var obj json.RawMessage
	bare := false
	for _, k := range []string{"webhook", "webhooks", "data"} {
		if v, ok := f[k]; ok {
			obj = v
			break
		}
	}
	if obj == nil {
		_, hasUUID := f["uuid"]
		_, hasURL := f["url"]
		if !hasUUID && !hasURL {
			return nil, &malformedError{err: errors.New("the answer has no webhook")}
		}
		obj, _ = json.Marshal(f) // raw messages from a decode always encode
		bare = true
	}
	if i := firstByte(obj); i >= 0 && obj[i] == '[' {
		var list []json.RawMessage
		if err := json.Unmarshal(obj, &list); err != nil {
			return nil, malformed(err, a.body)
		}
		if len(list) == 0 {
			return nil, nil
		}
		obj = list[0]
	}
	if string(obj) == "null" {
		return nil, nil
	}
	var in webhookWire
	if err := json.Unmarshal(obj, &in); err != nil {
		return nil, malformed(err, a.body)
	}
	if bare {
		in.SigningSecret = f["signing_secret"] // as sent, not as re-encoded
	}
	w := &Webhook{
		UUID: cmpOr(in.UUID, lenientString(in.ID)), URL: in.URL, EnabledEvents: in.EnabledEvents,
		CreatedAt: in.CreatedAt.t, Raw: json.RawMessage(a.body),
	}
	if w.EnabledEvents == nil {
		w.EnabledEvents = in.Events
	}
	switch {
	case in.IsActive != nil:
		w.Active = *in.IsActive
	case in.Active != nil:
		w.Active = *in.Active
	}
	if in.Description != nil {
		w.Description = *in.Description
	}
	if secret := jsonString(in.SigningSecret); secret != "" {
		w.SigningSecret = WebhookSecret(secret)
		// The raw token as sent (escapes and all), so that it is found.
		masked, _ := json.Marshal(w.SigningSecret.masked())
		w.Raw = bytes.ReplaceAll(a.body, in.SigningSecret, masked)
		if bytes.Equal(w.Raw, a.body) { // not found as sent: keep no copy rather than the secret
			w.Raw = nil
		}
	}
	if w.UUID == "" && w.URL == "" {
		return nil, &malformedError{err: errors.New("the webhook has neither uuid nor url")}
	}
	return w, nil
}
