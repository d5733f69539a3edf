package webhook_test

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

func TestEventDecode(t *testing.T) {
	t.Parallel()
	var ev webhook.Event
	require.NoError(t, json.Unmarshal([]byte(payload), &ev))
	assert.Equal(t, webhook.DeliveryFailed, ev.Type)
	assert.Equal(t, "9b1d2c3e-0000-4000-8000-000000000001", ev.RequestID)
	assert.Equal(t, time.Date(2026, 3, 30, 12, 0, 0, 123e6, time.UTC), ev.Timestamp.UTC())
	assert.Equal(t, payload, string(ev.Raw))
	d := ev.Delivery
	assert.Equal(t, "5f0c6f5e-8a34-4d1e-9d7e-1c2b3a4d5e6f", d.UUID)
	assert.Equal(t, "email", d.Channel)
	assert.Equal(t, "failed", d.Status)
	assert.Equal(t, "welcome", d.EventName)
	assert.Equal(t, "0100018e-ses", d.MessageID)
	assert.Equal(t, time.Date(2026, 3, 30, 11, 59, 58, 0, time.UTC), d.SentAt.UTC())
	assert.True(t, d.DeliveredAt.IsZero())
	assert.Equal(t, &webhook.DeliveryError{Code: "HARD_BOUNCE", Message: "mailbox does not exist"}, d.Error)
}

func TestEventDecodeLenient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want func(t *testing.T, ev *webhook.Event)
	}{
		{"unknown type kept", `{"event":"delivery.opened"}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, webhook.EventType("delivery.opened"), ev.Type)
		}},
		{"type spelled type", `{"type":"delivery.sent"}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, webhook.DeliverySent, ev.Type)
		}},
		{"event wins over type", `{"event":"delivery.sent","type":"other"}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, webhook.DeliverySent, ev.Type)
		}},
		{"delivery id spelled id, event name spelled event", `{"delivery":{"id":"d1","event":"welcome"}}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, "d1", ev.Delivery.UUID)
			assert.Equal(t, "welcome", ev.Delivery.EventName)
		}},
		{"bad timestamps left zero", `{"timestamp":"yesterday","delivery":{"sent_at":12,"delivered_at":""}}`, func(t *testing.T, ev *webhook.Event) {
			assert.True(t, ev.Timestamp.IsZero())
			assert.True(t, ev.Delivery.SentAt.IsZero())
			assert.True(t, ev.Delivery.DeliveredAt.IsZero())
		}},
		{"timestamp with an offset", `{"timestamp":"2026-03-30T14:00:00.5+02:00"}`, func(t *testing.T, ev *webhook.Event) {
			assert.True(t, time.Date(2026, 3, 30, 12, 0, 0, 5e8, time.UTC).Equal(ev.Timestamp))
		}},
		{"numeric ids kept as written", `{"delivery":{"message_id":1234567890123456789,"error":{"code":131047}}}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, "1234567890123456789", ev.Delivery.MessageID)
			assert.Equal(t, &webhook.DeliveryError{Code: "131047"}, ev.Delivery.Error)
		}},
		{"error as a string", `{"delivery":{"error":"rejected"}}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, &webhook.DeliveryError{Message: "rejected"}, ev.Delivery.Error)
		}},
		{"error an empty object", `{"delivery":{"error":{}}}`, func(t *testing.T, ev *webhook.Event) {
			assert.Nil(t, ev.Delivery.Error)
		}},
		{"delivery not an object", `{"event":"delivery.sent","delivery":"d1","request_id":"r1"}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, webhook.DeliverySent, ev.Type)
			assert.Equal(t, "r1", ev.RequestID, "the fields after it are read")
			got, err := json.Marshal(ev.Delivery)
			require.NoError(t, err)
			want, _ := json.Marshal(webhook.Delivery{})
			assert.Equal(t, string(want), string(got))
		}},
		{"delivery an array, error a number", `{"delivery":[1],"timestamp":"2026-03-30T12:00:00Z"}`, func(t *testing.T, ev *webhook.Event) {
			assert.Empty(t, ev.Delivery.UUID)
			assert.False(t, ev.Timestamp.IsZero())
		}},
		{"error a number: its text", `{"delivery":{"uuid":"d1","error":12}}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, "d1", ev.Delivery.UUID)
			assert.Equal(t, &webhook.DeliveryError{Message: "12"}, ev.Delivery.Error)
		}},
		{"error of another type", `{"delivery":{"uuid":"d1","error":[1]},"request_id":"r"}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, "d1", ev.Delivery.UUID)
			assert.Equal(t, "r", ev.RequestID)
			assert.Nil(t, ev.Delivery.Error)
		}},
		{"error a string, with another field of the wrong type before it", `{"delivery":{"uuid":true,"error":"rejected"}}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, &webhook.DeliveryError{Message: "rejected"}, ev.Delivery.Error)
		}},
		{"escapes and non-ASCII in strings", `{"event":"delivery.sent","delivery":{"uuid":"d\u00e9\n1","channel":"émail","message_id":"a\"b"}}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, "d\u00e9\n1", ev.Delivery.UUID)
			assert.Equal(t, "émail", ev.Delivery.Channel)
			assert.Equal(t, `a"b`, ev.Delivery.MessageID)
		}},
		{"invalid UTF-8 replaced, as encoding/json does", "{\"event\":\"a\xffb\"}", func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, webhook.EventType("a\ufffdb"), ev.Type)
		}},
		{"keys match ignoring case, as encoding/json matches them", `{"EVENT":"delivery.sent","Delivery":{"UUID":"d1"}}`, func(t *testing.T, ev *webhook.Event) {
			assert.Equal(t, webhook.DeliverySent, ev.Type)
			assert.Equal(t, "d1", ev.Delivery.UUID)
		}},
		{"null fields", `{"event":null,"delivery":null,"request_id":null,"timestamp":null}`, func(t *testing.T, ev *webhook.Event) {
			assert.Empty(t, ev.Type)
			assert.Empty(t, ev.Delivery.UUID)
		}},
		{"wrong types for strings", `{"event":true,"request_id":{},"delivery":{"uuid":[1]}}`, func(t *testing.T, ev *webhook.Event) {
			assert.Empty(t, ev.Type)
			assert.Empty(t, ev.RequestID)
			assert.Empty(t, ev.Delivery.UUID)
		}},
		{"empty object", `{}`, func(t *testing.T, ev *webhook.Event) {
			assert.Empty(t, ev.Type)
			assert.Equal(t, "body/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", ev.DedupeKey(), "SHA-256 of {}")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var ev webhook.Event
			require.NoError(t, json.Unmarshal([]byte(tt.in), &ev))
			tt.want(t, &ev)
			assert.Equal(t, tt.in, string(ev.Raw))
		})
	}
}

