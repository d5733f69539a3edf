package sendivent

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sendivent/sendivent-go/internal/retry"
)

// How a client calls its Observer's hooks (observe.go): each operation's
// observation, carried in the context of its requests to the transport and
// the poll loop, and the classes and values the hooks are handed in place
// of errors, paths and answers.

// observation is what an operation's hooks share: the operation, its
// context, and the attempt in flight. An operation runs on one goroutine
// (the transport's RoundTrip runs on the caller's, inside http.Client.Do),
// so it needs no lock.
type observation struct {
	o     *Observer
	op    Operation
	ctx   context.Context // the operation's, as OperationStart returned it
	start time.Time

	attempts int
	open     bool            // an attempt has started and not ended
	actx     context.Context // the open attempt's, as AttemptStart returned it
	astart   time.Time
	header   http.Header // what AttemptStart added, for each hop of the attempt
	status   int         // the last answer's

	polls int
	last  *Notification // the last poll's answer
}

// observationKey finds an operation's observation in the context of its
// requests, where the transport and the poll loop read it.
type observationKey struct{}

func (c *Client) observing() bool { return c != nil && c.obs != nil }

// startOperation calls OperationStart and returns the operation's context,
// which carries the observation for the transport.
func (c *Client) startOperation(ctx context.Context, op Operation) (context.Context, *observation) {
	op.BaseURL, op.ServerAddress, op.ServerPort = c.base, c.host, c.port
	ob := &observation{o: c.obs, op: op, start: time.Now()}
	if f := c.obs.OperationStart; f != nil {
		if octx := f(ctx, op); octx != nil {
			ctx = octx
		}
	}
	ob.ctx = ctx
	return context.WithValue(ctx, observationKey{}, ob), ob
}

// end calls OperationEnd. Like the other end methods it does nothing on a
// nil observation, the one a client without an observer has.
func (ob *observation) end(e OperationEnd) {
	if ob == nil {
		return
	}
	e.Duration = time.Since(ob.start)
	if f := ob.o.OperationEnd; f != nil {
		f(ob.ctx, ob.op, e)
	}
}

// observed is do with the operation's hooks around it.
func observed[T any](ctx context.Context, c *Client, r request, decode func(*answer) (T, error)) (T, error) {
	ctx, ob := c.startOperation(ctx, c.operation(&r))
	v, err := perform(ctx, c, r, decode, ob)
	e := OperationEnd{Attempts: ob.attempts, StatusCode: ob.status, ErrorType: errorType(err, 0)}
	switch x := any(v).(type) {
	case *SendResponse:
		if x != nil {
			e.NotificationID = observedID(x.ID)
		}
	case *Notification:
		if x != nil {
			e.NotificationID, e.NotificationStatus = observedID(x.ID), observedStatus(x.Status)
		}
	}
	ob.end(e)
	return v, err
}

// operation describes r for its hooks.
func (c *Client) operation(r *request) Operation {
	op := Operation{Name: operationName(r.method, r.route), Method: r.method, Route: r.route, Event: r.event}
	if strings.HasSuffix(r.route, "/{channel}") { // a channel is one of the Channel constants: its path segment is itself
		op.Channel = Channel(r.path[strings.LastIndexByte(r.path, '/')+1:])
	}
	return op
}

// operationName names a call by its method and route. A route this table
// does not know yet is named by its method and template, which hold no
// identifier either.
func operationName(method, route string) string {
	if n := routeNames[route][method]; n != "" {
		return n
	}
	return method + " " + route
}

