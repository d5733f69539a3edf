package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/sendivent/sendivent-go/internal/wire"
)

// EventType is what happened to a delivery. The service may add types;
// an unknown one is kept as sent.
type EventType string

// The event types the service documents.
const (
	DeliverySent       EventType = "delivery.sent"       // the provider accepted the message (every channel)
	DeliveryDelivered  EventType = "delivery.delivered"  // the provider confirmed delivery (email only, with receipts)
	DeliveryFailed     EventType = "delivery.failed"     // sending failed or the provider refused it
	DeliveryBounced    EventType = "delivery.bounced"    // hard bounce; the contact is suppressed (email)
	DeliveryComplained EventType = "delivery.complained" // spam complaint; the contact is suppressed (email)
)

// Event is one delivery event, as received:
//
//	{"event": "delivery.sent", "delivery": {…}, "request_id": "…", "timestamp": "2026-03-30T12:00:00.123Z"}
//
// Decoding is lenient, as the format is young: an unknown type is kept, a
// timestamp that cannot be read is left zero, and fields this package does
// not know are kept and written back by MarshalJSON (Raw has them too).
// MarshalJSON writes the wire shape, so an Event can also be built, encoded
// and signed with [Sign] to make a delivery.
type Event struct {
	Type      EventType // "event" on the wire ("type" is read too)
	Delivery  Delivery  // the message the event is about
	RequestID string    // "request_id": the send request's id, for correlation
	Timestamp time.Time // "timestamp": when the event happened; zero if absent or unreadable

	// WebhookID is the X-Sendivent-Webhook-Id header: the id of this
	// delivery attempt. It is not part of the body.
	WebhookID string
	// Raw is the body as verified. MarshalJSON ignores it.
	Raw []byte

	extra map[string]json.RawMessage
}

// Delivery is the message an [Event] is about.
type Delivery struct {
	UUID        string         // "uuid" ("id" is read too); correlate events by it
	Channel     string         // email, sms, slack, push, telegram, whatsapp, discord
	Status      string         // the message's status after the event: sent, delivered, failed…
	EventName   string         // "event_name": the Sendivent event that was sent, e.g. welcome
	MessageID   string         // "message_id": the provider's id for the message
	SentAt      time.Time      // "sent_at"; zero when null or unreadable
	DeliveredAt time.Time      // "delivered_at"; zero when null or unreadable
	Error       *DeliveryError // nil unless the delivery failed

	extra map[string]json.RawMessage
}

// DeliveryError says why a delivery failed or bounced.
type DeliveryError struct {
	Code    string `json:"code"`    // e.g. HARD_BOUNCE
	Message string `json:"message"` // the provider's words
}

// DedupeKey names the event for deduplication: its type and delivery UUID
// (a retried delivery repeats both), or else the webhook id; "" when it has
// neither. [Handler] uses it; use it too when deduplicating by hand after
// [Verify].
func (e *Event) DedupeKey() string {
	switch {
	case e.Delivery.UUID != "":
		return "delivery/" + e.Delivery.UUID + "/" + string(e.Type)
	case e.WebhookID != "":
		return "webhook/" + e.WebhookID
	}
	return ""
}

// UnmarshalJSON decodes leniently (see [Event]) and keeps a copy of b in
// Raw. It fails only when b is not a JSON object.
func (e *Event) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	*e = Event{}
	if err := e.decode(b); err != nil {
		return err
	}
	e.Raw = bytes.Clone(b)
	return nil
}

// decode fills e's body fields from b, leaving Raw and WebhookID alone.
func (e *Event) decode(b []byte) error {
	m, err := object(b)
	if err != nil {
		return err
	}
	if e.Type = EventType(text(take(m, "event"))); e.Type == "" {
		e.Type = EventType(text(take(m, "type")))
	}
	if d := take(m, "delivery"); d != nil {
		_ = e.Delivery.decode(d) // not an object: no delivery, Raw has it
	}
	e.RequestID = text(take(m, "request_id"))
	e.Timestamp = wire.ParseTime(text(take(m, "timestamp")))
	e.extra = m
	return nil
}

// MarshalJSON writes the wire shape, the fields it does not know last.
func (e Event) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(struct {
		Type      EventType `json:"event"`
		Delivery  Delivery  `json:"delivery"`
		RequestID string    `json:"request_id"`
		Timestamp *string   `json:"timestamp"`
	}{e.Type, e.Delivery, e.RequestID, formatTime(e.Timestamp)})
	if err != nil {
		return nil, err
	}
	return appendExtra(b, e.extra)
}

// UnmarshalJSON decodes leniently (see [Event]).
func (d *Delivery) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	*d = Delivery{}
	return d.decode(b)
}

func (d *Delivery) decode(b []byte) error {
	m, err := object(b)
	if err != nil {
		return err
	}
	if d.UUID = text(take(m, "uuid")); d.UUID == "" {
		d.UUID = text(take(m, "id"))
	}
	d.Channel = text(take(m, "channel"))
	d.Status = text(take(m, "status"))
	if d.EventName = text(take(m, "event_name")); d.EventName == "" {
		d.EventName = text(take(m, "event"))
	}
	d.MessageID = text(take(m, "message_id"))
	d.SentAt = wire.ParseTime(text(take(m, "sent_at")))
	d.DeliveredAt = wire.ParseTime(text(take(m, "delivered_at")))
	d.Error = deliveryError(take(m, "error"))
	d.extra = m
	return nil
}

// MarshalJSON writes the wire shape: unset times and a nil Error as null.
func (d Delivery) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(struct {
		UUID        string         `json:"uuid"`
		Channel     string         `json:"channel"`
		Status      string         `json:"status"`
		EventName   string         `json:"event_name"`
		MessageID   string         `json:"message_id"`
		SentAt      *string        `json:"sent_at"`
		DeliveredAt *string        `json:"delivered_at"`
		Error       *DeliveryError `json:"error"`
	}{d.UUID, d.Channel, d.Status, d.EventName, d.MessageID, formatTime(d.SentAt), formatTime(d.DeliveredAt), d.Error})
	if err != nil {
		return nil, err
	}
	return appendExtra(b, d.extra)
}

// deliveryError reads {"code", "message"}, or a bare string as the message.
func deliveryError(raw json.RawMessage) *DeliveryError {
	if s := text(raw); s != "" {
		return &DeliveryError{Message: s}
	}
	m, err := object(raw)
	if err != nil {
		return nil
	}
	e := &DeliveryError{Code: text(m["code"]), Message: text(m["message"])}
	if *e == (DeliveryError{}) {
		return nil
	}
	return e
}

var errNotObject = errors.New("not a JSON object")

func object(b []byte) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	if m == nil { // null
		return nil, errNotObject
	}
	return m, nil
}

// take removes key from m and returns its value (nil when absent).
func take(m map[string]json.RawMessage, key string) json.RawMessage {
	v, ok := m[key]
	if ok {
		delete(m, key)
	}
	return v
}

// text reads a JSON string, or a number as written (ids may be numeric);
// anything else gives "".
func text(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// timeLayout is the service's: UTC with milliseconds.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

func formatTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(timeLayout)
	return &s
}

// appendExtra adds the unknown fields to the object b, sorted by name.
func appendExtra(b []byte, extra map[string]json.RawMessage) ([]byte, error) {
	if len(extra) == 0 {
		return b, nil
	}
	b = b[:len(b)-1] // the closing brace
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		name, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		b = append(append(append(append(b, ','), name...), ':'), extra[k]...)
	}
	return append(b, '}'), nil
}
