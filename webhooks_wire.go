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

	"github.com/sendivent/sendivent-go/internal/redact"
	"github.com/sendivent/sendivent-go/webhook"
)

// WebhookSecret is a webhook endpoint's signing secret, "whsec_…".
// Whatever prints or encodes it shows only its prefix ("whsec_****"): every
// fmt verb, log/slog (LogValue), and every encoder that takes a
// TextMarshaler or a BinaryMarshaler (encoding/json, encoding/xml,
// encoding/gob, slog's JSON handler for a secret inside a struct, slice or
// map). Decoding the masked form back is an error, so that a round trip
// through an encoder cannot lose the secret in silence. Only as a map key
// does encoding/json write a string type as it is: do not key maps by it.
// string(secret) is the secret itself: pass that to webhook.Handler and to
// your secret store. (It has no String method, so that the masked form
// cannot be taken for the secret by mistake.)
type WebhookSecret string

// masked keeps only the documented prefix: it says what the value is, and
// is the same for every secret.
func (s WebhookSecret) masked() string {
	switch {
	case s == "":
		return ""
	case strings.HasPrefix(string(s), redact.SigningPrefix):
		return redact.MaskedSigning
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

// MarshalText encodes the secret masked, for every encoder that asks.
func (s WebhookSecret) MarshalText() ([]byte, error) { return []byte(s.masked()), nil }

// MarshalBinary encodes the secret masked, for encoding/gob and the
// binary encoders that ask.
func (s WebhookSecret) MarshalBinary() ([]byte, error) { return s.MarshalText() }

// UnmarshalBinary is UnmarshalText.
func (s *WebhookSecret) UnmarshalBinary(b []byte) error { return s.UnmarshalText(b) }

// UnmarshalText reads a secret, and refuses the masked form, which an
// encoder wrote in its place: it is not the secret, and taking it for one
// would fail every delivery later.
func (s *WebhookSecret) UnmarshalText(b []byte) error {
	if m := string(b); m == redact.MaskedSigning || m == "****" {
		return errors.New("sendivent: " + strconv.Quote(m) + " is a masked webhook secret, not the secret: store string(secret) instead")
	}
	*s = WebhookSecret(b)
	return nil
}

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

// decodeWebhookAnswer reads the answer of Create and Update, which must
// hold an endpoint. When the answer holds a signing secret but the rest
// cannot be read, the Webhook comes back with the secret and the error.
func decodeWebhookAnswer(a *answer) (*Webhook, error) {
	w, err := decodeWebhook(a)
	if err == nil && w == nil {
		err = &malformedError{err: errors.New("the answer has no webhook")}
	}
	if err == nil {
		return w, nil
	}
	if (w == nil || w.SigningSecret == "") && a.req.method == "POST" {
		if secret := onlySigningSecret(a.body); secret != "" {
			w = &Webhook{SigningSecret: WebhookSecret(secret), Raw: maskSecret(a.body, nil, secret)}
		}
	}
	if w == nil || w.SigningSecret == "" {
		return nil, err
	}
	return w, err // the secret, which the service shows once, and why the rest is missing
}

// decodeWebhookGet reads the answer of Get, which may say there is none.
func decodeWebhookGet(a *answer) (*Webhook, error) {
	w, err := decodeWebhook(a)
	switch {
	case err != nil:
		return nil, err
	case w == nil:
		return nil, errNoWebhook
	}
	return w, nil
}

// secretKeys are the names a signing secret may come under, the
// documented one first.
var secretKeys = []string{"signing_secret", "signingSecret", "secret"}

// decodeWebhook finds the endpoint in an answer: under "webhook" (as
// documented), "webhooks" or "data" (the first of a list), or the answer
// itself (in the data envelope or not). It returns nil, nil when the answer
// says there is none: null, or an empty list. Each field is read on its
// own, as StoredContact's are: one of an unexpected type is left empty, so
// that it cannot cost the signing secret. The secret is looked for in the
// endpoint, then beside it.
func decodeWebhook(a *answer) (*Webhook, error) {
	top, err := firstObject(a.body)
	if err != nil {
		return nil, malformed(err, a.body)
	}
	if string(top["success"]) == "false" {
		return nil, refusal(a, "success")
	}
	f := top
	if d := top["data"]; isObject(d) {
		if f, err = firstObject(d); err != nil {
			return nil, malformed(err, a.body)
		}
	}
	var obj json.RawMessage
	for _, k := range []string{"webhook", "webhooks", "data"} {
		if v, ok := f[k]; ok {
			obj = v
			break
		}
	}
	var in map[string]json.RawMessage
	switch {
	case obj == nil:
		_, hasUUID := f["uuid"]
		_, hasURL := f["url"]
		if !hasUUID && !hasURL {
			return nil, &malformedError{err: errors.New("the answer has no webhook")}
		}
		in = f
	case string(obj) == "null":
		return nil, nil
	case firstByte(obj) >= 0 && obj[firstByte(obj)] == '[':
		var list []json.RawMessage
		if err := json.Unmarshal(obj, &list); err != nil {
			return nil, malformed(err, a.body)
		}
		if len(list) == 0 {
			return nil, nil
		}
		obj = list[0]
		fallthrough
	default:
		if in, err = firstObject(obj); err != nil {
			return nil, malformed(err, a.body)
		}
	}
	w := &Webhook{
		UUID:          cmpOr(lenientString(in["uuid"]), lenientString(in["id"])),
		URL:           jsonString(in["url"]),
		EnabledEvents: eventTypes(in["enabled_events"]),
		Description:   jsonString(in["description"]),
		CreatedAt:     lenientTimeOf(in, "created_at", "createdAt"),
	}
	if w.EnabledEvents == nil {
		w.EnabledEvents = eventTypes(in["events"])
	}
	if v, ok := lenientBool(in["is_active"]); ok {
		w.Active = v
	} else if v, ok := lenientBool(in["active"]); ok {
		w.Active = v
	}
	var sent json.RawMessage // the secret's token as sent
	for _, m := range []map[string]json.RawMessage{in, f, top} {
		for _, k := range secretKeys {
			if secret := jsonString(m[k]); secret != "" && w.SigningSecret == "" {
				w.SigningSecret, sent = WebhookSecret(secret), m[k]
			}
		}
	}
	w.Raw = maskSecret(a.body, sent, string(w.SigningSecret))
	w.URL, w.Description = redact.SigningSecrets(w.URL), redact.SigningSecrets(w.Description)
	if w.UUID == "" && w.URL == "" {
		return w, &malformedError{err: errors.New("the webhook has neither uuid nor url")}
	}
	return w, nil
}

// firstObject reads the JSON object that b starts with; what follows it
// is ignored, so that trailing bytes cannot cost a secret.
func firstObject(b []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not a JSON object")
	}
	return m, nil
}

func isObject(raw json.RawMessage) bool {
	i := firstByte(raw)
	return i >= 0 && raw[i] == '{'
}

// eventTypes reads a list of event types: an array (its strings), or one
// string of types separated by commas; anything else is nil.
func eventTypes(raw json.RawMessage) []webhook.EventType {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		items = nil
		if s := jsonString(raw); s != "" {
			for _, part := range strings.Split(s, ",") {
				if part = strings.TrimSpace(part); part != "" {
					items = append(items, json.RawMessage(strconv.Quote(part)))
				}
			}
		}
	}
	var out []webhook.EventType
	for _, it := range items {
		if s := jsonString(it); s != "" {
			out = append(out, webhook.EventType(s))
		}
	}
	return out
}

