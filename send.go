package sendivent

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/url"
	"strconv"

	"github.com/sendivent/sendivent-go/internal/idem"
	"github.com/sendivent/sendivent-go/internal/wire"
)

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
	route, channel := "/v1/send/{event}", ""
	if req.Channel != "" {
		if !req.Channel.Valid() {
			return nil, invalid("channel", "unknown channel "+strconv.Quote(string(req.Channel)))
		}
		route, channel = "/v1/send/{event}/{channel}", "/"+string(req.Channel)
	}
	sc := &sendCall{event: event, body: sendBody{Payload: req.Payload, Language: req.Language, Overrides: req.Overrides, From: req.From}}
	switch len(req.To) {
	case 0:
		return nil, invalid("to", "at least one recipient is required")
	case 1:
		if err := checkRecipient(req.To[0], "to"); err != nil {
			return nil, err
		}
		sc.body.To = req.To[0]
	default:
		for i, r := range req.To {
			if err := checkRecipient(r, "to["+strconv.Itoa(i)+"]"); err != nil {
				return nil, err
			}
		}
		sc.body.To = req.To
	}
	if req.From != nil {
		if err := checkRecipient(req.From, "from"); err != nil {
			return nil, err
		}
	}
	if sc.body.Payload == nil {
		sc.body.Payload = emptyPayload
	}
	key := req.IdempotencyKey
	if key == "" {
		key = idem.New()
	} else if err := idem.Check(key); err != nil {
		return nil, invalid("idempotency_key", err.Error())
	}
	enc, err := json.Marshal(&sc.body)
	if err != nil {
		return nil, encodeError(sc.body, err)
	}
	if c.log != nil && c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.LogAttrs(ctx, slog.LevelDebug, "sendivent send",
			slog.String("event", event), slog.Any("to", recipientsLog(req.To)),
			slog.String("channel", string(req.Channel)), slog.String("idempotency_key", key))
	}
	sc.call = call{method: "POST", path: "/v1/send/" + url.PathEscape(event) + channel,
		route: route, body: enc, key: key, out: sc}
	if err := c.do(ctx, &sc.call); err != nil {
		return nil, err
	}
	return c.sendResult(sc)
}

// sendResult completes a decoded answer from the call's headers, and turns
// a rejection into its error.
func (c *Client) sendResult(sc *sendCall) (*SendResponse, error) {
	res := sc.res
	res.IdempotencyKey = sc.key
	res.Replayed = sc.header.Get("X-Idempotent-Replay") == "true"
	if res.Status == SendRejected {
		return res, c.rejection(&sc.call, res)
	}
	return res, nil
}

// sendCall is a send's request and its answer, in one allocation.
type sendCall struct {
	call
	event string
	body  sendBody
	wire  sendWire
	res   *SendResponse
}

// sendWire is flat, not built on SentNotification: the decoder walks
// embedded fields more slowly, and this runs on every send.
type sendWire struct {
	ID            string             `json:"id"`
	Event         string             `json:"event"`
	Status        SendStatus         `json:"status"`
	Notifications []SentNotification `json:"notifications"`
	Success       *bool              `json:"success"` // the older {success, deliveries} shape
}

// flatSendKeys are the members of the usual answer, which
// wire.DecodeFlat reads without reflection.
var flatSendKeys = []string{"id", "event", "status"}

// decode reads any of the answers a send is known to get: one object, an
// array of them, an object holding a notifications array, or the older
// {success, deliveries} object.
func (sc *sendCall) decode(body []byte) error {
	res := &SendResponse{}
	if i := firstByte(body); i >= 0 && body[i] == '[' {
		if err := json.Unmarshal(body, &res.Notifications); err != nil {
			return err
		}
	} else {
		w := &sc.wire
		*w = sendWire{}
		var v [3][]byte
		if wire.DecodeFlat(body, flatSendKeys, v[:]) {
			w.ID = string(v[0])
			w.Event = reuse(v[1], sc.event)
			w.Status = SendStatus(reuse(v[2], string(SendAccepted)))
		} else if err := json.Unmarshal(body, w); err != nil {
			return err
		}
		res.Notifications = w.Notifications
		if len(res.Notifications) == 0 && (w.ID != "" || w.Status != "") {
			res.one[0] = SentNotification{ID: w.ID, Event: w.Event, Status: w.Status}
			res.Notifications = res.one[:]
		}
		if w.Status == "" && w.Success != nil {
			w.Status = SendAccepted
			if !*w.Success {
				w.Status = SendRejected
			}
		}
		res.ID, res.Event, res.Status = w.ID, w.Event, w.Status
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
				res.Status = n.Status // one recipient not accepted speaks for the send
				break
			}
		}
	}
	res.Raw = append(json.RawMessage(nil), body...)
	sc.res = res
	return nil
}

// rejection is the error for a 2xx answer that did not accept the send,
// with the message of the rejected recipient when the answer lists several.
func (c *Client) rejection(cl *call, res *SendResponse) error {
	e := &APIError{StatusCode: cl.status, RequestID: cl.header.Get("X-Request-Id"),
		IdempotencyKey: cl.key, Attempts: cl.attempts}
	body := []byte(res.Raw)
	var list []json.RawMessage
	if i := firstByte(body); i >= 0 && body[i] == '[' && json.Unmarshal(body, &list) == nil {
		for j, n := range res.Notifications {
			if n.Status != SendAccepted && n.Status != "" && j < len(list) {
				body = list[j]
				break
			}
		}
	}
	e.decodeBody(body)
	e.Body = res.Raw
	c.scrub(e)
	return e
}

// reuse returns s when b spells it, which spares an allocation.
func reuse(b []byte, s string) string {
	if string(b) == s {
		return s
	}
	return string(b)
}

// firstByte is the index of the first non-space byte of b, or -1.
func firstByte(b []byte) int {
	for i, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
		default:
			return i
		}
	}
	return -1
}

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

// encodeError finds which part of the request could not be encoded.
func encodeError(b sendBody, err error) error {
	field := "request"
	switch {
	case encodes(b.Payload) != nil:
		field = "payload"
	case encodes(b.To) != nil:
		field = "to"
	case encodes(b.Overrides) != nil:
		field = "overrides"
	case encodes(b.From) != nil:
		field = "from"
	}
	return &ValidationError{Field: field, Reason: "cannot be encoded as JSON: " + err.Error(), Err: err}
}

func encodes(v any) error {
	_, err := json.Marshal(v)
	return err
}

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
