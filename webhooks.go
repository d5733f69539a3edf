package sendivent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sendivent/sendivent-go/internal/idem"
	"github.com/sendivent/sendivent-go/webhook"
)

// WebhooksService configures the application's webhook endpoint, the URL
// where the service pushes signed delivery events (delivery.sent,
// delivery.delivered, delivery.failed, delivery.bounced,
// delivery.complained). An application has at most one. Use it as
// client.Webhooks; receive the events with package webhook.
type WebhooksService service

func (s *WebhooksService) client() *Client { return (*service)(s).client() }

// WebhookConfig is a new webhook endpoint.
type WebhookConfig struct {
	// URL receives the events: an absolute https URL; plain http is
	// accepted only for localhost and loopback addresses (a local test
	// server).
	URL string
	// EnabledEvents are the event types sent to URL, at least one, such as
	// webhook.DeliveryDelivered. A type this SDK does not know is sent as
	// it is, for types the service adds.
	EnabledEvents []webhook.EventType
	// Description is a note for people, shown in the dashboard; optional.
	Description string
}

// WebhookUpdate changes an endpoint: only the fields set are sent. URL and
// EnabledEvents are left as they are when zero (neither can be empty);
// Active and Description are pointers because false and "" are values to
// set: Active: sendivent.Ptr(false) pauses deliveries.
type WebhookUpdate struct {
	URL           string              // the new URL; same rules as WebhookConfig.URL
	EnabledEvents []webhook.EventType // the new list, replacing the old; nil leaves it
	Active        *bool               // false pauses deliveries, true resumes them
	Description   *string             // "" clears it
}

// Webhook is the application's webhook endpoint, as the service describes
// it.
type Webhook struct {
	UUID          string              `json:"uuid"` // names it to Update and Delete
	URL           string              `json:"url"`
	EnabledEvents []webhook.EventType `json:"enabled_events"`
	Active        bool                `json:"is_active"`
	Description   string              `json:"description,omitempty"`
	CreatedAt     time.Time           `json:"created_at"` // zero if absent or unreadable

	// SigningSecret verifies the deliveries (webhook.Handler, webhook.Verify).
	// The service returns it once, in Create's answer: store it then, in
	// your secret store. Elsewhere it is empty unless the service sends it.
	// It prints and encodes masked; string(w.SigningSecret) is the secret.
	// json.Marshal of a Webhook leaves it out, and Raw too.
	SigningSecret WebhookSecret `json:"-"`

	// Raw is the body as received, with every signing secret in it masked
	// (whsec_… values, and this one however it is written); nil, should
	// the secret still be found in it.
	Raw json.RawMessage `json:"-"`
}

// webhooksPath is the collection; an endpoint is webhooksPath/{uuid}.
const webhooksPath = "/v1/webhooks"

// Create makes the application's webhook endpoint: POST /v1/webhooks. The
// answer carries the signing secret, the only time the service shows it
// (see Webhook.SigningSecret). An application has one endpoint: when it
// already has one, Create returns an error matching ErrConflict, not
// retried; Get it, then Update or Delete it. The request carries an
// idempotency key, so a retry after a lost answer is not taken for a
// second endpoint.
//
// The answer is read leniently, as StoredContact is: a field of an
// unexpected type is left empty. Whenever an answer held the secret (a
// 2xx, even one whose other fields cannot be read, or one whose body broke
// off after the secret), Create returns the Webhook with it, beside the
// error, if any: keep the secret even then, as it is not shown again.
func (s *WebhooksService) Create(ctx context.Context, cfg WebhookConfig) (*Webhook, error) {
	if err := checkWebhookURL("url", cfg.URL); err != nil {
		return nil, err
	}
	if err := checkEventTypes(cfg.EnabledEvents); err != nil {
		return nil, err
	}
	body, err := encodeJSON(struct {
		URL           string              `json:"url"`
		EnabledEvents []webhook.EventType `json:"enabled_events"`
		Description   string              `json:"description,omitempty"`
	}{cfg.URL, cfg.EnabledEvents, cfg.Description})
	if err != nil { // strings only: cannot happen
		return nil, &ValidationError{Field: "webhook", Reason: "cannot be encoded as JSON", Err: err}
	}
	r := request{method: "POST", route: webhooksPath, path: webhooksPath, body: body, key: idem.New(), salvage: true}
	w, err := do(ctx, s.client(), r, decodeWebhookAnswer)
	if err != nil && (w == nil || w.SigningSecret == "") {
		w = nil
	}
	if errors.Is(err, ErrConflict) {
		return w, &webhookExistsError{err: err}
	}
	return w, err
}

// webhookExistsError is Create's 409: it says what to do, and keeps the
// *APIError for errors.As and ErrConflict for errors.Is.
type webhookExistsError struct{ err error }

func (e *webhookExistsError) Error() string {
	return "sendivent: the application already has a webhook endpoint (one per application: Get it, then Update or Delete it): " +
		strings.TrimPrefix(e.err.Error(), "sendivent: ")
}

func (e *webhookExistsError) Unwrap() error { return e.err }

// Get returns the application's webhook endpoint: GET /v1/webhooks. When it
// has none the error matches ErrNotFound.
func (s *WebhooksService) Get(ctx context.Context) (*Webhook, error) {
	r := request{method: "GET", route: webhooksPath, path: webhooksPath}
	return do(ctx, s.client(), r, decodeWebhookGet)
}

