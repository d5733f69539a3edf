package sendivent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

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

// Broadcast sends to the listeners configured on the event instead of to
// recipients (see SendRequest.Broadcast); adding To too is an error.
func (b *EventBuilder) Broadcast() *EventBuilder { b.req.Broadcast = true; return b }

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
	if b == nil {
		return nil, errNoClient
	}
	return b.c.Send(ctx, b.event, b.req)
}

type sendBody struct {
	To        any        `json:"to,omitempty"` // nil only for a broadcast
	Payload   Payload    `json:"payload"`
	Language  string     `json:"language,omitempty"`
	Overrides *Overrides `json:"overrides,omitempty"`
	From      Recipient  `json:"from,omitempty"`
}

// Send sends event to req.To: POST /v1/send/{event}, or
// /v1/send/{event}/{channel} when req.Channel is set. Bad input returns a
// *ValidationError before anything is sent. A 2xx answer that does not
// accept the send returns the response and an *APIError matching
// ErrRejected; one without a notification id is an error matching
// ErrMalformed.
func (c *Client) Send(ctx context.Context, event string, req SendRequest) (*SendResponse, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	r, err := sendRequest(event, req)
	if err != nil {
		return nil, err
	}
	if c.log != nil && c.log.Enabled(ctx, slog.LevelDebug) {
		c.log.LogAttrs(ctx, slog.LevelDebug, "sendivent send",
			slog.String("event", event), slog.Any("to", recipientsLog(req.To)),
			slog.String("channel", string(req.Channel)), slog.String("idempotency_key", r.key))
	}
	return do(ctx, c, r, decodeSend)
}

// sendRequest checks a send and encodes it. The key is the caller's, or a
// new random one.
func sendRequest(event string, req SendRequest) (request, error) {
	enc, err := encodeSend(event, req)
	if err != nil {
		return request{}, err
	}
	r := request{event: event, method: "POST", route: "/v1/send/{event}", path: "/v1/send/" + pathSegment(event),
		body: enc, key: req.IdempotencyKey}
	if req.Channel != "" {
		r.route, r.path = "/v1/send/{event}/{channel}", r.path+"/"+pathSegment(string(req.Channel))
	}
	if r.key == "" {
		r.key = idem.New()
	} else if err := idem.Check(r.key); err != nil {
		return request{}, invalid("idempotency_key", err.Error())
	}
	return r, nil
}

