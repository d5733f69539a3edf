package sendiventtest

import (
	"fmt"
	"strings"
	"time"

	"github.com/sendivent/sendivent-go"
)

// The inbox page's data: a notification as the page shows it (inboxView)
// and, when opened, its timeline, request and webhook deliveries
// (inboxDetailView). Secrets are redacted when written (inbox.go).

// inboxView is one notification for the page.
type inboxView struct {
	ID          string `json:"id"`
	Seq         uint64 `json:"seq"` // its number, in creation order: the page's cursor
	Rev         uint64 `json:"rev"` // the version of its last change
	Event       string `json:"event"`
	Title       string `json:"title,omitempty"` // the event's display name
	Status      string `json:"status"`
	CreatedAt   string `json:"created_at"`
	CompletedAt string `json:"completed_at,omitempty"`
	// Recipient is who it is for, as the fake resolved them.
	Recipient inboxRecipient `json:"recipient"`
	Channel   string         `json:"channel,omitempty"` // forced in the path
	Language  string         `json:"language,omitempty"`
	// Payload is the send's; PayloadBytes its size, and Payload null when
	// it is over maxViewPayload (the detail has it whole).
	Payload      sendivent.Payload    `json:"payload"`
	PayloadBytes int                  `json:"payload_bytes"`
	Overrides    *sendivent.Overrides `json:"overrides,omitempty"`
	// Actions are the controls that apply now: advance, deliver,
	// complete, fail and suppress (the last two on the message in flight).
	Actions  []string       `json:"actions"`
	Messages []inboxMessage `json:"messages"`
	// Pending are the channels of the send steps not started yet.
	Pending []string `json:"pending,omitempty"`
}

// inboxRecipient is the notification's recipient.
type inboxRecipient struct {
	Name       string `json:"name,omitempty"`
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	Slack      string `json:"slack,omitempty"`
	Telegram   string `json:"telegram,omitempty"`
	Discord    string `json:"discord,omitempty"`
	ExternalID string `json:"external_id,omitempty"`
	PushTokens int    `json:"push_tokens,omitempty"`
	ContactID  string `json:"contact_id,omitempty"`
}

// inboxMessage is one message, with what its channel shows: who it is
// from and to, and its rendered parts when the event has templates.
type inboxMessage struct {
	ID          string `json:"id"`
	Channel     string `json:"channel"`
	Status      string `json:"status"`
	Error       string `json:"error,omitempty"`
	Current     bool   `json:"current,omitempty"` // in flight: fail and suppress apply to it
	QueuedAt    string `json:"queued_at"`
	SentAt      string `json:"sent_at,omitempty"`
	DeliveredAt string `json:"delivered_at,omitempty"`
	EndedAt     string `json:"ended_at,omitempty"`
	From        string `json:"from,omitempty"`
	To          string `json:"to,omitempty"`
	// Rendered is false when the event has no template for the channel:
	// the page shows the payload instead.
	Rendered bool     `json:"rendered"`
	Language string   `json:"language,omitempty"`
	Subject  string   `json:"subject,omitempty"`
	Text     string   `json:"text,omitempty"`
	Title    string   `json:"title,omitempty"`
	Body     string   `json:"body,omitempty"`
	HTML     bool     `json:"html,omitempty"` // an HTML body, at /_inbox/notifications/{id}/messages/{message}/html
	Problems []string `json:"problems,omitempty"`
	// Overridden names the parts an override replaced (an email's subject).
	Overridden []string `json:"overridden,omitempty"`
}

// inboxDetailView is a notification opened on the page.
type inboxDetailView struct {
	inboxView
	Timeline []inboxTimeStep `json:"timeline"`
	// Request is the request that created it; null when the fake no
	// longer keeps it.
	Request    *controlRequest   `json:"request"`
	Deliveries []controlDelivery `json:"deliveries"`
}

// inboxTimeStep is a status the notification or a message took.
type inboxTimeStep struct {
	Time      string `json:"time"`
	MessageID string `json:"message_id,omitempty"` // "" for the notification's own status
	Channel   string `json:"channel,omitempty"`
	Status    string `json:"status"`
}

// maxViewPayload is the largest payload a list of notifications carries;
// the page opens a larger one in the notification's detail.
const maxViewPayload = 16 << 10

func (s *Server) viewLocked(n *notification) inboxView {
	v := inboxView{
		ID: n.id, Seq: n.inbox.seq, Rev: n.inbox.rev, Event: n.event, Status: string(n.status),
		CreatedAt: fmtStamp(n.createdAt), Channel: string(n.forced), Language: n.language,
		Payload: n.payload, Overrides: n.overrides, Actions: []string{},
		Messages: make([]inboxMessage, 0, len(n.messages)),
		Recipient: inboxRecipient{
			Name: n.contact.name, Email: n.contact.email, Phone: n.contact.phone, Slack: n.contact.slack,
			Telegram: n.contact.telegram, Discord: n.contact.discord, ExternalID: n.contact.externalID,
			PushTokens: len(n.contact.pushTokens), ContactID: n.contactID,
		},
	}
	if t := s.tpl.title(n.event); t != n.event {
		v.Title = t
	}
	if n.completedAt != nil {
		v.CompletedAt = fmtStamp(*n.completedAt)
	}
	if n.payload != nil {
		v.PayloadBytes = len(mustJSON(n.payload))
		if v.PayloadBytes > maxViewPayload {
			v.Payload = nil
		}
	}
	switch {
	case n.status.Terminal():
	case n.cur != nil:
		v.Actions = []string{"advance", "deliver", "complete", "fail", "suppress"}
	default:
		v.Actions = []string{"advance", "complete"}
	}
	for _, m := range n.messages {
		v.Messages = append(v.Messages, s.messageViewLocked(n, m))
	}
	if !n.status.Terminal() {
		for _, st := range n.plan[min(n.step+1, len(n.plan)):] {
			if st.kind == stepSend {
				v.Pending = append(v.Pending, string(st.channel))
			}
		}
	}
	return v
}

