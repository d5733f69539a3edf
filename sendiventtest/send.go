package sendiventtest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/sendivent/sendivent-go"
)

func init() {
	addAPIRoute(http.MethodPost, "/v1/send/{event}", apiRoute{endpoint: EndpointSend, idempotent: true, serve: (*Server).sendLocked})
	addAPIRoute(http.MethodPost, "/v1/send/{event}/{channel}", apiRoute{endpoint: EndpointSend, idempotent: true, serve: (*Server).sendLocked})
	addAPIRoute(http.MethodPost, "/v1/cancel/{event}", apiRoute{endpoint: EndpointCancel, idempotent: true, serve: (*Server).cancelLocked})
}

// sendAnswer is the service's answer to an accepted send.
type sendAnswer struct {
	ID     string `json:"id"`
	Event  string `json:"event"`
	Status string `json:"status"`
}

// eventNotFound answers a request naming an undeclared event, and notes it
// for New's report.
func (s *Server) eventNotFound(x *exchange, event string) reply {
	s.noteUndeclaredLocked(x.rec.Method + " " + x.rec.Path)
	return errReply(http.StatusNotFound, fmt.Sprintf("Event '%s' not found", event), "EVENT_NOT_FOUND")
}

// sendBody is a decoded and validated send or cancel body.
type sendBody struct {
	rcpts     []recipient
	array     bool
	broadcast bool // a send without "to": to the event's listeners
	payload   sendivent.Payload
	language  string
	over      *sendivent.Overrides
	from      sendivent.Recipient
}

// parseBody validates the JSON body of a send (allowArray) or a cancel.
func parseBody(raw []byte, plain map[string]any, allowArray bool) (sendBody, *apiError) {
	var b sendBody
	m, ok := decodeJSON(raw, true).(map[string]any)
	if !ok {
		return b, &apiError{status: 400, Error: "Invalid JSON body"}
	}
	to, ok := m["to"]
	var err *apiError
	switch {
	case !ok && allowArray:
		b.broadcast, b.array = true, true // sendLocked finds the listeners
	case !ok || to == nil:
		return b, errMissingTo("")
	default:
		if b.rcpts, b.array, err = parseTo(to, plain["to"], allowArray); err != nil {
			return b, err
		}
	}
	if !allowArray {
		return b, nil
	}
	bad := func(field, msg string) (sendBody, *apiError) {
		return b, &apiError{status: 400, Error: msg, Field: field}
	}
	if v, ok := plain["payload"]; ok && v != nil {
		if b.payload, ok = v.(map[string]any); !ok {
			return bad("payload", "payload must be an object")
		}
	}
	if v, ok := plain["language"]; ok && v != nil {
		if b.language, ok = v.(string); !ok {
			return bad("language", "language must be a string")
		}
	}
	if v, ok := plain["overrides"]; ok && v != nil {
		if _, ok := v.(map[string]any); !ok {
			return bad("overrides", "overrides must be an object")
		}
		b.over = new(sendivent.Overrides)
		if err := json.Unmarshal(mustJSON(v), b.over); err != nil {
			field := "overrides"
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				field += "." + te.Field
			}
			return bad("overrides", "Invalid value for "+field)
		}
	}
	if v, ok := plain["from"]; ok && v != nil {
		switch f := v.(type) {
		case string:
			b.from = sendivent.Address(f)
		case map[string]any:
			nm, _ := m["from"].(map[string]any)
			b.from = contactOf(nm, f)
		default:
			return bad("from", "from must be a string or an object")
		}
	}
	return b, nil
}

// errMissingTo answers a send or cancel without "to"; for a broadcast, one
// of an event without listeners.
func errMissingTo(event string) *apiError {
	msg := "Missing required field: to"
	if event != "" {
		msg += fmt.Sprintf(" (event '%s' has no listeners to broadcast to)", event)
	}
	return &apiError{status: 400, Error: msg, Field: "to"}
}

