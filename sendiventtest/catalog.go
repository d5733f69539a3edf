package sendiventtest

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/sendivent/sendivent-go"
)

// EndpointEvents is GET /v1/events and GET /v1/events/{identifier}.
const EndpointEvents Endpoint = "events"

func init() {
	addAPIRoute(http.MethodGet, "/v1/events", apiRoute{endpoint: EndpointEvents, serve: (*Server).listEventsLocked})
	addAPIRoute(http.MethodGet, "/v1/events/{event}", apiRoute{endpoint: EndpointEvents, serve: (*Server).getEventLocked})
}

// wireEvent is an event of the catalogue.
type wireEvent struct {
	Identifier string              `json:"identifier"`
	Name       string              `json:"name"`
	Channels   []sendivent.Channel `json:"channels"`
	Templates  []map[string]string `json:"templates,omitempty"`
}

// sendChannels are the distinct channels of steps' Send steps, in order.
func sendChannels(steps []Step) []sendivent.Channel {
	var out []sendivent.Channel
	for _, st := range steps {
		if st.kind == stepSend && !slices.Contains(out, st.channel) {
			out = append(out, st.channel)
		}
	}
	return out
}

// listEventsLocked is the catalogue of the declared events, by name. With
// none declared it is empty, though sends then take any name.
func (s *Server) listEventsLocked(*exchange) reply {
	names := make([]string, 0, len(s.events))
	for name := range s.events {
		names = append(names, name)
	}
	slices.Sort(names)
	events := make([]wireEvent, 0, len(names))
	for _, name := range names {
		events = append(events, wireEvent{Identifier: name, Name: s.tpl.title(name), Channels: sendChannels(s.events[name])})
	}
	return dataReply(map[string]any{"events": events})
}

// getEventLocked is one event with its templates: a declared one or, with
// none declared, any name, as sends take it.
func (s *Server) getEventLocked(x *exchange) reply {
	name := x.p["event"]
	steps, ok := s.eventSteps(name)
	if !ok {
		return errReply(http.StatusNotFound, fmt.Sprintf("Event '%s' not found", name), "EVENT_NOT_FOUND")
	}
	e := wireEvent{Identifier: name, Name: s.tpl.title(name), Channels: sendChannels(steps)}
	if ts := s.tpl.templates[name]; len(ts) > 0 {
		e.Templates = wireTemplates(ts) // catalogfile.go
		return dataReply(map[string]any{"event": e})
	}
	// Without templates of its own, an event shows one English template
	// per channel, without content.
	for _, ch := range e.Channels {
		e.Templates = append(e.Templates, map[string]string{"channel": string(ch), "language": "en"})
	}
	return dataReply(map[string]any{"event": e})
}
