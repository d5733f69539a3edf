package sendiventtest

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/webhook"
)

// The webhook endpoint's configuration: the API's /v1/webhooks and the
// options that configure it at start. Deliveries are in webhook_delivery.go.

// EndpointWebhooks is POST|GET /v1/webhooks and PATCH|DELETE
// /v1/webhooks/{uuid}.
const EndpointWebhooks Endpoint = "webhooks"

// handlerURL is the URL of the endpoint that WithWebhookHandler configures:
// deliveries to it call the handler in process. The .invalid domain never
// resolves, so nothing reaches the network by mistake.
const handlerURL = "https://handler.sendiventtest.invalid/webhooks"

// knownWebhookEvents are the event types the service documents; the fake,
// like the service, refuses others in enabled_events.
var knownWebhookEvents = []webhook.EventType{
	webhook.DeliverySent, webhook.DeliveryDelivered, webhook.DeliveryFailed,
	webhook.DeliveryBounced, webhook.DeliveryComplained,
}

// hookEndpoint is the application's webhook endpoint.
type hookEndpoint struct {
	uuid, url, description, secret string
	events                         []webhook.EventType
	active                         bool
	createdAt                      time.Time
}

// hookOption is what WithWebhook or WithWebhookHandler configured.
type hookOption struct {
	url, secret string
	handler     http.Handler
}

// WithWebhook configures the application's webhook endpoint, as
// client.Webhooks.Create would: the server POSTs every event type (see
// the package doc's Webhooks) to url, signed with secret; "" makes a
// whsec_… secret, which Server.Webhook returns. url is an absolute http or
// https URL; NewServer panics otherwise. Reset restores this endpoint.
func WithWebhook(url, secret string) Option {
	return func(c *config) { c.webhook = &hookOption{url: url, secret: secret} }
}

// WithWebhookHandler configures the webhook endpoint as WithWebhook does,
// with h, such as the application's webhook.Handler, in place of a URL:
// each delivery is a call of h.ServeHTTP in process, with no network, and
// its answer counts as the endpoint's. The endpoint's URL reads
// https://handler.sendiventtest.invalid/webhooks, a name that never
// resolves. h runs on a goroutine of the server's and may use the server
// (its API, its methods) except Close, which waits for h to return.
// NewServer panics if h is nil.
func WithWebhookHandler(h http.Handler, secret string) Option {
	return func(c *config) { c.webhook = &hookOption{url: handlerURL, secret: secret, handler: h} }
}

