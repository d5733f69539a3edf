package sendivent

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sendivent/sendivent-go/internal/wire"
)

// Payload holds the template variables of a send, available in templates as
// {{key}}. Each value must be encodable as JSON.
type Payload map[string]any

// Overrides change a send's content per channel, and its branding. The
// service documents email, sms and brand; put the overrides of other
// channels (push, slack, telegram, whatsapp, discord) in Extra, as the
// service names them:
//
//	&sendivent.Overrides{Extra: map[string]any{"push": map[string]any{"title": "Hi"}}}
type Overrides struct {
	Email *EmailOverrides `json:"email,omitempty"`
	SMS   *SMSOverrides   `json:"sms,omitempty"`
	Brand *BrandOverrides `json:"brand,omitempty"`
	// Extra holds overrides the SDK does not model, sent as they are. A key
	// that names a field above is a *ValidationError.
	Extra map[string]any `json:"-"`
}

// EmailOverrides change an email's subject and recipients.
type EmailOverrides struct {
	Subject string   `json:"subject,omitempty"`
	ReplyTo []string `json:"reply_to,omitempty"`
	CC      []string `json:"cc,omitempty"`
	BCC     []string `json:"bcc,omitempty"`
	// Extra holds email overrides the SDK does not model, sent as they
	// are. A key that names a field above is a *ValidationError.
	Extra map[string]any `json:"-"`
}

// SMSOverrides change an SMS's sender.
type SMSOverrides struct {
	SenderID string `json:"sender_id,omitempty"` // alphanumeric, up to 11 characters
	// Extra holds SMS overrides the SDK does not model, sent as they are.
	// A key that names a field above is a *ValidationError.
	Extra map[string]any `json:"-"`
}

// BrandOverrides change the branding of a send.
type BrandOverrides struct {
	Logotype string `json:"logotype,omitempty"` // an image URL
	// Extra holds brand overrides the SDK does not model, sent as they
	// are. A key that names a field above is a *ValidationError.
	Extra map[string]any `json:"-"`
}

// SendRequest is everything about one send except the event's name. The
// zero value of each field means "not set".
type SendRequest struct {
	// To is who gets it: one notification per recipient. At least one,
	// unless Broadcast is set.
	To []Recipient
	// Broadcast sends to the listeners configured on the event in the
	// dashboard instead of to recipients: the request has no "to" at all.
	// It and To are exclusive, so a forgotten To is still an error. Only
	// the official SDKs' READMEs document broadcasts; the API reference
	// marks "to" as required.
	Broadcast bool
	// Channel forces a channel; "" lets the service route by the event's
	// channel order and the recipient's identifiers.
	Channel   Channel
	Payload   Payload
	Language  string // template language, such as "sv"
	Overrides *Overrides
	// From is a custom sender; the service requires it to be verified.
	From Recipient
	// IdempotencyKey makes the send safe to repeat: the service answers a
	// repeat with the first answer and sends nothing. One is generated when
	// empty. See IdempotencyKeyFrom. At most 255 bytes, no control characters.
	IdempotencyKey string
	// Extra holds body fields the SDK does not model, sent as they are
	// beside to, payload, language, overrides and from; a key that names
	// one of those is a *ValidationError.
	Extra map[string]any
}

// SendResponse is the service's answer to a send: an accepted one, or,
// beside an error matching ErrRejected, one the service did not accept.
type SendResponse struct {
	ID     string // the first (or only) notification's id; use it with Wait
	Event  string
	Status SendStatus
	// IdempotencyKey is the key the send carried, generated or yours.
	IdempotencyKey string
	// Replayed is the service's X-Idempotent-Replay header: true when the
	// answer came from the service's store of answers for this key, not
	// from handling this request. It is true for a repeat of an earlier
	// send with the same key, which sent nothing new; and also when this
	// call's own first attempt created the notification but its answer was
	// lost, so that a retry got the stored answer. Either way, the key's
	// notifications (one per recipient) exist once.
	Replayed bool
	// Notifications has one entry per recipient, in request order, when the
	// service lists them; for one recipient it holds that one.
	Notifications []SentNotification
	// RequestID is the service's id for the request that created the
	// notifications (the answer's X-Request-Id). Every webhook event about
	// their messages carries it as request_id (webhook.Event.RequestID):
	// keep it with your record of the send to find that record again. On a
	// replay the service's answer is the stored one; the fake answers the
	// first request's id, so that the two agree (the service does not
	// document which it gives). "" when the answer has none.
	RequestID string
	// Raw is the body as received; on a rejection (returned with an
	// error), with any piece of the API key removed, as from the error.
	Raw json.RawMessage
}

// SentNotification is one recipient's notification in a send's answer.
type SentNotification struct {
	ID     string     `json:"id"`
	Event  string     `json:"event"`
	Status SendStatus `json:"status"`
}

