package webhook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"time"
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
// field of an unexpected type is left empty (a number where a string is
// expected is kept as written), a timestamp that cannot be read is left
// zero, and fields this package does not know are kept and written back by
// MarshalJSON (Raw has them too). Field names match as encoding/json
// matches them, ignoring case.
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

	src []byte // the JSON decoded, for MarshalJSON's unknown fields
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

	src     []byte // the JSON decoded, for MarshalJSON's unknown fields
	inEvent bool   // src is the whole event, not the delivery alone
}

// DeliveryError says why a delivery failed or bounced.
type DeliveryError struct {
	Code    string `json:"code"`    // e.g. HARD_BOUNCE
	Message string `json:"message"` // the provider's words
}

// DedupeKey names the event for deduplication from what the signature
// covers: its type and delivery UUID (a retried delivery repeats both), or
// else the SHA-256 of the body (Raw); "" when it has neither. It never uses
// WebhookID, which is not signed: a replay of one signed body with new ids
// is the same event. [Handler] uses it; use it too when deduplicating by
// hand after [Verify].
func (e *Event) DedupeKey() string {
	switch {
	case e.Delivery.UUID != "":
		return "delivery/" + e.Delivery.UUID + "/" + string(e.Type)
	case len(e.Raw) > 0:
		sum := sha256.Sum256(e.Raw)
		return "body/" + hex.EncodeToString(sum[:])
	}
	return ""
}

// UnmarshalJSON decodes leniently (see [Event]) and keeps a copy of b in
// Raw. It fails only when b is not a JSON object.
func (e *Event) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	b = bytes.Clone(b)
	*e = Event{}
	if err := e.decode(b); err != nil {
		return err
	}
	e.Raw = b
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
	return appendExtra(b, unknownFields(e.src, eventKeys))
}

// UnmarshalJSON decodes leniently (see [Event]).
func (d *Delivery) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if !isObject(b) {
		return errNotObject
	}
	var w wireDelivery
	typeErr, err := unmarshal(b, &w)
	if err != nil {
		return err
	}
	if typeErr && w.Error.deliveryError() == nil {
		w.Error = bareError(b, false)
	}
	*d = w.delivery()
	d.src = bytes.Clone(b)
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
	src := d.src
	if d.inEvent {
		src = field(src, "delivery")
	}
	return appendExtra(b, unknownFields(src, deliveryKeys))
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
