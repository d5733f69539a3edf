package sendiventtest

import (
	"net/http"
	"slices"
	"time"

	"github.com/sendivent/sendivent-go"
)

// Notification is a snapshot of one notification the server created: the
// sendivent.Notification that GET /v1/notifications/{id} answers at this
// moment (Raw holds that body, so it equals what a client decodes), and
// what the fake knows besides. Its maps and slices are shared with the
// server's records: do not modify them.
type Notification struct {
	sendivent.Notification
	// Recipient is the notification's `to` entry as the request named it: a
	// contact object's fields (those the SDK does not model in Extra), or a
	// string's (an address, a phone number, a Slack id, or else an external
	// id or contact uuid, in ID). For a broadcast it is the event's
	// listener.
	Recipient sendivent.Contact
	// ContactID is the uuid of the fake's contact the recipient resolved to.
	ContactID string
	// Channel is the channel forced in the path, "" when auto-routed.
	Channel sendivent.Channel
	// Channels lists the channels of the notification's send steps after
	// routing, in order (one entry for an auto-routed event).
	Channels  []sendivent.Channel
	Payload   sendivent.Payload
	Language  string
	Overrides *sendivent.Overrides
	// From is the custom sender: a sendivent.Address or a sendivent.Contact;
	// nil when the send had none.
	From           sendivent.Recipient
	IdempotencyKey string
	// RequestID is the X-Request-Id of the request that created it; find
	// that request in Server.Requests.
	RequestID string
	// Rendered are its messages as the person reads them, in the order of
	// Messages, when the event has templates (see WithTemplateEngine).
	Rendered []RenderedMessage
}

// Notifications returns snapshots of every notification, in creation order.
func (s *Server) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Notification, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, n.snapshot())
	}
	return out
}

// Notification returns a snapshot of notification id.
func (s *Server) Notification(id string) (Notification, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notifs[id]
	if !ok {
		return Notification{}, false
	}
	return n.snapshot(), true
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func (n *notification) snapshot() Notification {
	out := Notification{
		Notification: sendivent.Notification{
			ID: n.id, Event: n.event, Status: n.status,
			Contact: sendivent.NotificationContact{
				Email: n.contact.email, Phone: n.contact.phone, Name: n.contact.name,
			},
			StartedAt: n.createdAt, CompletedAt: copyTime(n.completedAt),
			Messages: make([]sendivent.Message, 0, len(n.messages)),
			Raw:      mustJSON(n.wire()),
		},
		Recipient: n.recipient, ContactID: n.contactID, Channel: n.forced,
		Payload: n.payload, Language: n.language, Overrides: n.overrides, From: n.from,
		IdempotencyKey: n.idemKey, RequestID: n.requestID,
		Rendered: slices.Clone(n.rendered),
	}
	for _, st := range n.plan {
		if st.kind == stepSend {
			out.Channels = append(out.Channels, st.channel)
		}
	}
	for _, m := range n.messages {
		out.Messages = append(out.Messages, sendivent.Message{
			ID: m.id, Channel: m.channel, Status: m.status, Error: m.err,
			SentAt: copyTime(m.sentAt), DeliveredAt: copyTime(m.deliveredAt),
		})
	}
	return out
}

// timeFormat is the service's timestamp format (UTC, milliseconds).
const timeFormat = "2006-01-02T15:04:05.000Z"

type wireContact struct {
	Email *string `json:"email"`
	Name  *string `json:"name"`
	Phone string  `json:"phone,omitempty"`
}

type wireMessage struct {
	ID          string  `json:"id"`
	Channel     string  `json:"channel"`
	Status      string  `json:"status"`
	SentAt      *string `json:"sent_at"`
	DeliveredAt *string `json:"delivered_at"`
	Error       *string `json:"error"`
}

type wireNotification struct {
	ID          string        `json:"id"`
	Event       string        `json:"event"`
	Contact     wireContact   `json:"contact"`
	Status      string        `json:"status"`
	StartedAt   string        `json:"started_at"`
	CompletedAt *string       `json:"completed_at"`
	Messages    []wireMessage `json:"messages"`
}

func fmtTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(timeFormat)
	return &s
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// wire renders n as GET /v1/notifications/{id} answers it.
func (n *notification) wire() wireNotification {
	w := wireNotification{
		ID: n.id, Event: n.event, Status: string(n.status),
		Contact: wireContact{
			Email: strOrNil(n.contact.email), Name: strOrNil(n.contact.name), Phone: n.contact.phone,
		},
		StartedAt:   n.createdAt.UTC().Format(timeFormat),
		CompletedAt: fmtTime(n.completedAt),
		Messages:    make([]wireMessage, 0, len(n.messages)),
	}
	for _, m := range n.messages {
		w.Messages = append(w.Messages, wireMessage{
			ID: m.id, Channel: string(m.channel), Status: string(m.status),
			SentAt: fmtTime(m.sentAt), DeliveredAt: fmtTime(m.deliveredAt), Error: strOrNil(m.err),
		})
	}
	return w
}

func init() {
	addAPIRoute(http.MethodGet, "/v1/notifications/{notification}", apiRoute{
		endpoint: EndpointNotification,
		serve: func(s *Server, x *exchange) reply {
			n, ok := s.notifs[x.p["notification"]]
			if !ok {
				return s.unknownNotification()
			}
			return reply{status: http.StatusOK, body: mustJSON(n.wire())}
		},
	})
}