func TestEventDecodeRefusesNonObjects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`[]`, `"delivery.sent"`, `12`, `{"event":`} {
		var ev webhook.Event
		assert.Error(t, json.Unmarshal([]byte(in), &ev), in)
	}
	ev := webhook.Event{Type: webhook.DeliverySent}
	require.NoError(t, json.Unmarshal([]byte(`null`), &ev))
	assert.Equal(t, webhook.DeliverySent, ev.Type, "null leaves the event alone, as encoding/json does")
}

// A built event marshals to exactly the reference's shape.
func TestEventMarshal(t *testing.T) {
	t.Parallel()
	ev := webhook.Event{
		Type: webhook.DeliveryFailed,
		Delivery: webhook.Delivery{
			UUID: "5f0c6f5e-8a34-4d1e-9d7e-1c2b3a4d5e6f", Channel: "email", Status: "failed",
			EventName: "welcome", MessageID: "0100018e-ses",
			SentAt: time.Date(2026, 3, 30, 13, 59, 58, 0, time.FixedZone("CEST", 2*3600)),
			Error:  &webhook.DeliveryError{Code: "HARD_BOUNCE", Message: "mailbox does not exist"},
		},
		RequestID: "9b1d2c3e-0000-4000-8000-000000000001",
		Timestamp: time.Date(2026, 3, 30, 12, 0, 0, 123456789, time.UTC),
		WebhookID: "not in the body",
		Raw:       []byte("not in the body"),
	}
	b, err := json.Marshal(ev)
	require.NoError(t, err)
	assert.Equal(t, payload, string(b))

	b, err = json.Marshal(webhook.Event{})
	require.NoError(t, err)
	assert.Equal(t, `{"event":"","delivery":{"uuid":"","channel":"","status":"","event_name":"","message_id":"","sent_at":null,"delivered_at":null,"error":null},"request_id":"","timestamp":null}`, string(b))
}

// Decoding then encoding keeps every field, known or not.
func TestEventRoundTrip(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		payload,
		`{"event":"delivery.opened","delivery":{"uuid":"d1","channel":"push","status":"sent","event_name":"x","message_id":"m","sent_at":null,"delivered_at":"2026-03-30T12:00:00.000Z","error":null,"attempt":2,"meta":{"a":[1,2]}},"request_id":"r","timestamp":"2026-03-30T12:00:00.000Z","application":"app_1","weird key \"\u00e9\"":null}`,
	} {
		var ev webhook.Event
		require.NoError(t, json.Unmarshal([]byte(in), &ev))
		out, err := json.Marshal(&ev)
		require.NoError(t, err)
		assert.JSONEq(t, in, string(out))
	}
}

func TestDedupeKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ev   webhook.Event
		want string
	}{
		{"delivery and type", webhook.Event{Type: webhook.DeliverySent, Delivery: webhook.Delivery{UUID: "d1"}, WebhookID: "w1"}, "delivery/d1/delivery.sent"},
		{"same delivery, next type", webhook.Event{Type: webhook.DeliveryDelivered, Delivery: webhook.Delivery{UUID: "d1"}}, "delivery/d1/delivery.delivered"},
		{"no delivery: the body's hash", webhook.Event{Type: webhook.DeliverySent, Raw: []byte(`{}`), WebhookID: "w1"}, "body/44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
		{"the webhook id is not signed: never used", webhook.Event{Type: webhook.DeliverySent, WebhookID: "w1"}, ""},
		{"neither", webhook.Event{Type: webhook.DeliverySent}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, tt.ev.DedupeKey())
		})
	}
}

// A Delivery decodes on its own as it does inside an Event, and keeps its
// unknown fields.
func TestDeliveryDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want webhook.Delivery
		err  bool
	}{
		{in: `{"id":7,"channel":"sms","error":"rejected","attempt":2}`, want: webhook.Delivery{UUID: "7", Channel: "sms", Error: &webhook.DeliveryError{Message: "rejected"}}},
		{in: `{"uuid":"d1","error":{"code":131047,"message":"x"}}`, want: webhook.Delivery{UUID: "d1", Error: &webhook.DeliveryError{Code: "131047", Message: "x"}}},
		{in: `{"uuid":"d1","sent_at":"2026-03-30T12:00:00.000Z"}`, want: webhook.Delivery{UUID: "d1", SentAt: time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)}},
		{in: `"d1"`, err: true},
		{in: `[1]`, err: true},
		{in: `{"uuid":`, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			var d webhook.Delivery
			err := json.Unmarshal([]byte(tt.in), &d)
			if tt.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want.UUID, d.UUID)
			assert.Equal(t, tt.want.Channel, d.Channel)
			assert.Equal(t, tt.want.Error, d.Error)
			assert.True(t, tt.want.SentAt.Equal(d.SentAt))
			out, err := json.Marshal(d)
			require.NoError(t, err)
			var back map[string]any
			require.NoError(t, json.Unmarshal(out, &back))
			var in map[string]any
			require.NoError(t, json.Unmarshal([]byte(tt.in), &in))
			for k := range in {
				if k != "id" { // read as uuid, written as uuid
					assert.Contains(t, back, k, "field %q lost", k)
				}
			}
		})
	}
}

// FuzzEventDecode checks that any JSON object decodes (the reading is
// lenient), that the event marshals to valid JSON, and that decoding that
// again gives the same known fields (times to the millisecond, the
// service's precision, which MarshalJSON writes).
func FuzzEventDecode(f *testing.F) {
	for _, s := range []string{payload, `{}`, `{"timestamp":"2026-03-30T12:00:00.123456Z"}`, `{"event":1,"delivery":"x"}`, `{"delivery":{"error":"e","ID":2}}`, `{"EVENT":"a","event":"b"}`, `[1]`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var ev webhook.Event
		err := json.Unmarshal(b, &ev)
		var probe map[string]json.RawMessage
		isObject := json.Unmarshal(b, &probe) == nil && probe != nil
		if isObject != (err == nil) && string(bytes.TrimSpace(b)) != "null" {
			t.Fatalf("Unmarshal(%q) = %v; an object: %v", b, err, isObject)
		}
		if err != nil {
			return
		}
		out, err := json.Marshal(&ev)
		if err != nil || !json.Valid(out) {
			t.Fatalf("Marshal of %q = %q, %v", b, out, err)
		}
		var again webhook.Event
		if err := json.Unmarshal(out, &again); err != nil {
			t.Fatalf("decoding %q again: %v", out, err)
		}
		if again.Type != ev.Type || again.RequestID != ev.RequestID || again.Delivery.UUID != ev.Delivery.UUID ||
			!reflect.DeepEqual(again.Delivery.Error, ev.Delivery.Error) || !again.Timestamp.Equal(ev.Timestamp.Truncate(time.Millisecond)) {
			t.Fatalf("%q decoded, marshalled to %q and decoded again differs", b, out)
		}
	})
}