// planFor routes one recipient: the steps its notification will run.
func planFor(event string, steps []Step, forced sendivent.Channel, id identity, field string) ([]Step, *apiError) {
	if forced != "" {
		found := false
		for _, st := range steps {
			found = found || (st.kind == stepSend && st.channel == forced)
		}
		if !found {
			return nil, &apiError{status: 400, Field: "channel", Channel: string(forced),
				Code:  "TEMPLATE_MISSING",
				Error: fmt.Sprintf("Event '%s' has no template for channel %s", event, forced)}
		}
		if !id.has(forced) {
			return nil, &apiError{status: 400, Field: field, Channel: string(forced),
				Error: "Contact has no identifier for channel " + string(forced)}
		}
		return []Step{Send(forced)}, nil
	}
	sequence := false
	for _, st := range steps {
		sequence = sequence || st.kind == stepWait
	}
	var plan []Step
	sends := 0
	for _, st := range steps {
		switch {
		case st.kind == stepWait:
			plan = append(plan, st)
		case id.has(st.channel) && !sequence:
			return []Step{st}, nil
		case id.has(st.channel):
			plan = append(plan, st)
			sends++
		}
	}
	if sends == 0 {
		return nil, &apiError{status: 400, Error: "No channel available for recipient", Field: field}
	}
	return plan, nil
}

// sendLocked validates a send, creates one notification per recipient and
// builds the answer.
func (s *Server) sendLocked(x *exchange) reply {
	event, channel := x.p["event"], x.p["channel"]
	b, err := parseBody(x.raw, x.rec.Body, true)
	if err != nil {
		return err.reply()
	}
	forced := sendivent.Channel(channel)
	if forced != "" && !knownChannels[forced] {
		return (&apiError{status: 400, Field: "channel",
			Error: fmt.Sprintf("Invalid channel '%s'", channel)}).reply()
	}
	steps, ok := s.eventSteps(event)
	if !ok {
		return s.eventNotFound(x, event)
	}
	if b.broadcast {
		if b.rcpts = s.listeners[event]; len(b.rcpts) == 0 {
			return errMissingTo(event).reply()
		}
	}
	plans := make([][]Step, len(b.rcpts))
	for i, rc := range b.rcpts {
		if plans[i], err = planFor(event, steps, forced, s.contacts.resolve(rc), rc.field); err != nil {
			return err.reply()
		}
	}
	if err := s.checkTemplatesLocked(event, b.language, b.payload, b.rcpts, plans); err != nil {
		return err.reply()
	}
	created := stamp()
	answers := make([]sendAnswer, 0, len(b.rcpts))
	for i, rc := range b.rcpts {
		// A Slack channel is a destination, not a person: the service
		// creates no contact for it.
		contactID, ids := "", s.contacts.resolve(rc)
		if !rc.isChannel() {
			c := s.contacts.upsert(rc)
			contactID, ids = c.uuid, c.ids
		}
		n := &notification{
			id: newUUID(), event: event, forced: forced, plan: plans[i],
			contactID: contactID, contact: ids, recipient: rc.contact(),
			payload: b.payload, language: b.language, overrides: b.over, from: b.from,
			idemKey: x.rec.IdempotencyKey, requestID: x.rec.RequestID, createdAt: created,
		}
		s.keepNotificationLocked(n, x.raw, len(b.rcpts))
		s.startLocked(n)
		x.rec.Created = append(x.rec.Created, n.id)
		answers = append(answers, sendAnswer{ID: n.id, Event: event, Status: string(sendivent.SendAccepted)})
	}
	// An array send is answered with one object per recipient, in request
	// order; the service does not document this answer.
	var body any = answers[0]
	if b.array {
		body = answers
	}
	return reply{status: http.StatusOK, body: mustJSON(body)}
}

// cancelLocked stops the event's unfinished notifications for one recipient.
func (s *Server) cancelLocked(x *exchange) reply {
	event := x.p["event"]
	b, err := parseBody(x.raw, nil, false)
	if err != nil {
		return err.reply()
	}
	if _, ok := s.eventSteps(event); !ok {
		return s.eventNotFound(x, event)
	}
	cancelled := 0
	if c := s.contacts.find(b.rcpts[0]); c != nil && !b.rcpts[0].isChannel() {
		for _, n := range s.order {
			if n.event == event && n.contactID == c.uuid && !n.status.Terminal() {
				s.stopLocked(n)
				cancelled++
			}
		}
	}
	return reply{status: http.StatusOK, body: mustJSON(struct {
		Success   bool `json:"success"`
		Cancelled int  `json:"cancelled"`
	}{true, cancelled})}
}
