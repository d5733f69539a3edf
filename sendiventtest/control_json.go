package sendiventtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/sendivent/sendivent-go"
)

// The JSON shapes of the control endpoints.

// controlNotification is a notification as GET /v1/notifications/{id}
// answers it, and what the fake knows besides.
type controlNotification struct {
	wireNotification
	Recipient      sendivent.Contact    `json:"recipient"`
	ContactID      string               `json:"contact_id"`
	Channel        sendivent.Channel    `json:"channel,omitempty"`
	Channels       []sendivent.Channel  `json:"channels"`
	Payload        sendivent.Payload    `json:"payload,omitempty"`
	Language       string               `json:"language,omitempty"`
	Overrides      *sendivent.Overrides `json:"overrides,omitempty"`
	From           sendivent.Recipient  `json:"from,omitempty"`
	IdempotencyKey string               `json:"idempotency_key,omitempty"`
	RequestID      string               `json:"request_id,omitempty"`
	Rendered       []RenderedMessage    `json:"rendered,omitempty"`
}

func toControlNotification(n Notification) controlNotification {
	var w wireNotification
	if err := json.Unmarshal(n.Raw, &w); err != nil {
		panic("sendiventtest: a snapshot's Raw does not decode: " + err.Error())
	}
	return controlNotification{
		wireNotification: w, Recipient: n.Recipient, ContactID: n.ContactID,
		Channel: n.Channel, Channels: n.Channels, Payload: n.Payload, Language: n.Language,
		Overrides: n.Overrides, From: n.From, IdempotencyKey: n.IdempotencyKey, RequestID: n.RequestID,
		Rendered: n.Rendered,
	}
}

// controlRequest is a recorded API request. The Authorization header is
// left out: the output of a control endpoint never holds the API key.
type controlRequest struct {
	Method         string          `json:"method"`
	Path           string          `json:"path"`
	Query          url.Values      `json:"query,omitempty"`
	Endpoint       Endpoint        `json:"endpoint,omitempty"`
	Event          string          `json:"event,omitempty"`
	Channel        string          `json:"channel,omitempty"`
	NotificationID string          `json:"notification_id,omitempty"`
	Header         http.Header     `json:"headers"`
	Body           json.RawMessage `json:"body,omitempty"` // as kept: see Request.RawBody
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	Replayed       bool            `json:"replayed,omitempty"`
	Created        []string        `json:"created,omitempty"`
	Status         int             `json:"status"`
	Fault          FaultKind       `json:"fault,omitempty"`
	RequestID      string          `json:"request_id"`
	Time           time.Time       `json:"time"`
}

func toControlRequest(r Request) controlRequest {
	h := r.Header.Clone()
	h.Del("Authorization")
	h.Del("Proxy-Authorization")
	out := controlRequest{
		Method: r.Method, Path: r.Path, Query: r.Query, Endpoint: r.Endpoint, Event: r.Event, Channel: r.Channel,
		NotificationID: r.NotificationID, Header: h, IdempotencyKey: r.IdempotencyKey,
		Replayed: r.Replayed, Created: r.Created, Status: r.Status, Fault: r.Fault,
		RequestID: r.RequestID, Time: r.Time,
	}
	if len(r.RawBody) > 0 { // JSON, or not kept
		out.Body = json.RawMessage(r.RawBody)
	}
	return out
}

// controlFault is a fault script: what POST /_fake/faults takes and GET
// /_fake/faults lists (with the units left in count).
type controlFault struct {
	// Kind is status (the default), latency, malformed, truncated or drop.
	Kind  FaultKind `json:"kind,omitempty"`
	Count int       `json:"count,omitempty"` // requests it hits; default 1
	// Status, RetryAfter and Body are those of a status fault.
	Status     int    `json:"status,omitempty"`
	RetryAfter string `json:"retry_after,omitempty"`
	Body       string `json:"body,omitempty"`
	// Latency is a latency fault's delay, a Go duration such as "2s".
	Latency  string   `json:"latency,omitempty"`
	Endpoint Endpoint `json:"endpoint,omitempty"` // "" for every endpoint
}

func toControlFault(sc Script) controlFault {
	f := sc.fault
	cf := controlFault{Kind: f.Kind, Count: sc.n, Status: f.Status, RetryAfter: f.RetryAfter,
		Body: f.Body, Endpoint: sc.endpoint}
	if f.Kind == FaultLatency {
		cf.Latency = f.Latency.String()
	}
	return cf
}

// script checks cf and makes its Script.
func (cf controlFault) script() (Script, error) {
	if cf.Count < 0 {
		return Script{}, fmt.Errorf("count %d: want 1 or more", cf.Count)
	}
	n := max(cf.Count, 1)
	if !knownEndpoint(cf.Endpoint) {
		return Script{}, fmt.Errorf("unknown endpoint %q", cf.Endpoint)
	}
	kind := cf.Kind
	if kind == "" {
		kind = FaultStatus
	}
	if kind != FaultStatus && (cf.Status != 0 || cf.RetryAfter != "" || cf.Body != "") {
		return Script{}, fmt.Errorf("status, retry_after and body belong to a status fault, not %s", kind)
	}
	if kind != FaultLatency && cf.Latency != "" {
		return Script{}, fmt.Errorf("latency belongs to a latency fault, not %s", kind)
	}
	var sc Script
	switch kind {
	case FaultStatus:
		if cf.Status < 400 || cf.Status > 599 {
			return Script{}, fmt.Errorf("status %d: want an error status, 400 to 599", cf.Status)
		}
		sc = FailNext(n, cf.Status).WithRetryAfter(cf.RetryAfter).WithBody(cf.Body)
	case FaultLatency:
		d, err := time.ParseDuration(cf.Latency)
		if err != nil || d <= 0 {
			return Script{}, fmt.Errorf("latency %q: want a positive Go duration such as \"2s\"", cf.Latency)
		}
		sc = DelayNext(n, d)
	case FaultMalformed:
		sc = MalformedNext(n)
	case FaultTruncated:
		sc = TruncateNext(n)
	case FaultDrop:
		sc = DropNext(n)
	default:
		return Script{}, fmt.Errorf("kind %q: want status, latency, malformed, truncated or drop", kind)
	}
	return sc.On(cf.Endpoint), nil
}