// lenientBool reads true and false, as JSON, as strings, or as 1 and 0.
func lenientBool(raw json.RawMessage) (bool, bool) {
	s := string(raw)
	if raw := jsonString(raw); raw != "" {
		s = strings.ToLower(strings.TrimSpace(raw))
	}
	switch s {
	case "true", "1":
		return true, true
	case "false", "0":
		return false, true
	}
	return false, false
}

// maskSecret is body with every signing secret masked: each whsec_ token,
// and secret, the one just received, however it is written (the token as
// sent, with its escapes; the string, JSON-encoded or plain). nil when
// secret is still found in it, so that Raw never holds it.
func maskSecret(body, sent []byte, secret string) json.RawMessage {
	out := []byte(redact.SigningSecrets(string(body)))
	if secret == "" {
		return out
	}
	masked, _ := json.Marshal(WebhookSecret(secret).masked())
	if len(sent) > 0 {
		out = bytes.ReplaceAll(out, bytes.TrimSpace(sent), masked)
	}
	enc, _ := json.Marshal(secret) // a string always encodes
	out = bytes.ReplaceAll(out, enc, masked)
	if len(secret) >= redact.MinRun {
		out = bytes.ReplaceAll(out, []byte(secret), []byte(WebhookSecret(secret).masked()))
	}
	if bytes.Contains(out, []byte(secret)) {
		return nil
	}
	return out
}

// onlySigningSecret is the secret of an answer that cannot be read as an
// endpoint: the one whsec_ token it holds as a whole JSON string (escapes
// undone; one cut short by the end of the body is not a secret), or ""
// when it holds none or several.
func onlySigningSecret(body []byte) string {
	var found string
	for rest := string(body); ; {
		i := strings.Index(rest, redact.SigningPrefix)
		if i < 0 {
			return found
		}
		quoted := i > 0 && rest[i-1] == '"'
		rest = rest[i:]
		end := len(redact.SigningPrefix)
		for end < len(rest) && (rest[end] == '\\' && end+1 < len(rest) && rest[end+1] != '"' || secretByte(rest[end])) {
			if rest[end] == '\\' {
				end++
			}
			end++
		}
		tok := rest[:end]
		rest = rest[end:]
		var s string
		if !quoted || !strings.HasPrefix(rest, `"`) || json.Unmarshal([]byte(`"`+tok+`"`), &s) != nil {
			continue // not a whole JSON string: a word in a message, or cut short
		}
		if s == redact.SigningPrefix || found != "" && found != s {
			return ""
		}
		found = s
	}
}

// secretByte is a byte a signing secret may hold: a letter, a digit or one
// of + / = _ - .
func secretByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("+/=_-.", c) >= 0
}
