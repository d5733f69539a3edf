package sendivent

import (
	"context"
	"encoding/json"
)

// EventsService reads the events configured in the dashboard:
// client.Events. Events cannot be created through the API.
//
// Only one source documents these read-only "developer" endpoints (an
// agent skill by the official SDKs' author); the API reference does not
// list them, and their format may change. Answers are read leniently and
// kept whole in Raw.
type EventsService service

func (s *EventsService) client() *Client { return (*service)(s).client() }

// EventInfo is an event as configured in the dashboard.
type EventInfo struct {
	// Identifier is the name sends use, such as "user.welcome".
	Identifier string
	// Name is the event's display name.
	Name string
	// Channels are the channels the event is set up for, in its order.
	Channels []Channel
	// Templates are the event's templates as the service gives them (Get
	// only; their format is not documented).
	Templates json.RawMessage
	// Raw is the event's JSON object as received.
	Raw json.RawMessage
}

// UnmarshalJSON decodes an event leniently: a channel may be a name or an
// object with a "channel" (or "name", "type") field.
func (e *EventInfo) UnmarshalJSON(b []byte) error {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*e = EventInfo{
		Identifier: lenientString(f["identifier"]),
		Name:       jsonString(f["name"]),
		Channels:   channelList(f["channels"]),
		Raw:        append(json.RawMessage(nil), b...),
	}
	if t := f["templates"]; len(t) > 0 && string(t) != "null" {
		e.Templates = t
	}
	return nil
}

// channelList reads a list of channels, each a name or an object naming one.
func channelList(raw json.RawMessage) []Channel {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	out := make([]Channel, 0, len(items))
	for _, it := range items {
		name := jsonString(it)
		if name == "" {
			var f map[string]json.RawMessage
			if json.Unmarshal(it, &f) == nil {
				name = cmpOr(jsonString(f["channel"]), cmpOr(jsonString(f["name"]), jsonString(f["type"])))
			}
		}
		if name != "" {
			out = append(out, Channel(name))
		}
	}
	return out
}

// List returns every event of the environment (the key's): GET /v1/events.
// An application can check at start-up that each event name it sends
// exists, so that a misspelt name fails the deploy rather than every send
// (see the example).
func (s *EventsService) List(ctx context.Context) ([]EventInfo, error) {
	r := request{method: "GET", route: "/v1/events", path: "/v1/events"}
	return do(ctx, s.client(), r, decodeList[EventInfo]("events"))
}

// Get returns one event with its channels and templates:
// GET /v1/events/{identifier}. An unknown event is an error matching
// ErrNotFound.
func (s *EventsService) Get(ctx context.Context, name string) (*EventInfo, error) {
	if err := checkEvent(name); err != nil {
		return nil, err
	}
	r := request{method: "GET", route: "/v1/events/{identifier}", path: "/v1/events/" + pathSegment(name)}
	return do(ctx, s.client(), r, decodeObject[EventInfo]("event", "identifier"))
}
