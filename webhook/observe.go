package webhook

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Observer is a set of hooks that see what a [Handler] does, for traces,
// metrics or logs: each delivery as it arrives, its verification, and its
// end (how the [Deduper] took it, what the function returned, the status
// answered, how long it took). Set the hooks you need; a nil hook is
// skipped, and a Handler without an observer does no work for them.
// Module github.com/sendivent/sendivent-go/sendiventotel turns them into
// OpenTelemetry spans and metrics.
//
// It is a struct of functions, as sendivent.Observer and
// net/http/httptrace.ClientTrace are, rather than an interface: a hook
// added later is a new field, which breaks no observer.
//
// The hooks run on the request's goroutine, synchronously, so they must
// return quickly; deliveries arrive concurrently, so they must be safe for
// concurrent use. DeliveryStart returns the context the rest of the
// delivery runs with: ctx itself, or a context derived from it (a span's,
// as OpenTelemetry's Tracer.Start returns); nil keeps ctx. The other hooks,
// the Deduper, the logger and the Handler's function get that context, so
// what the function does is a child of the delivery.
//
// Nothing a hook is handed holds personal data or a secret: no body, no
// signature, no secret, no error message (neither the function's nor the
// provider's words in [DeliveryError]). A verified event is described by
// [EventInfo]: its type, the channel, the Sendivent event and the
// delivery's UUID, an opaque id, as the client's observer gets a
// notification's. A failure comes as its class, ErrorType:
//
//   - "method_not_allowed": not a POST (405);
//   - "body_too_large": the body is over the cap, [ErrBodyTooLarge] (413);
//   - "body_unreadable": the body could not be read: the peer hung up or
//     sent a broken one (400);
//   - "missing_header", "malformed_header", "no_valid_signature",
//     "timestamp_out_of_range", "invalid_payload": the request failed
//     verification with [ErrMissingHeader], [ErrMalformedHeader],
//     [ErrNoValidSignature], [ErrTimestampOutOfRange] or
//     [ErrInvalidPayload] (400);
//   - "dedupe_store": the Deduper's Claim failed, or broke its contract
//     (503);
//   - "canceled": the peer hung up while the Deduper claimed the event
//     (503);
//   - "callback_error": the function returned an error (500);
//   - "callback_panic": the function panicked; "panic": something else
//     did, the Deduper or a hook (net/http drops the connection: no
//     status is answered).
type Observer struct {
	// DeliveryStart is called when a request reaches the Handler, before
	// its body is read.
	DeliveryStart func(ctx context.Context, d DeliveryStart) context.Context
	// Verified is called once the request has been read and verified, or
	// refused: before the Deduper and the function.
	Verified func(ctx context.Context, v Verification)
	// DeliveryEnd is called once the answer's status is written, before
	// ServeHTTP returns, and when the delivery panics, as the panic goes
	// on to net/http.
	DeliveryEnd func(ctx context.Context, d DeliveryEnd)
}

// DeliveryStart describes a request that reached the [Handler].
type DeliveryStart struct {
	// Header is the request's header, less its secrets: for a propagator
	// to extract the trace context a proxy or the sender put there.
	Header RequestHeader
}

// RequestHeader is a delivery request's header as an [Observer] sees it:
// the fields as the peer and any proxy sent them, less those that hold a
// secret, which read as absent: X-Sendivent-Signature, Authorization,
// Proxy-Authorization and Cookie. It is there for extracting trace
// context (with Set added, it is an OpenTelemetry TextMapCarrier); the
// other fields come from whoever sent the request, so an observer should
// not export them whole.
type RequestHeader struct{ h http.Header }

// Get returns the first value of key, as http.Header.Get does.
func (h RequestHeader) Get(key string) string {
	if hiddenHeader(key) {
		return ""
	}
	return h.h.Get(key)
}

// Values returns a copy of the values of key.
func (h RequestHeader) Values(key string) []string {
	if hiddenHeader(key) {
		return nil
	}
	return slices.Clone(h.h.Values(key))
}

