package sendivent

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strconv"
	"time"

	"github.com/sendivent/sendivent-go/internal/idem"
	"github.com/sendivent/sendivent-go/internal/wire"
)

// Payload holds the template variables of a send, available in templates as
// {{key}}. Each value must be encodable as JSON.
type Payload map[string]any

// Overrides change a send's content per channel, and its branding.
type Overrides struct {
	Email *EmailOverrides `json:"email,omitempty"`
	SMS   *SMSOverrides   `json:"sms,omitempty"`
	Brand *BrandOverrides `json:"brand,omitempty"`
}

// EmailOverrides change an email's subject and recipients.
type EmailOverrides struct {
	Subject string   `json:"subject,omitempty"`
	ReplyTo []string `json:"reply_to,omitempty"`
	CC      []string `json:"cc,omitempty"`
	BCC     []string `json:"bcc,omitempty"`
}

// SMSOverrides change an SMS's sender.
type SMSOverrides struct {
	SenderID string `json:"sender_id,omitempty"` // alphanumeric, up to 11 characters
}

// BrandOverrides change the branding of a send.
type BrandOverrides struct {
	Logotype string `json:"logotype,omitempty"` // an image URL
}

// SendRequest is everything about one send except the event's name. The
// zero value of each field means "not set".
type SendRequest struct {
	// To is who gets it: one notification per recipient. At least one.
	To []Recipient
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
}

// SendResponse is the service's answer to an accepted send.
type SendResponse struct {
	ID     string // the first (or only) notification's id; use it with Wait
	Event  string
	Status SendStatus
	// IdempotencyKey is the key the send carried, generated or yours.
	IdempotencyKey string
	// Replayed is true when the service answered from an earlier send with
	// the same key, so nothing new was sent.
	Replayed bool
	// Notifications has one entry per recipient, in request order, when the
	// service lists them; for one recipient it holds that one.
	Notifications []SentNotification
	Raw           json.RawMessage // the body as received
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

// EventBuilder builds one send. Client.Event returns a new one each time, so
// nothing set for one send leaks into the next. A builder is not for
// concurrent use.
type EventBuilder struct {
	c     *Client
	event string
	req   SendRequest
}

// Event starts a send of the named event.
func (c *Client) Event(name string) *EventBuilder { return &EventBuilder{c: c, event: name} }

// To adds recipients.
func (b *EventBuilder) To(r ...Recipient) *EventBuilder {
	b.req.To = append(b.req.To, r...)
	return b
}

// Payload sets the template variables.
func (b *EventBuilder) Payload(p Payload) *EventBuilder { b.req.Payload = p; return b }

// Language sets the template language.
func (b *EventBuilder) Language(lang string) *EventBuilder { b.req.Language = lang; return b }

// Channel forces a channel.
func (b *EventBuilder) Channel(ch Channel) *EventBuilder { b.req.Channel = ch; return b }

// Overrides sets per-channel and brand overrides.
func (b *EventBuilder) Overrides(o *Overrides) *EventBuilder { b.req.Overrides = o; return b }

// From sets a custom, verified sender.
func (b *EventBuilder) From(r Recipient) *EventBuilder { b.req.From = r; return b }

// IdempotencyKey sets the send's idempotency key.
func (b *EventBuilder) IdempotencyKey(k string) *EventBuilder { b.req.IdempotencyKey = k; return b }

// Request returns the request built so far.
func (b *EventBuilder) Request() SendRequest { return b.req }

// Send sends it: the same as Client.Send with Request().
func (b *EventBuilder) Send(ctx context.Context) (*SendResponse, error) {
	return b.c.Send(ctx, b.event, b.req)
}

var emptyPayload = Payload{}

type sendBody struct {
	To        any        `json:"to"`
	Payload   Payload    `json:"payload"`
	Language  string     `json:"language,omitempty"`
	Overrides *Overrides `json:"overrides,omitempty"`
	From      Recipient  `json:"from,omitempty"`
}

// Send sends event to req.To: POST /v1/send/{event}, or
// /v1/send/{event}/{channel} when req.Channel is set. Bad input returns a
// *ValidationError before anything is sent. A 2xx answer that rejects the
// send returns the response and an *APIError matching ErrRejected.
func (c *Client) Send(ctx context.Context, event string, req SendRequest) (*SendResponse, error) {
	if event == "" {
		return nil, invalid("event", "empty event name")
	}
	path, route := "/v1/send/"+url.PathEscape(event), "/v1/send/{event}"
	if req.Channel != "" {
		if !req.Channel.Valid() {
			return nil, invalid("channel", "unknown channel "+strconv.Quote(string(req.Channel)))
		}
		path, route = path+"/"+string(req.Channel), "/v1/send/{event}/{channel}"
	}
	body := sendBody{Payload: req.Payload, Language: req.Language, Overrides: req.Overrides, From: req.From}
	switch len(req.To) {
	case 0:
		return nil, invalid("to", "at least one recipient is required")
	case 1:
		if err := checkRecipient(req.To[0], "to"); err != nil {
			return nil, err
		}
		body.To = req.To[0]
	default:
		for i, r := range req.To {
			if err := checkRecipient(r, "to["+strconv.Itoa(i)+"]"); err != nil {
				return nil, err
			}
		}
		body.To = req.To
	}
	if req.From != nil {
		if err := checkRecipient(req.From, "from"); err != nil {
			return nil, err
		}
	}
	if body.Payload == nil {
		body.Payload = emptyPayload
	}
	key := req.IdempotencyKey
	if key == "" {
		key = idem.New()
	} else if err := idem.Check(key); err != nil {
		return nil, invalid("idempotency_key", err.Error())
	}

	buf := wire.Buffer()
	defer wire.Release(buf)
	if err := json.NewEncoder(buf).Encode(&body); err != nil {
		return nil, encodeError(body, err)
	}
	if c.log != nil && c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.LogAttrs(ctx, slog.LevelDebug, "sendivent send",
			slog.String("event", event), slog.Any("to", recipientsLog(req.To)),
			slog.String("channel", string(req.Channel)), slog.String("idempotency_key", key))
	}

	// The body is a copy: the transport may still be reading it after the
	// call returns (a cancelled request), when buf is back in the pool.
	cl := &call{method: "POST", path: path, route: route, body: bytes.Clone(buf.Bytes()), key: key}
	err := c.do(ctx, cl)
	defer wire.Release(cl.resp)
	if err != nil {
		return nil, err
	}
	return c.decodeSend(cl)
}