// routeNames names each call by its route and method.
var routeNames = map[string]map[string]string{
	"/v1/send/{event}":                      {"POST": "send"},
	"/v1/send/{event}/{channel}":            {"POST": "send"},
	"/v1/notifications/{id}":                {"GET": "get_notification"},
	"/v1/cancel/{event}":                    {"POST": "cancel"},
	"/v1/contacts":                          {"POST": "contacts.upsert", "GET": "contacts.list"},
	"/v1/contacts/{identifier}":             {"GET": "contacts.get", "PATCH": "contacts.update", "DELETE": "contacts.delete"},
	"/v1/contacts/{identifier}/push-tokens": {"POST": "contacts.add_push_token", "DELETE": "contacts.remove_push_token"},
	webhooksPath:                            {"POST": "webhooks.create", "GET": "webhooks.get"},
	webhooksPath + "/{uuid}":                {"PATCH": "webhooks.update", "DELETE": "webhooks.delete"},
	"/v1/events":                            {"GET": "events.list"},
	"/v1/events/{identifier}":               {"GET": "events.get"},
	"/v1/deliveries":                        {"GET": "deliveries.list"},
	"/v1/deliveries/{uuid}/trace":           {"GET": "deliveries.trace"},
	"/v1/integrations":                      {"GET": "integrations.list"},
}

// attemptContext starts an attempt on its first hop (a redirect's request
// is a later hop of the same attempt) and returns the context the hop's
// request goes with.
func (ob *observation) attemptContext(r *http.Request) context.Context {
	if r.Response == nil || !ob.open {
		ob.startAttempt(r.Context())
	}
	return ob.actx
}

func (ob *observation) startAttempt(ctx context.Context) {
	ob.attempts++
	ob.open, ob.actx, ob.astart, ob.header = true, ctx, time.Now(), nil
	if f := ob.o.AttemptStart; f != nil {
		a := AttemptStart{Attempt: ob.attempts, Header: http.Header{}}
		if actx := f(ctx, ob.op, a); actx != nil {
			ob.actx = actx
		}
		if len(a.Header) > 0 {
			ob.header = a.Header
		}
	}
}

// withHeaders returns req with the headers AttemptStart added, on a copy
// of its header: the SDK's own are never replaced.
func (ob *observation) withHeaders(req *http.Request) *http.Request {
	if ob.header == nil {
		return req
	}
	h := make(http.Header, len(req.Header)+len(ob.header))
	for k, v := range req.Header {
		h[k] = v // the values are shared, and neither side changes them
	}
	for k, v := range ob.header {
		if k = http.CanonicalHeaderKey(k); h[k] == nil && !sdkHeader(k) {
			h[k] = v
		}
	}
	req.Header = h
	return req
}

// sdkHeader reports whether the SDK sets header k on some request.
func sdkHeader(k string) bool {
	switch http.CanonicalHeaderKey(k) {
	case "Authorization", "User-Agent", "Content-Type", "X-Idempotency-Key", "Content-Length", "Host":
		return true
	}
	return false
}

// endAttempt calls AttemptEnd for the attempt that ended with err (nil for
// a success) and status, and the policy's decision after it.
func (ob *observation) endAttempt(status int, err error, retrying bool, wait time.Duration, reason string) {
	if !ob.open { // the request failed before the transport saw it
		ob.startAttempt(ob.ctx)
	}
	ob.open, ob.status = false, status
	if f := ob.o.AttemptEnd; f != nil {
		f(ob.actx, ob.op, AttemptEnd{
			Attempt: ob.attempts, Duration: time.Since(ob.astart), StatusCode: status,
			ErrorType: errorType(err, status), Retry: retrying, Wait: wait, Reason: reason,
		})
	}
}

// ctxReason is why no retry follows an attempt once ctx has ended.
func ctxReason(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.Canceled) {
		return "canceled"
	}
	return "deadline"
}

// limiterWaited calls RateLimiterWait.
func (ob *observation) limiterWaited(d time.Duration, refused bool) {
	if f := ob.o.RateLimiterWait; f != nil {
		n := ob.attempts
		if !ob.open {
			n++ // the limiter holds the attempt about to start, not a redirect of the open one
		}
		f(ob.ctx, ob.op, RateLimiterWait{Attempt: n, Duration: d, Refused: refused})
	}
}

// startWait starts the operation of a wait or a watch; without an
// observer it returns ctx and nil.
func (c *Client) startWait(ctx context.Context, name string) (context.Context, *observation) {
	if !c.observing() {
		return ctx, nil
	}
	return c.startOperation(ctx, Operation{Name: name})
}