// Notification is a notification's state, from GetNotification, Wait or
// Watch.
type Notification struct {
	ID          string              `json:"id"`
	Event       string              `json:"event"`
	Contact     NotificationContact `json:"contact"`
	Status      NotificationStatus  `json:"status"`
	StartedAt   time.Time           `json:"started_at"`
	CompletedAt *time.Time          `json:"completed_at"` // nil until every message is resolved
	Messages    []Message           `json:"messages"`     // one per channel attempt or sequence step
	Raw         json.RawMessage     `json:"-"`            // the body as received
}

// NotificationContact is the summary of whom a notification is for.
type NotificationContact struct {
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	Name  string `json:"name,omitempty"`
}

// Message is one channel attempt of a notification.
type Message struct {
	ID          string        `json:"id"`
	Channel     Channel       `json:"channel"`
	Status      MessageStatus `json:"status"`
	SentAt      *time.Time    `json:"sent_at"`      // when handed to the provider
	DeliveredAt *time.Time    `json:"delivered_at"` // when the provider confirmed it
	Error       string        `json:"error"`        // why it failed; "" when it did not
}

// UnmarshalJSON decodes leniently, as the service's format is young: a
// timestamp that is empty or not RFC 3339 is left zero (nil when it may be
// null) rather than failing the whole notification.
func (n *Notification) UnmarshalJSON(b []byte) error {
	type plain Notification // without this method
	w := struct {
		*plain
		StartedAt   lenientTime `json:"started_at"`
		CompletedAt lenientTime `json:"completed_at"`
	}{plain: (*plain)(n)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	n.StartedAt, n.CompletedAt = w.StartedAt.t, w.CompletedAt.ptr()
	return nil
}

// UnmarshalJSON decodes leniently: a timestamp it cannot read is left nil,
// and an error given as an object ({"code", "message"}) keeps its message.
func (m *Message) UnmarshalJSON(b []byte) error {
	type plain Message
	w := struct {
		*plain
		SentAt      lenientTime     `json:"sent_at"`
		DeliveredAt lenientTime     `json:"delivered_at"`
		Error       json.RawMessage `json:"error"`
	}{plain: (*plain)(m)}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	m.SentAt, m.DeliveredAt = w.SentAt.ptr(), w.DeliveredAt.ptr()
	m.Error = errorText(w.Error)
	return nil
}

// errorText reads a message's error: a string, or an object, as in the
// webhooks' {"code", "message"}; "" for none.
func errorText(raw json.RawMessage) string {
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ""
	case raw[0] == '"':
		return jsonString(raw)
	}
	var e APIError
	e.decodeBody(raw)
	return cmpOr(e.Message, e.Code)
}

// lenientTime reads a timestamp as wire.ParseTime does; anything else is
// unset.
type lenientTime struct{ t time.Time }

func (l *lenientTime) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		l.t = wire.ParseTime(s)
	}
	return nil
}

func (l lenientTime) ptr() *time.Time {
	if l.t.IsZero() {
		return nil
	}
	return &l.t
}

// Terminal reports whether the notification has reached its final status.
func (n *Notification) Terminal() bool { return n.Status.Terminal() }

// Failed reports whether the notification ended in failure; FailedMessage
// says which message and why.
func (n *Notification) Failed() bool { return n.Status == StatusFailed }

// Delivered reports whether any message reached the recipient's provider
// and was confirmed.
func (n *Notification) Delivered() bool {
	for i := range n.Messages {
		if n.Messages[i].Status == MessageDelivered {
			return true
		}
	}
	return false
}

// FailedMessage returns the first failed message, or nil.
func (n *Notification) FailedMessage() *Message {
	for i := range n.Messages {
		if n.Messages[i].Status == MessageFailed {
			return &n.Messages[i]
		}
	}
	return nil
}

// Message returns the last message on channel ch, or nil.
func (n *Notification) Message(ch Channel) *Message {
	for i := len(n.Messages) - 1; i >= 0; i-- {
		if n.Messages[i].Channel == ch {
			return &n.Messages[i]
		}
	}
	return nil
}

// GetNotification returns a notification's status and messages:
// GET /v1/notifications/{id}. An unknown id is an error matching
// ErrNotFound; an answer with no status is one matching ErrMalformed.
func (c *Client) GetNotification(ctx context.Context, id string) (*Notification, error) {
	if err := checkIdentifier("id", id); err != nil {
		return nil, err
	}
	r := request{method: "GET", route: "/v1/notifications/{id}", path: "/v1/notifications/" + pathSegment(id)}
	return do(ctx, c, r, decodeNotification)
}

func decodeNotification(a *answer) (*Notification, error) {
	n := &Notification{}
	if err := json.Unmarshal(a.body, n); err != nil {
		return nil, malformed(err, a.body)
	}
	if n.Status == "" {
		return nil, &malformedError{err: errors.New("the answer has no notification status")}
	}
	n.Raw = json.RawMessage(a.body)
	return n, nil
}