func (c *Client) decodeSend(cl *call) (*SendResponse, error) {
	raw := bytes.Clone(cl.resp.Bytes())
	res := &SendResponse{
		IdempotencyKey: cl.key,
		Replayed:       cl.header.Get("X-Idempotent-Replay") == "true",
		Raw:            raw,
	}
	var one struct {
		SentNotification
		Notifications []SentNotification `json:"notifications"`
		Success       *bool              `json:"success"`
	}
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	var err error
	if len(trimmed) > 0 && trimmed[0] == '[' {
		err = json.Unmarshal(raw, &res.Notifications)
	} else if err = json.Unmarshal(raw, &one); err == nil {
		res.Notifications = one.Notifications
		if len(res.Notifications) == 0 && (one.ID != "" || one.Status != "") {
			res.Notifications = []SentNotification{one.SentNotification}
		}
		if one.Status == "" && one.Success != nil { // the older {success, deliveries} shape
			one.Status = SendAccepted
			if !*one.Success {
				one.Status = SendRejected
			}
		}
		res.ID, res.Event, res.Status = one.ID, one.Event, one.Status
	}
	if err != nil {
		return nil, &TransportError{Method: cl.method, Path: cl.route, StatusCode: cl.status,
			IdempotencyKey: cl.key, Attempts: cl.attempts, Err: malformed(err)}
	}
	if len(res.Notifications) > 0 {
		first := res.Notifications[0]
		res.ID = cmpOr(res.ID, first.ID)
		res.Event = cmpOr(res.Event, first.Event)
		if res.Status == "" {
			res.Status = first.Status
		}
		for _, n := range res.Notifications {
			if n.Status != SendAccepted && n.Status != "" {
				res.Status = n.Status
				break
			}
		}
	}
	if res.Status == SendRejected {
		e := &APIError{StatusCode: cl.status, RequestID: cl.header.Get("X-Request-Id"),
			IdempotencyKey: cl.key, Attempts: cl.attempts}
		e.decodeBody(raw)
		c.scrub(e)
		return res, e
	}
	return res, nil
}

func malformed(err error) error { return &malformedError{err} }

// malformedError matches ErrMalformed and keeps the decoder's message.
type malformedError struct{ err error }

func (e *malformedError) Error() string        { return "malformed response body: " + e.err.Error() }
func (e *malformedError) Is(target error) bool { return target == ErrMalformed }
func (e *malformedError) Unwrap() error        { return e.err }

func checkRecipient(r Recipient, field string) error {
	switch v := r.(type) {
	case nil:
		return invalid(field, "nil recipient")
	case *Contact:
		if v == nil {
			return invalid(field, "nil contact")
		}
	case *Address:
		if v == nil {
			return invalid(field, "nil address")
		}
	}
	return r.validate(field)
}

// encodeError finds which part of the request JSON could not encode.
func encodeError(b sendBody, err error) error {
	field := "request"
	switch {
	case json.NewEncoder(discard{}).Encode(b.Payload) != nil:
		field = "payload"
	case json.NewEncoder(discard{}).Encode(b.To) != nil:
		field = "to"
	case json.NewEncoder(discard{}).Encode(b.Overrides) != nil:
		field = "overrides"
	case json.NewEncoder(discard{}).Encode(b.From) != nil:
		field = "from"
	}
	return &ValidationError{Field: field, Reason: "cannot be encoded as JSON: " + err.Error(), Err: err}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// recipientsLog masks recipients for a log line.
type recipientsLog []Recipient

func (rs recipientsLog) LogValue() slog.Value {
	if len(rs) == 1 && rs[0] != nil {
		return rs[0].logValue()
	}
	attrs := make([]slog.Attr, 0, len(rs))
	for i, r := range rs {
		if r != nil {
			attrs = append(attrs, slog.Attr{Key: strconv.Itoa(i), Value: r.logValue()})
		}
	}
	return slog.GroupValue(attrs...)
}

// GetNotification returns a notification's status and messages:
// GET /v1/notifications/{id}. An unknown id is an error matching ErrNotFound.
func (c *Client) GetNotification(ctx context.Context, id string) (*Notification, error) {
	if id == "" {
		return nil, invalid("id", "empty notification id")
	}
	cl := &call{method: "GET", path: "/v1/notifications/" + url.PathEscape(id), route: "/v1/notifications/{id}"}
	err := c.do(ctx, cl)
	defer wire.Release(cl.resp)
	if err != nil {
		return nil, err
	}
	n := &Notification{Raw: bytes.Clone(cl.resp.Bytes())}
	if err := json.Unmarshal(n.Raw, n); err != nil {
		return nil, &TransportError{Method: cl.method, Path: cl.route, StatusCode: cl.status,
			Attempts: cl.attempts, Err: malformed(err)}
	}
	return n, nil
}
