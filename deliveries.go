package sendivent

import (
	"context"
	"encoding/json"
	"iter"
	"strconv"
	"time"
)

// DeliveriesService reads the log of deliveries (one per message the
// service sent, or tried to, on one channel): client.Deliveries.
//
// Only one source documents these read-only "developer" endpoints (an
// agent skill by the official SDKs' author); the API reference does not
// list them, and their format may change. Answers are read leniently and
// kept whole in Raw.
type DeliveriesService service

func (s *DeliveriesService) client() *Client { return (*service)(s).client() }

// DeliveryListParams filter and page a deliveries listing. The zero value
// lists every delivery, in pages of the service's default size (20).
type DeliveryListParams struct {
	Event   string  `url:"event,omitempty"`   // an event's name
	Channel Channel `url:"channel,omitempty"` // a known channel
	// Status is a delivery status; the source lists pending, sent,
	// delivered and failed (where notifications say queued for pending).
	Status MessageStatus `url:"status,omitempty"`
	Limit  int           `url:"limit,omitempty"` // page size; 0 is the service's default
	Offset int           `url:"offset,omitempty"`
}

func (p DeliveryListParams) check() error {
	switch {
	case p.Limit < 0:
		return invalid("limit", "negative limit "+strconv.Itoa(p.Limit))
	case p.Offset < 0:
		return invalid("offset", "negative offset "+strconv.Itoa(p.Offset))
	case p.Channel != "" && !p.Channel.Valid():
		return invalid("channel", "unknown channel "+strconv.Quote(string(p.Channel)))
	case p.Event != "":
		return checkEvent(p.Event)
	}
	return nil
}

// Delivery is one message on one channel, as the deliveries log has it.
type Delivery struct {
	UUID    string
	Channel Channel
	Status  MessageStatus
	Event   string // the event's name
	// NotificationID is the notification the delivery belongs to, when the
	// service says (as notification_id).
	NotificationID string
	// MessageID is the provider's id for the message, when there is one.
	MessageID   string
	CreatedAt   time.Time  // zero when the service does not say
	SentAt      *time.Time // when handed to the provider
	DeliveredAt *time.Time // when the provider confirmed it
	Error       string     // why it failed; "" when it did not
	// Raw is the delivery's JSON object as received.
	Raw json.RawMessage
}

// UnmarshalJSON decodes a delivery leniently: the event's name as
// event_name or event, timestamps that cannot be read left unset, an error
// given as an object ({"code", "message"}) kept as its message.
func (d *Delivery) UnmarshalJSON(b []byte) error {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*d = Delivery{
		UUID:           cmpOr(lenientString(f["uuid"]), jsonString(f["id"])),
		Channel:        Channel(jsonString(f["channel"])),
		Status:         MessageStatus(jsonString(f["status"])),
		Event:          cmpOr(jsonString(f["event_name"]), jsonString(f["event"])),
		NotificationID: jsonString(f["notification_id"]),
		MessageID:      lenientString(f["message_id"]),
		CreatedAt:      lenientTimeOf(f, "created_at"),
		Error:          errorText(f["error"]),
		Raw:            append(json.RawMessage(nil), b...),
	}
	if t := lenientTimeOf(f, "sent_at"); !t.IsZero() {
		d.SentAt = &t
	}
	if t := lenientTimeOf(f, "delivered_at"); !t.IsZero() {
		d.DeliveredAt = &t
	}
	return nil
}

// DeliveryTrace is a delivery's timeline: GET /v1/deliveries/{uuid}/trace.
type DeliveryTrace struct {
	Delivery Delivery
	Timeline []TraceEvent
	// Content is the snapshot of what was sent, as the service gives it
	// (under "content"; its format is not documented).
	Content json.RawMessage
	// Raw is the answer's body as received.
	Raw json.RawMessage
}

// TraceEvent is one step of a delivery's timeline, such as "queued" or
// "sent".
type TraceEvent struct {
	Event     string    `json:"event"`
	Timestamp time.Time `json:"timestamp"` // zero when it cannot be read
}

// UnmarshalJSON decodes a timeline step leniently.
func (t *TraceEvent) UnmarshalJSON(b []byte) error {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*t = TraceEvent{Event: jsonString(f["event"]), Timestamp: lenientTimeOf(f, "timestamp")}
	return nil
}

// ListPage returns one page of deliveries: GET
// /v1/deliveries?event=&channel=&status=&limit=&offset=.
func (s *DeliveriesService) ListPage(ctx context.Context, p DeliveryListParams) (*Page[Delivery], error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return getPage[Delivery](ctx, s.client(), "/v1/deliveries", "deliveries", p, p.Offset)
}

// List yields every delivery that p matches, from p.Offset on, reading the
// next page only when the loop asks for more, as Contacts.List does: it
// ends after the last one, when the loop breaks, or after yielding an
// error, a *PagingError when the pages do not add up; each delivery is
// yielded once.
func (s *DeliveriesService) List(ctx context.Context, p DeliveryListParams) iter.Seq2[*Delivery, error] {
	return paginate(p.Offset, p.Limit, func(offset int) (*Page[Delivery], error) {
		q := p
		q.Offset = offset
		return s.ListPage(ctx, q)
	})
}

// Trace returns a delivery's timeline and a snapshot of its content:
// GET /v1/deliveries/{uuid}/trace. An unknown uuid is an error matching
// ErrNotFound.
func (s *DeliveriesService) Trace(ctx context.Context, uuid string) (*DeliveryTrace, error) {
	if err := checkIdentifier("uuid", uuid); err != nil {
		return nil, err
	}
	r := request{method: "GET", route: "/v1/deliveries/{uuid}/trace", path: "/v1/deliveries/" + pathSegment(uuid) + "/trace"}
	return do(ctx, s.client(), r, func(a *answer) (*DeliveryTrace, error) {
		f, err := fields(a)
		if err != nil {
			return nil, err
		}
		t := &DeliveryTrace{Raw: json.RawMessage(a.body)}
		if err := member(f, &t.Delivery, "delivery"); err != nil {
			return nil, err
		}
		if raw := f["timeline"]; len(raw) > 0 && string(raw) != "null" {
			if err := json.Unmarshal(raw, &t.Timeline); err != nil {
				return nil, malformed(err, raw)
			}
		}
		if raw := f["content"]; len(raw) > 0 && string(raw) != "null" {
			t.Content = raw
		}
		return t, nil
	})
}

// listKey names the delivery in a listing: its UUID, or its JSON.
func (d *Delivery) listKey() string { return uuidOrRaw(d.UUID, d.Raw) }