// Keys returns the names of the fields, as the request has them.
func (h RequestHeader) Keys() []string {
	keys := make([]string, 0, len(h.h))
	for k := range h.h {
		if !hiddenHeader(k) {
			keys = append(keys, k)
		}
	}
	return keys
}

// String lists the fields' names, never their values: formatting a
// DeliveryStart (%v, %+v) shows no secret.
func (h RequestHeader) String() string {
	keys := h.Keys()
	slices.Sort(keys)
	return "RequestHeader[" + strings.Join(keys, " ") + "]"
}

// GoString is String, for %#v.
func (h RequestHeader) GoString() string { return h.String() }

// hiddenHeader reports whether an observer must not see header k.
func hiddenHeader(k string) bool {
	for _, s := range [...]string{SignatureHeader, "Authorization", "Proxy-Authorization", "Cookie"} {
		if strings.EqualFold(k, s) {
			return true
		}
	}
	return false
}

// EventInfo is what an [Observer] learns of a verified event; nothing in it
// can find a person.
type EventInfo struct {
	Type EventType
	// DeliveryUUID is the delivery's id (Delivery.UUID), Channel its
	// channel, EventName the Sendivent event that was sent.
	DeliveryUUID string
	Channel      string
	EventName    string
}

// Verification is how a request's verification ended.
type Verification struct {
	// Event is the verified event; zero when the request was refused.
	Event EventInfo
	// ErrorType is "" when the request was verified, and otherwise the
	// class of its refusal (see Observer).
	ErrorType string
	// Duration runs from DeliveryStart: reading the body and checking it.
	Duration time.Duration
}

// The outcomes of a delivery, DeliveryEnd.Outcome.
const (
	OutcomeHandled    = "handled"     // the function returned nil: 204
	OutcomeDuplicate  = "duplicate"   // a repeat of an event handled before: 200
	OutcomeInProgress = "in_progress" // a repeat of an event being handled now: 503, to be retried
	OutcomeRefused    = "refused"     // the request failed verification: 400, 405 or 413
	OutcomeFailed     = "failed"      // the function failed, or the Deduper: 500 or 503, to be retried
)

// DeliveryEnd is how a delivery ended.
type DeliveryEnd struct {
	// Duration runs from DeliveryStart to DeliveryEnd: the whole
	// delivery, the Deduper's last step included.
	Duration time.Duration
	// StatusCode is the status answered; 0 when none was (a panic).
	StatusCode int
	// Outcome is one of the Outcome constants.
	Outcome string
	// ErrorType is "" unless the outcome is refused or failed, and then
	// the class of the failure (see Observer).
	ErrorType string
	// Event is the verified event; zero when the request was refused.
	Event EventInfo
	// Claim is the Deduper's answer; 0 when it was not asked (no Deduper,
	// a refused request) or its Claim failed.
	Claim ClaimResult
	// DedupeError is "" unless the Deduper failed after the function ran,
	// which did not change the answer: "not_recorded" (the event was
	// handled but not marked done: a later delivery would run it again),
	// "claim_lost" (marked done, but its claim had lapsed: another
	// delivery may have run it too), "not_released" (the function failed
	// and the claim was not given up: the event waits for its lease to
	// end).
	DedupeError string
	// CallbackDuration is how long the function ran; 0 when it was not
	// called.
	CallbackDuration time.Duration
}

// WithObserver makes [Handler] call o's hooks (see [Observer]). A later
// WithObserver replaces an earlier one; to feed two, give one whose hooks
// call both. [Verify] ignores it.
func WithObserver(o Observer) Option {
	return func(c *config) {
		if o.DeliveryStart == nil && o.Verified == nil && o.DeliveryEnd == nil {
			c.observer = nil // nothing to call: the handler stays as fast as without
			return
		}
		c.observer = &o
	}
}