// endWait ends the operation of a wait or a watch that ended with err.
func (ob *observation) endWait(err error) {
	if ob == nil {
		return
	}
	e := OperationEnd{Polls: ob.polls, ErrorType: errorType(err, 0)}
	if ob.last != nil {
		e.NotificationID, e.NotificationStatus = observedID(ob.last.ID), observedStatus(ob.last.Status)
	}
	ob.end(e)
}

// observePoll calls Poll for the poll numbered n of the wait or watch whose
// context ctx is.
func (c *Client) observePoll(ctx context.Context, n int, got *Notification, err error) {
	if !c.observing() {
		return
	}
	ob, _ := ctx.Value(observationKey{}).(*observation)
	if ob == nil {
		return
	}
	ob.polls = n
	p := Poll{Poll: n, ErrorType: errorType(err, 0)}
	if got != nil {
		ob.last, p.Status = got, observedStatus(got.Status)
	}
	if f := ob.o.Poll; f != nil {
		f(ob.ctx, ob.op, p)
	}
}

// startBatch starts the operation of a batch of n items; without an
// observer it returns ctx and nil.
func (c *Client) startBatch(ctx context.Context, n int) (context.Context, *observation) {
	if !c.observing() {
		return ctx, nil
	}
	return c.startOperation(ctx, Operation{Name: "send_batch", Items: n})
}

// endBatch ends a batch's operation once its results are in: its error
// class is the first failed item's.
func (ob *observation) endBatch(results []BatchResult) {
	if ob == nil {
		return
	}
	var e OperationEnd
	for _, r := range results {
		if r.Err != nil {
			if e.Failed++; e.Failed == 1 {
				e.ErrorType = errorType(r.Err, 0)
			}
		}
	}
	ob.end(e)
}

// errorType is the class of err (see Observer), from an answer of status
// when there was one; "" for nil.
func errorType(err error, status int) string {
	if err == nil {
		return ""
	}
	var wt *WaitTimeoutError
	var apiErr *APIError
	var refused *limiterError
	var ve *ValidationError
	switch {
	case errors.As(err, &wt):
		if errors.Is(wt.Err, context.Canceled) {
			return "canceled"
		}
		return "timeout"
	case errors.As(err, &apiErr):
		if apiErr.StatusCode >= 200 && apiErr.StatusCode < 300 {
			return "rejected"
		}
		return statusClass(apiErr.StatusCode)
	case errors.As(err, &refused):
		return "rate_limiter"
	case errors.As(err, &ve):
		return "validation"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, ErrMalformed):
		return "malformed"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case status != 0 && (status < 200 || status >= 300): // a 1xx the SDK did not ask for
		return statusClass(status)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	if retry.TLSFailure(err) {
		return "tls"
	}
	var ue *url.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		(errors.As(err, &ue) && status == 0) {
		return "connection"
	}
	return "_OTHER"
}

// statusClass is an HTTP status as error.type spells it: its number.
func statusClass(code int) string { return strconv.Itoa(code) }

// serverOf is the host and port of base, a URL that resolveBaseURL
// accepted.
func serverOf(base string) (string, int) {
	u, err := url.Parse(base)
	if err != nil {
		return "", 0
	}
	port, _ := strconv.Atoi(u.Port())
	if port == 0 {
		port = 443
		if u.Scheme == "http" {
			port = 80
		}
	}
	return u.Hostname(), port
}

// observedID is id when it is a UUID, as the service's ids are, and ""
// otherwise: whatever else a server put there stays out of observers.
func observedID(id string) string {
	if len(id) != 36 {
		return ""
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return ""
			}
		case !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'):
			return ""
		}
	}
	return id
}

// observedStatus is s when it is a short lower-case word, as statuses are,
// and "" otherwise.
func observedStatus(s NotificationStatus) NotificationStatus {
	if len(s) == 0 || len(s) > 32 {
		return ""
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || c == '_') {
			return ""
		}
	}
	return s
}