// SetWebhookHandler configures the webhook endpoint as WithWebhookHandler
// does, once the server is made, so that a test builds its application in
// the order main does: the fake, its Client, the application with that
// client, then the application's handler. It replaces the endpoint the
// server had, if any (events of messages that moved before stay with the
// old one), and Reset restores it rather than the options' endpoint. A ""
// secret makes one, which Webhook returns. It panics if h is nil.
func (s *Server) SetWebhookHandler(h http.Handler, secret string) {
	if h == nil {
		panic("sendiventtest: SetWebhookHandler: nil handler")
	}
	ep, err := newHookEndpoint(&hookOption{url: handlerURL, secret: secret, handler: h})
	if err != nil { // the handler's URL always parses
		panic("sendiventtest: SetWebhookHandler: " + err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks.initial, s.hooks.handler = ep, h
	cur := *ep
	cur.events = slices.Clone(ep.events)
	s.hooks.ep = &cur
}

// newHookEndpoint makes the endpoint of an option; NewServer panics on its
// error.
func newHookEndpoint(o *hookOption) (*hookEndpoint, error) {
	if o.url == handlerURL && o.handler == nil {
		return nil, fmt.Errorf("WithWebhookHandler: nil handler")
	}
	if msg := checkHookURL(o.url); msg != "" {
		return nil, fmt.Errorf("WithWebhook(%q): %s", o.url, msg)
	}
	ep := &hookEndpoint{
		uuid: newUUID(), url: o.url, secret: o.secret, active: true,
		events: slices.Clone(knownWebhookEvents), createdAt: stamp(),
	}
	if ep.secret == "" {
		ep.secret = "whsec_" + randHex(24)
	}
	return ep, nil
}

// checkHookURL says what is wrong with a webhook URL, or "".
func checkHookURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "url is required"
	case err != nil:
		return "url does not parse as a URL"
	case (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "url must be an absolute http or https URL"
	}
	return ""
}

// Webhook returns the application's webhook endpoint as the service would
// describe it, with its signing secret, and false when there is none.
func (s *Server) Webhook() (sendivent.Webhook, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ep := s.hooks.ep
	if ep == nil {
		return sendivent.Webhook{}, false
	}
	return sendivent.Webhook{
		UUID: ep.uuid, URL: ep.url, EnabledEvents: slices.Clone(ep.events), Active: ep.active,
		Description: ep.description, CreatedAt: ep.createdAt,
		SigningSecret: sendivent.WebhookSecret(ep.secret), Raw: mustJSON(ep.wire(false)),
	}, true
}

// hookWire is an endpoint as the service's answers show it.
type hookWire struct {
	UUID          string              `json:"uuid"`
	URL           string              `json:"url"`
	EnabledEvents []webhook.EventType `json:"enabled_events"`
	IsActive      bool                `json:"is_active"`
	Description   *string             `json:"description"`
	SigningSecret string              `json:"signing_secret,omitempty"`
	CreatedAt     string              `json:"created_at"`
}

func (ep *hookEndpoint) wire(secret bool) hookWire {
	w := hookWire{
		UUID: ep.uuid, URL: ep.url, EnabledEvents: ep.events, IsActive: ep.active,
		Description: strOrNil(ep.description), CreatedAt: ep.createdAt.UTC().Format(timeFormat),
	}
	if secret {
		w.SigningSecret = ep.secret
	}
	return w
}

func (ep *hookEndpoint) answer(status int, secret bool) reply {
	return reply{status: status, body: mustJSON(struct {
		Success bool     `json:"success"`
		Webhook hookWire `json:"webhook"`
	}{true, ep.wire(secret)})}
}

func init() {
	addAPIRoute(http.MethodPost, "/v1/webhooks", apiRoute{endpoint: EndpointWebhooks, idempotent: true, serve: (*Server).createHookLocked})
	addAPIRoute(http.MethodGet, "/v1/webhooks", apiRoute{endpoint: EndpointWebhooks, serve: (*Server).getHookLocked})
	addAPIRoute(http.MethodPatch, "/v1/webhooks/{uuid}", apiRoute{endpoint: EndpointWebhooks, serve: (*Server).updateHookLocked})
	addAPIRoute(http.MethodDelete, "/v1/webhooks/{uuid}", apiRoute{endpoint: EndpointWebhooks, serve: (*Server).deleteHookLocked})
}

func hookNotFound() reply { return errReply(http.StatusNotFound, "Webhook not found", "NOT_FOUND") }

func hookInvalid(field, msg string) reply {
	return (&apiError{status: http.StatusBadRequest, Error: msg, Code: "VALIDATION_ERROR", Field: field}).reply()
}

// createHookLocked answers POST /v1/webhooks: 201 with the signing secret,
// or 409 when the application has an endpoint.
func (s *Server) createHookLocked(x *exchange) reply {
	if s.hooks.ep != nil {
		return errReply(http.StatusConflict, "Webhook already exists", "CONFLICT")
	}
	m, ok := decodeJSON(x.raw, false).(map[string]any)
	if !ok {
		return hookInvalid("", "Invalid JSON body")
	}
	ep := &hookEndpoint{uuid: newUUID(), secret: "whsec_" + randHex(24), active: true, createdAt: stamp()}
	if _, ok := m["url"]; !ok {
		return hookInvalid("url", "Missing required field: url")
	}
	if _, ok := m["enabled_events"]; !ok {
		return hookInvalid("enabled_events", "Missing required field: enabled_events")
	}
	if rp, bad := ep.apply(m); bad {
		return rp
	}
	s.hooks.ep = ep
	return ep.answer(http.StatusCreated, true)
}

func (s *Server) getHookLocked(*exchange) reply {
	if s.hooks.ep == nil {
		return hookNotFound()
	}
	return s.hooks.ep.answer(http.StatusOK, false)
}

// updateHookLocked answers PATCH /v1/webhooks/{uuid}: the fields present
// change, all or none.
func (s *Server) updateHookLocked(x *exchange) reply {
	ep := s.hooks.ep
	if ep == nil || ep.uuid != x.p["uuid"] {
		return hookNotFound()
	}
	m, ok := decodeJSON(x.raw, false).(map[string]any)
	if !ok {
		return hookInvalid("", "Invalid JSON body")
	}
	known := 0
	for _, k := range []string{"url", "enabled_events", "is_active", "description"} {
		if _, ok := m[k]; ok {
			known++
		}
	}
	if known == 0 {
		return hookInvalid("", "No fields to update")
	}
	next := *ep
	if rp, bad := next.apply(m); bad {
		return rp
	}
	*ep = next
	return ep.answer(http.StatusOK, false)
}

func (s *Server) deleteHookLocked(x *exchange) reply {
	if ep := s.hooks.ep; ep == nil || ep.uuid != x.p["uuid"] {
		return hookNotFound()
	}
	s.hooks.ep = nil
	return reply{status: http.StatusOK, body: []byte(`{"success":true,"deleted":true}`)}
}

// apply sets the fields present in m, checking each; on a bad one it
// returns the answer and true.
func (ep *hookEndpoint) apply(m map[string]any) (reply, bool) {
	if v, ok := m["url"]; ok {
		u, _ := v.(string)
		if msg := checkHookURL(u); msg != "" {
			return hookInvalid("url", msg), true
		}
		ep.url = u
	}
	if v, ok := m["enabled_events"]; ok {
		list, _ := v.([]any)
		if len(list) == 0 {
			return hookInvalid("enabled_events", "enabled_events must be a non-empty array"), true
		}
		events := make([]webhook.EventType, 0, len(list))
		for _, e := range list {
			name, _ := e.(string)
			if !slices.Contains(knownWebhookEvents, webhook.EventType(name)) {
				return hookInvalid("enabled_events", fmt.Sprintf("Unknown event type '%v'", e)), true
			}
			events = append(events, webhook.EventType(name))
		}
		ep.events = events
	}
	if v, ok := m["is_active"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return hookInvalid("is_active", "is_active must be a boolean"), true
		}
		ep.active = b
	}
	if v, ok := m["description"]; ok {
		d, isString := v.(string)
		if v != nil && !isString {
			return hookInvalid("description", "description must be a string"), true
		}
		ep.description = d
	}
	return reply{}, false
}