// Update changes the endpoint uuid: PATCH /v1/webhooks/{uuid}, with the
// fields of u that are set, and returns the endpoint as changed. An update
// that sets nothing is a *ValidationError; an unknown uuid an error
// matching ErrNotFound.
func (s *WebhooksService) Update(ctx context.Context, uuid string, u WebhookUpdate) (*Webhook, error) {
	if err := checkIdentifier("uuid", uuid); err != nil {
		return nil, err
	}
	if u.URL == "" && u.EnabledEvents == nil && u.Active == nil && u.Description == nil {
		return nil, invalid("update", "nothing to change: set URL, EnabledEvents, Active or Description")
	}
	if u.URL != "" {
		if err := checkWebhookURL("url", u.URL); err != nil {
			return nil, err
		}
	}
	if u.EnabledEvents != nil {
		if err := checkEventTypes(u.EnabledEvents); err != nil {
			return nil, err
		}
	}
	body, err := encodeJSON(struct {
		URL           string              `json:"url,omitempty"`
		EnabledEvents []webhook.EventType `json:"enabled_events,omitempty"`
		Active        *bool               `json:"is_active,omitempty"`
		Description   *string             `json:"description,omitempty"`
	}{u.URL, u.EnabledEvents, u.Active, u.Description})
	if err != nil { // strings and a bool only: cannot happen
		return nil, &ValidationError{Field: "update", Reason: "cannot be encoded as JSON", Err: err}
	}
	r := request{method: "PATCH", route: webhooksPath + "/{uuid}", path: webhooksPath + "/" + pathSegment(uuid), body: body}
	return do(ctx, s.client(), r, decodeWebhookAnswer)
}

// Delete removes the endpoint uuid: DELETE /v1/webhooks/{uuid}. Deliveries
// stop, and Create may make a new one. An unknown uuid is an error matching
// ErrNotFound, as for contacts, with one exception: a 404 to a retry whose
// earlier attempt got no answer (a broken connection, a time-out) or a 2xx
// cut short. That attempt may have deleted the endpoint, and then Delete
// returns nil. A 404 after an attempt the service answered with an error
// (a 503) is ErrNotFound: the service said it had not deleted it.
func (s *WebhooksService) Delete(ctx context.Context, uuid string) error {
	if err := checkIdentifier("uuid", uuid); err != nil {
		return err
	}
	r := request{method: "DELETE", route: webhooksPath + "/{uuid}", path: webhooksPath + "/" + pathSegment(uuid)}
	_, err := do(ctx, s.client(), r, doneAnswer)
	var ae *APIError
	if errors.As(err, &ae) && ae.StatusCode == 404 && mayHaveDone(ae.Attempts[:len(ae.Attempts)-1]) {
		return nil
	}
	return err
}

// mayHaveDone reports whether one of the attempts may have done what the
// request asked without the SDK learning it: it got no answer at all, or a
// 2xx whose body was cut short.
func mayHaveDone(attempts []Attempt) bool {
	for _, a := range attempts {
		if a.StatusCode == 0 || a.StatusCode >= 200 && a.StatusCode < 300 {
			return true
		}
	}
	return false
}

// encodeJSON is json.Marshal without HTML escaping, so that a URL's & is
// sent as it is written.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// maxWebhookURL bounds a webhook URL, as browsers and proxies commonly do.
const maxWebhookURL = 2048

// checkWebhookURL refuses what cannot receive deliveries, or would carry
// them in clear text over a network. Its reasons never quote the URL,
// which may hold credentials.
func checkWebhookURL(field, raw string) error {
	if raw == "" {
		return invalid(field, "empty URL")
	}
	if len(raw) > maxWebhookURL {
		return invalid(field, "URL longer than "+strconv.Itoa(maxWebhookURL)+" bytes")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return &ValidationError{Field: field, Reason: "does not parse as a URL"}
	}
	if !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return invalid(field, "not an absolute URL with a host, such as https://example.com/webhooks/sendivent")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return invalid(field, "plain http is accepted only for localhost and loopback addresses; use https")
		}
	default:
		return invalid(field, "scheme "+strconv.Quote(u.Scheme)+": want https")
	}
	if u.Fragment != "" || strings.HasSuffix(raw, "#") {
		return invalid(field, "has a #fragment, which is never sent to the server")
	}
	return nil
}

// checkEventTypes wants at least one type, each a plain token; types this
// SDK does not know pass, for those the service adds.
func checkEventTypes(types []webhook.EventType) error {
	if len(types) == 0 {
		return invalid("enabled_events", "no event type: enable at least one, such as webhook.DeliveryDelivered")
	}
	for i, t := range types {
		field := "enabled_events[" + strconv.Itoa(i) + "]"
		if t == "" {
			return invalid(field, "empty event type")
		}
		for _, r := range string(t) {
			if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
				return invalid(field, "event type "+strconv.Quote(string(t))+" contains white space, a control character or invalid UTF-8")
			}
		}
	}
	return nil
}

// errNoWebhook is Get's error when a 2xx says there is no endpoint. It
// matches ErrNotFound, as a 404 does.
var errNoWebhook error = noWebhookError{}

type noWebhookError struct{}

func (noWebhookError) Error() string        { return "the application has no webhook endpoint" }
func (noWebhookError) Is(target error) bool { return target == ErrNotFound }