// observation is what a delivery's hooks share. A nil one, a handler's
// without an observer, ignores every call.
type observation struct {
	o        *Observer
	ctx      context.Context // as DeliveryStart returned it
	start    time.Time
	end      DeliveryEnd
	fnStart  time.Time // set while the function runs
	returned bool      // ServeHTTP returned: no panic
}

// startDelivery calls DeliveryStart and returns the delivery's context.
func (h *handler) startDelivery(r *http.Request) (context.Context, *observation) {
	ctx := r.Context()
	ob := &observation{o: h.c.observer, start: time.Now()}
	if f := ob.o.DeliveryStart; f != nil {
		if octx := f(ctx, DeliveryStart{Header: RequestHeader{r.Header}}); octx != nil {
			ctx = octx
		}
	}
	ob.ctx = ctx
	return ctx, ob
}

// verified calls Verified with ev, or with the class of err, the refusal
// answered code.
func (ob *observation) verified(ev *Event, code int, err error) {
	if ob == nil {
		return
	}
	v := Verification{Duration: time.Since(ob.start)}
	if ev != nil {
		v.Event = EventInfo{Type: ev.Type, DeliveryUUID: ev.Delivery.UUID, Channel: ev.Delivery.Channel, EventName: ev.Delivery.EventName}
		ob.end.Event = v.Event
	} else {
		v.ErrorType = refusalClass(err)
		ob.end.StatusCode, ob.end.Outcome, ob.end.ErrorType = code, OutcomeRefused, v.ErrorType
	}
	if f := ob.o.Verified; f != nil {
		f(ob.ctx, v)
	}
}

// answered records the status answered and how the delivery ended.
func (ob *observation) answered(code int, outcome, errorType string) {
	if ob == nil {
		return
	}
	ob.end.StatusCode, ob.end.Outcome, ob.end.ErrorType = code, outcome, errorType
}

func (ob *observation) claimed(res ClaimResult) {
	if ob != nil {
		ob.end.Claim = res
	}
}

func (ob *observation) dedupeFailed(class string) {
	if ob != nil {
		ob.end.DedupeError = class
	}
}

// calling and called bracket the function's run.
func (ob *observation) calling() {
	if ob != nil {
		ob.fnStart = time.Now()
	}
}

func (ob *observation) called() {
	if ob != nil {
		ob.end.CallbackDuration = time.Since(ob.fnStart)
		ob.fnStart = time.Time{}
	}
}

// finish calls DeliveryEnd; deferred, it sees a panic as one.
func (ob *observation) finish() {
	if !ob.returned {
		class := "panic"
		if !ob.fnStart.IsZero() {
			class = "callback_panic"
			ob.end.CallbackDuration = time.Since(ob.fnStart)
		}
		ob.end.StatusCode, ob.end.Outcome, ob.end.ErrorType = 0, OutcomeFailed, class
	}
	ob.end.Duration = time.Since(ob.start)
	if f := ob.o.DeliveryEnd; f != nil {
		f(ob.ctx, ob.end)
	}
}

// errMethod and errUnreadable are what receive refuses besides Verify's
// errors: a method other than POST, a body that could not be read.
var (
	errMethod     = errors.New("webhook: method not allowed")
	errUnreadable = errors.New("webhook: body unreadable")
)

// refusalClass is the class (see Observer) of a refusal with err.
func refusalClass(err error) string {
	switch {
	case errors.Is(err, errMethod):
		return "method_not_allowed"
	case errors.Is(err, ErrBodyTooLarge):
		return "body_too_large"
	case errors.Is(err, errUnreadable):
		return "body_unreadable"
	case errors.Is(err, ErrMissingHeader):
		return "missing_header"
	case errors.Is(err, ErrMalformedHeader):
		return "malformed_header"
	case errors.Is(err, ErrNoValidSignature):
		return "no_valid_signature"
	case errors.Is(err, ErrTimestampOutOfRange):
		return "timestamp_out_of_range"
	case errors.Is(err, ErrInvalidPayload):
		return "invalid_payload"
	}
	return "_OTHER"
}
