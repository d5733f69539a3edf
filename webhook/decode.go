package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/sendivent/sendivent-go/internal/wire"
)

// The body is decoded once, by encoding/json into the wire types below.
// Leniency comes from encoding/json itself, which skips a value of the
// wrong type for its field and goes on with the others (see unmarshal), and
// from text, which reads a string or a number and leaves anything else
// empty. Only a body where a value had the wrong type is read again, for a
// delivery error given as a bare string (see bareError). Unknown fields are
// not collected on the way: MarshalJSON reads them from the bytes it kept
// when it needs them (see unknownFields).

// wireEvent is an event's body.
type wireEvent struct {
	Event     text         `json:"event"`
	Type      text         `json:"type"`
	Delivery  wireDelivery `json:"delivery"`
	RequestID text         `json:"request_id"`
	Timestamp text         `json:"timestamp"`
}

// eventKeys are the keys wireEvent reads; the others are unknown.
var eventKeys = []string{"event", "type", "delivery", "request_id", "timestamp"}

// wireDelivery is an event's "delivery" object.
type wireDelivery struct {
	UUID        text       `json:"uuid"`
	ID          text       `json:"id"`
	Channel     text       `json:"channel"`
	Status      text       `json:"status"`
	EventName   text       `json:"event_name"`
	Event       text       `json:"event"`
	MessageID   text       `json:"message_id"`
	SentAt      text       `json:"sent_at"`
	DeliveredAt text       `json:"delivered_at"`
	Error       *wireError `json:"error"`
}

var deliveryKeys = []string{"uuid", "id", "channel", "status", "event_name", "event", "message_id", "sent_at", "delivered_at", "error"}

// decode fills e's body fields from b, leaving Raw and WebhookID alone,
// and keeps b for MarshalJSON.
func (e *Event) decode(b []byte) error {
	if !isObject(b) {
		return errNotObject
	}
	var w wireEvent
	typeErr, err := unmarshal(b, &w)
	if err != nil {
		return err
	}
	if typeErr && w.Delivery.Error.deliveryError() == nil {
		w.Delivery.Error = bareError(b, true)
	}
	e.Type = EventType(or(w.Event, w.Type))
	e.Delivery = w.Delivery.delivery()
	e.Delivery.src, e.Delivery.inEvent = b, true
	e.RequestID = string(w.RequestID)
	e.Timestamp = wire.ParseTime(string(w.Timestamp))
	e.src = b
	return nil
}

func (w *wireDelivery) delivery() Delivery {
	return Delivery{
		UUID:        or(w.UUID, w.ID),
		Channel:     string(w.Channel),
		Status:      string(w.Status),
		EventName:   or(w.EventName, w.Event),
		MessageID:   string(w.MessageID),
		SentAt:      wire.ParseTime(string(w.SentAt)),
		DeliveredAt: wire.ParseTime(string(w.DeliveredAt)),
		Error:       w.Error.deliveryError(),
	}
}

func or(a, b text) string {
	if a != "" {
		return string(a)
	}
	return string(b)
}

var errNotObject = errors.New("not a JSON object")

// isObject reports whether b's first token opens an object; encoding/json
// checks the rest.
func isObject(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c == '{'
	}
	return false
}

// unmarshal is json.Unmarshal with its leniency kept: a value of the wrong
// type for its field is skipped, the others decoded, and the error that
// reports it (a *json.UnmarshalTypeError, as returned) dropped; typeErr
// says there was one.
func unmarshal(b []byte, v any) (typeErr bool, err error) {
	err = json.Unmarshal(b, v)
	if _, ok := err.(*json.UnmarshalTypeError); ok {
		return true, nil
	}
	return false, err
}

// text reads a JSON string, or a number as written (ids may be numeric);
// anything else leaves it "".
type text string

func (t *text) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
	case b[0] == '"':
		*t = text(jsonString(b))
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		*t = text(b)
	}
	return nil
}

// jsonString decodes the JSON string literal b, which encoding/json has
// checked. One without escapes that is valid UTF-8 is its own contents,
// as encoding/json reads it too; any other goes through encoding/json.
func jsonString(b []byte) string {
	inner := b[1 : len(b)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner)
	}
	var s string
	_ = json.Unmarshal(b, &s)
	return s
}

// wireError is a delivery's error, {"code", "message"}; a bare string is
// read as the message (see decode).
type wireError struct {
	Code    text `json:"code"`
	Message text `json:"message"`
}

// bareError reads a delivery's "error" that is a string or a number, which
// wireError's struct skips with a type error; b is the whole event when
// inEvent, else the delivery. It is nil when there is none.
func bareError(b []byte, inEvent bool) *wireError {
	type errorOnly struct {
		Error text `json:"error"`
	}
	var d errorOnly
	if inEvent {
		var e struct {
			Delivery errorOnly `json:"delivery"`
		}
		_, _ = unmarshal(b, &e)
		d = e.Delivery
	} else {
		_, _ = unmarshal(b, &d)
	}
	if d.Error == "" {
		return nil
	}
	return &wireError{Message: d.Error}
}

// deliveryError is nil when there is no error or it says nothing.
func (w *wireError) deliveryError() *DeliveryError {
	if w == nil || w.Code == "" && w.Message == "" {
		return nil
	}
	return &DeliveryError{Code: string(w.Code), Message: string(w.Message)}
}

// unknownFields returns the fields of the JSON object b whose keys are not
// in known, ignoring case as encoding/json's matching does; nil when there
// are none or b is not an object.
func unknownFields(b []byte, known []string) map[string]json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	for k := range m {
		for _, name := range known {
			if strings.EqualFold(k, name) {
				delete(m, k)
				break
			}
		}
	}
	return m
}

// field returns the value of key in the JSON object b: the field named key
// exactly, or else the first, in byte order, that matches it ignoring case.
func field(b []byte, key string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	if v, ok := m[key]; ok {
		return v
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.EqualFold(k, key) {
			return m[k]
		}
	}
	return nil
}