func (s *Server) messageViewLocked(n *notification, m *message) inboxMessage {
	mv := inboxMessage{
		ID: m.id, Channel: string(m.channel), Status: string(m.status), Error: m.err,
		Current: m == n.cur && !n.status.Terminal(), QueuedAt: fmtStamp(m.queuedAt),
	}
	if m.sentAt != nil {
		mv.SentAt = fmtStamp(*m.sentAt)
	}
	if m.deliveredAt != nil {
		mv.DeliveredAt = fmtStamp(*m.deliveredAt)
	}
	if m.endedAt != nil {
		mv.EndedAt = fmtStamp(*m.endedAt)
	}
	mv.From, mv.To = s.partiesLocked(n, m.channel)
	for _, r := range n.rendered {
		if r.MessageID != m.id {
			continue
		}
		mv.Rendered, mv.Language = true, r.Language
		mv.Subject, mv.Text, mv.Title, mv.Body = r.Subject, r.Text, r.Title, r.Body
		mv.HTML = r.HTML != ""
		mv.Problems = r.Problems
	}
	if o := n.overrides; m.channel == sendivent.ChannelEmail && o != nil && o.Email != nil && o.Email.Subject != "" {
		mv.Subject, mv.Overridden = o.Email.Subject, []string{PartSubject}
	}
	return mv
}

// partiesLocked says who a message on channel ch is from and to, as the
// channel shows it: an email's From and To, an SMS's sender and number,
// the account (the app) that speaks in a chat, the devices of a push.
func (s *Server) partiesLocked(n *notification, ch sendivent.Channel) (from, to string) {
	id := n.contact
	app := systemField(s.tpl.system, "app", "name")
	switch ch {
	case sendivent.ChannelEmail:
		to = mailbox(id.name, id.email)
		switch f := n.from.(type) {
		case sendivent.Address:
			from = string(f)
		case sendivent.Contact:
			from = mailbox(f.Name, f.Email)
		default:
			from = mailbox(systemField(s.tpl.system, "sender", "name"), systemField(s.tpl.system, "sender", "email"))
		}
		return from, to
	case sendivent.ChannelSMS:
		from = app
		if o := n.overrides; o != nil && o.SMS != nil && o.SMS.SenderID != "" {
			from = o.SMS.SenderID
		}
		return from, id.phone
	case sendivent.ChannelWhatsApp:
		return app, id.phone
	case sendivent.ChannelSlack:
		return app, id.slack
	case sendivent.ChannelTelegram:
		return app, id.telegram
	case sendivent.ChannelDiscord:
		return app, id.discord
	case sendivent.ChannelPush:
		devices := fmt.Sprintf("%d devices", len(id.pushTokens))
		if len(id.pushTokens) == 1 {
			devices = "1 device"
		}
		return app, devices
	}
	return app, ""
}

// systemField is system[key][field] when it is a string.
func systemField(system map[string]any, key, field string) string {
	m, _ := system[key].(map[string]any)
	v, _ := m[field].(string)
	return v
}

// mailbox is "Name <address>", or either alone.
func mailbox(name, addr string) string {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return addr
	case addr == "":
		return name
	}
	return name + " <" + addr + ">"
}

func (s *Server) detailLocked(n *notification) inboxDetailView {
	d := inboxDetailView{inboxView: s.viewLocked(n), Timeline: make([]inboxTimeStep, 0, len(n.inbox.log)),
		Deliveries: []controlDelivery{}}
	d.Payload = n.payload
	for _, st := range n.inbox.log {
		ts := inboxTimeStep{Time: fmtStamp(time.UnixMilli(st.at)), Status: st.status}
		if st.msg >= 0 {
			if int(st.msg) >= len(n.messages) {
				continue // a message withdrawn by a cancel before it went out
			}
			m := n.messages[st.msg]
			ts.MessageID, ts.Channel = m.id, string(m.channel)
		}
		d.Timeline = append(d.Timeline, ts)
	}
	if n.requestID != "" {
		for i := len(s.requests) - 1; i >= 0; i-- {
			if s.requests[i].RequestID == n.requestID {
				r := toControlRequest(withBody(s.requests[i]))
				d.Request = &r
				break
			}
		}
	}
	for _, dv := range s.hooks.deliveries {
		if dv.NotificationID == n.id {
			d.Deliveries = append(d.Deliveries, toControlDelivery(dv))
		}
	}
	return d
}
