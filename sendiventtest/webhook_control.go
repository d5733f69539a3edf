package sendiventtest

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/sendivent/sendivent-go/webhook"
)

// The webhook control endpoints: what was delivered, and a wait for the
// deliveries still going.

func init() {
	addControlRoute(http.MethodGet, "/_fake/webhooks/deliveries", (*Server).ctlWebhookDeliveries)
	addControlRoute(http.MethodPost, "/_fake/webhooks/wait", (*Server).ctlWebhookWait)
}

// controlDelivery is a WebhookDelivery as the control endpoints show it.
type controlDelivery struct {
	Type           webhook.EventType `json:"type"`
	DeliveryUUID   string            `json:"delivery_uuid"`
	NotificationID string            `json:"notification_id"`
	WebhookID      string            `json:"webhook_id"`
	URL            string            `json:"url"`
	Attempt        int               `json:"attempt"`
	Status         int               `json:"status"`
	Error          string            `json:"error,omitempty"`
	Time           time.Time         `json:"time"`
	Event          json.RawMessage   `json:"event"` // the body sent
}

func toControlDelivery(d WebhookDelivery) controlDelivery {
	c := controlDelivery{
		Type: d.Event.Type, DeliveryUUID: d.Event.Delivery.UUID, NotificationID: d.NotificationID,
		WebhookID: d.Event.WebhookID, URL: d.URL, Attempt: d.Attempt, Status: d.StatusCode,
		Time: d.Time, Event: d.Event.Raw,
	}
	if d.Err != nil {
		c.Error = d.Err.Error()
	}
	return c
}

// ctlWebhookDeliveries lists every attempt; ?type=delivery.sent keeps one
// event type.
func (s *Server) ctlWebhookDeliveries(c *controlCall) (int, any) {
	q := c.r.URL.Query()
	typ, filter := q.Get("type"), q.Has("type")
	out := []controlDelivery{}
	for _, d := range s.WebhookDeliveries() {
		if !filter || string(d.Event.Type) == typ {
			out = append(out, toControlDelivery(d))
		}
	}
	return http.StatusOK, map[string]any{"deliveries": out}
}

// ctlWebhookWait is WaitWebhooks for at most {"timeout": "5s"} (default
// 10 s); 504 TIMEOUT when deliveries are still going then.
func (s *Server) ctlWebhookWait(c *controlCall) (int, any) {
	var in struct {
		Timeout string `json:"timeout"`
	}
	if err := c.decode(&in); err != nil {
		return ctlErr(http.StatusBadRequest, "INVALID_REQUEST", "%v", err)
	}
	d := 10 * time.Second
	if in.Timeout != "" {
		var err error
		if d, err = time.ParseDuration(in.Timeout); err != nil || d <= 0 {
			return ctlErr(http.StatusBadRequest, "INVALID_REQUEST", "timeout %q: want a positive Go duration such as \"5s\"", in.Timeout)
		}
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), d)
	defer cancel()
	if err := s.WaitWebhooks(ctx); err != nil {
		return ctlErr(http.StatusGatewayTimeout, "TIMEOUT", "webhook deliveries still going after %s", d)
	}
	return http.StatusOK, map[string]string{"status": "idle"}
}