// encodeSend checks a send's fields and returns its JSON body. The same
// request always encodes to the same bytes (maps are encoded in key
// order), which BatchKeys relies on.
func encodeSend(event string, req SendRequest) ([]byte, error) {
	if err := checkEvent(event); err != nil {
		return nil, err
	}
	if req.Channel != "" && !req.Channel.Valid() {
		return nil, invalid("channel", "unknown channel "+strconv.Quote(string(req.Channel)))
	}
	body := sendBody{Payload: req.Payload, Language: req.Language, Overrides: req.Overrides, From: req.From}
	switch n := len(req.To); {
	case req.Broadcast && n > 0:
		return nil, invalid("to", "a broadcast goes to the event's listeners: set To or Broadcast, not both")
	case req.Broadcast:
	case n == 0:
		return nil, invalid("to", "at least one recipient is required (or Broadcast, for the event's listeners)")
	case n == 1:
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
	if err := checkOverrides(req.Overrides); err != nil {
		return nil, err
	}
	if err := checkExtra(req.Extra, sendFields, "request"); err != nil {
		return nil, err
	}
	if body.Payload == nil {
		body.Payload = Payload{}
	}
	enc, err := json.Marshal(&body)
	if err == nil {
		enc, err = withExtra(enc, req.Extra, sendFields, "request")
	}
	if err != nil {
		return nil, encodeError(body, req.Extra, err)
	}
	return enc, nil
}

// checkEvent refuses an event name that cannot be the service's: the docs
// call it a URL-friendly identifier (lowercase, digits, -, ., _ in
// practice). The SDK refuses only what is surely wrong, so a name the
// service adds rules for later still goes through.
func checkEvent(name string) error {
	switch {
	case name == "":
		return invalid("event", "empty event name")
	case len(name) > 255:
		return invalid("event", "event name longer than 255 bytes")
	case name == "." || name == "..":
		return invalid("event", "event name "+strconv.Quote(name)+" is a path segment, not a name")
	case strings.TrimSpace(name) != name:
		return invalid("event", "event name "+strconv.Quote(name)+" has leading or trailing space")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError || unicode.IsControl(r) {
			return invalid("event", "event name "+strconv.Quote(name)+" contains a control character or invalid UTF-8")
		}
	}
	return nil
}

// sendWire is every shape a send's answer is known to take, in one.
type sendWire struct {
	ID            string             `json:"id"`
	Event         string             `json:"event"`
	Status        SendStatus         `json:"status"`
	Notifications []SentNotification `json:"notifications"`
	Success       *bool              `json:"success"`    // the older {success, deliveries} shape
	Deliveries    []map[string]any   `json:"deliveries"` // [{"email": "<delivery uuid>"}]
}

// decodeSend reads any of the answers a send is known to get: one object,
// an array of them, an object holding a notifications array, or the older
// {success, deliveries} object. It returns the response with an error when
// the answer does not accept the send or names no notification.
func decodeSend(a *answer) (*SendResponse, error) {
	res := &SendResponse{IdempotencyKey: a.req.key, RequestID: a.requestID(), Raw: json.RawMessage(a.body)}
	res.Replayed = a.header.Get("X-Idempotent-Replay") == "true"
	if i := firstByte(a.body); i >= 0 && a.body[i] == '[' {
		if err := json.Unmarshal(a.body, &res.Notifications); err != nil {
			return nil, malformed(err, a.body)
		}
	} else {
		var w sendWire
		var v [3][]byte
		if wire.DecodeFlat(a.body, flatSendKeys, v[:]) {
			// The usual answer: a flat object of plain strings, read without
			// reflection; anything else goes to encoding/json.
			w.ID, w.Event, w.Status = string(v[0]), string(v[1]), SendStatus(v[2])
		} else if err := json.Unmarshal(a.body, &w); err != nil {
			return nil, malformed(err, a.body)
		}
		res.ID, res.Event, res.Status, res.Notifications = w.ID, w.Event, w.Status, w.Notifications
		if w.Status == "" && w.Success != nil {
			res.Status = SendAccepted
			if !*w.Success {
				res.Status = SendRejected
			}
			if res.ID == "" {
				res.ID = firstDelivery(w.Deliveries)
			}
		}
		if len(res.Notifications) == 0 && res.ID != "" {
			res.Notifications = []SentNotification{{ID: res.ID, Event: res.Event, Status: res.Status}}
		}
	}
	if len(res.Notifications) > 0 {
		first := res.Notifications[0]
		res.ID = cmpOr(res.ID, first.ID)
		res.Event = cmpOr(res.Event, first.Event)
		if res.Status == "" {
			res.Status = first.Status
		}
	}
	res.Event = cmpOr(res.Event, a.req.event)
	var body json.RawMessage // the part that says why, when one recipient was not accepted
	for i, n := range res.Notifications {
		if n.Status != "" && n.Status != SendAccepted {
			res.Status = n.Status // one recipient not accepted speaks for the send
			body = nth(a.body, i)
			break
		}
	}
	if res.Status != "" && res.Status != SendAccepted {
		e := &APIError{StatusCode: a.status, RequestID: res.RequestID}
		e.decodeBody(cmpOrBytes(body, a.body))
		e.Body = a.body
		if e.Message == "" {
			e.Message = "the service answered with status " + strconv.Quote(string(res.Status))
		}
		res.Raw = a.c.scrubBytes(a.body) // the error's Body is scrubbed too, in handle
		return res, e
	}
	if res.ID == "" {
		return nil, &malformedError{err: errors.New("the answer names no notification id")}
	}
	for i, n := range res.Notifications {
		if n.ID == "" {
			return nil, &malformedError{err: fmt.Errorf("notification %d of the answer has no id", i)}
		}
	}
	return res, nil
}

// flatSendKeys are the members of the usual send answer, which
// wire.DecodeFlat reads.
var flatSendKeys = []string{"id", "event", "status"}

// firstDelivery is the id of the first delivery of the older answer shape,
// [{"<channel>": "<delivery id>"}].
func firstDelivery(ds []map[string]any) string {
	if len(ds) == 0 || len(ds[0]) != 1 {
		return ""
	}
	for _, v := range ds[0] {
		s, _ := v.(string)
		return s
	}
	return ""
}

// nth is element i of a JSON array, or nil.
func nth(body []byte, i int) json.RawMessage {
	var list []json.RawMessage
	if j := firstByte(body); j < 0 || body[j] != '[' || json.Unmarshal(body, &list) != nil || i >= len(list) {
		return nil
	}
	return list[i]
}

func cmpOrBytes(a, b []byte) []byte {
	if len(a) > 0 {
		return a
	}
	return b
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

// encodeError finds which part of the request could not be encoded.
func encodeError(b sendBody, extra map[string]any, err error) error {
	field := "request"
	switch {
	case encodes(extra) != nil:
		field = "request.extra"
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
