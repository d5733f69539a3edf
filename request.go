package sendivent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sendivent/sendivent-go/internal/clock"
	"github.com/sendivent/sendivent-go/internal/redact"
	"github.com/sendivent/sendivent-go/internal/retry"
	"github.com/sendivent/sendivent-go/internal/wire"
)

// request is one API call, before it is sent.
type request struct {
	event  string // the event the call is about, if any
	method string
	route  string // the path template, for logs and errors: "/v1/send/{event}"
	path   string // escaped: "/v1/send/welcome"
	query  url.Values
	body   []byte // JSON; nil for none
	key    string // X-Idempotency-Key; "" for none
	// salvage decodes a 2xx body that broke off midway or passed the size
	// cap too, for what it holds (the signing secret of Webhooks.Create,
	// shown once); the attempt fails all the same.
	salvage bool
}

// answer is a response with its body read whole, and the request it
// answers.
type answer struct {
	c      *Client
	req    *request
	status int
	header http.Header
	body   []byte
}

// do sends r through go-retryablehttp's loop and decodes a 2xx answer with
// decode. The SDK's policy sits in the loop's hooks: checkRetry asks
// retry.Decide after each attempt, backoff returns the wait it chose, and
// handle reads and judges each answer. The transport bounds each attempt
// with a context.WithTimeout (WithTimeout).
//
// decode may return a value with an error: a send that the service answered
// with a 2xx but did not accept.
func do[T any](ctx context.Context, c *Client, r request, decode func(*answer) (T, error)) (T, error) {
	if c.observing() {
		return observed(ctx, c, r, decode)
	}
	return perform(ctx, c, r, decode, nil)
}

// perform is do, reporting to ob when it is not nil.
func perform[T any](ctx context.Context, c *Client, r request, decode func(*answer) (T, error), ob *observation) (T, error) {
	var zero T
	if err := c.usable(); err != nil {
		return zero, err
	}
	cl := &call[T]{ctx: ctx, c: c, r: r, decode: decode, ob: ob}
	req, err := c.newRequest(ctx, &cl.r)
	if err != nil {
		return zero, &TransportError{Method: r.method, Path: r.route, IdempotencyKey: r.key, Err: c.scrubErr(r.templatedErr(err))}
	}
	req.SetResponseHandler(cl.handle)
	cl.rc = &retryablehttp.Client{
		HTTPClient:   c.hc,
		Logger:       nil, // its default logger writes every request to stderr
		RetryMax:     c.maxRetries,
		CheckRetry:   cl.checkRetry,
		Backoff:      cl.backoff,
		ErrorHandler: giveUp,
		PrepareRetry: stillWanted,
	}
	if err := ctx.Err(); err != nil { // a transport that ignores the context would send it
		return zero, cl.fail(ctx, err)
	}
	resp, err := cl.rc.Do(req)
	if resp != nil {
		resp.Body.Close() // handle has read it
	}
	if err != nil {
		return cl.value, cl.fail(ctx, err)
	}
	return cl.value, nil
}

// newRequest builds the request every attempt sends.
func (c *Client) newRequest(ctx context.Context, r *request) (*retryablehttp.Request, error) {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body any
	if r.body != nil {
		body = r.body // retryablehttp gives each attempt a fresh reader over it
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, err
	}
	h := req.Header
	h.Set("Authorization", c.cred.auth)
	h.Set("User-Agent", c.userAgent)
	if r.body != nil {
		h.Set("Content-Type", "application/json")
	}
	if r.key != "" {
		h.Set("X-Idempotency-Key", r.key)
	}
	return req, nil
}

// call is one request's retry loop and what its attempts found.
type call[T any] struct {
	rc       *retryablehttp.Client // with this call's hooks
	ctx      context.Context       // the caller's
	c        *Client
	r        request
	decode   func(*answer) (T, error)
	value    T // the decoded answer
	attempts []Attempt
	last     error         // the last attempt's failure
	failure  retry.Failure // the same, as the policy sees it
	wait     time.Duration // the wait checkRetry chose, for backoff
	stop     error         // why the policy stopped before retries ran out
	answered bool          // handle has read this attempt's answer
	ob       *observation  // nil: no Observer
}

// checkRetry is retryablehttp's CheckRetry. An answer (err == nil) is left
// to handle, which reads it; retryablehttp then calls checkRetry again with
// handle's error, if any. A failure is recorded and put to the policy.
func (cl *call[T]) checkRetry(ctx context.Context, _ *http.Response, err error) (bool, error) {
	if err == nil {
		if cl.answered { // handle read it and found it good
			a := cl.attempts[len(cl.attempts)-1]
			cl.c.logAttempt(ctx, &cl.r, len(cl.attempts), a, false)
			if cl.ob != nil {
				cl.ob.endAttempt(a.StatusCode, nil, false, 0, "")
			}
		}
		cl.answered = false
		return false, nil
	}
	var refused *limiterError
	if errors.As(err, &refused) {
		return false, err // no request went out: not an attempt
	}
	if !cl.answered { // no answer (or a redirect refused); handle did not run
		err = cl.r.templatedErr(cl.cut(err))
		cl.last, cl.failure = err, retry.Failure{Err: err}
		cl.attempts = append(cl.attempts, Attempt{Err: cl.c.scrubErr(err)})
	}
	cl.answered = false
	a := &cl.attempts[len(cl.attempts)-1]
	if ctx.Err() != nil {
		cl.c.logAttempt(ctx, &cl.r, len(cl.attempts), *a, false)
		if cl.ob != nil {
			cl.ob.endAttempt(a.StatusCode, err, false, 0, ctxReason(ctx))
		}
		return false, nil
	}
	p := retry.Plan{
		Retries:      len(cl.attempts) - 1,
		MaxRetries:   cl.c.maxRetries,
		MaxRetryWait: cl.c.maxRetryWait,
		Now:          cl.c.clock.Now(),
		Jitter:       cl.c.jitter(),
	}
	p.Deadline, _ = ctx.Deadline()
	d := retry.Decide(cl.failure, p)
	cl.wait, cl.stop, a.Wait = d.Wait, d.Stop, d.Wait
	cl.c.logAttempt(ctx, &cl.r, len(cl.attempts), *a, d.Retry)
	if cl.ob != nil {
		cl.ob.endAttempt(a.StatusCode, err, d.Retry, d.Wait, d.Reason)
	}
	return d.Retry, nil
}

// cut tells an attempt ended by its bound from one the caller cancelled,
// when a transport reported either as context.Canceled.
func (cl *call[T]) cut(err error) error {
	if errors.Is(err, context.Canceled) && cl.ctx.Err() == nil {
		return &attemptTimeout{err: err}
	}
	return err
}

// attemptTimeout is an attempt cut by its bound (WithTimeout) that the
// transport reported as canceled. Like net/http's own time-outs, it is a
// net.Error and matches context.DeadlineExceeded, not context.Canceled:
// the caller did not cancel.
type attemptTimeout struct{ err error }

func (e *attemptTimeout) Error() string        { return "attempt timed out: " + e.err.Error() }
func (e *attemptTimeout) Timeout() bool        { return true }
func (e *attemptTimeout) Temporary() bool      { return true }
func (e *attemptTimeout) Is(target error) bool { return target == context.DeadlineExceeded }

// backoff is retryablehttp's Backoff: the wait checkRetry chose, which
// retryablehttp sleeps on a timer that ends with the context.
func (cl *call[T]) backoff(_, _ time.Duration, _ int, _ *http.Response) time.Duration {
	return cl.c.clock.Wait(cl.wait)
}

// stillWanted is retryablehttp's PrepareRetry: no attempt starts once the
// context has ended, even when it ends as a wait does.
func stillWanted(req *http.Request) error { return req.Context().Err() }

// giveUp is retryablehttp's ErrorHandler: the error as it is (do adds the
// attempts), not wrapped in "giving up after N attempts".
func giveUp(resp *http.Response, err error, _ int) (*http.Response, error) {
	if resp != nil {
		resp.Body.Close()
	}
	return nil, err
}

// handle is the request's response handler: it reads the answer through the
// size cap, records the attempt, and turns the answer into the call's value
// or the attempt's error.
func (cl *call[T]) handle(resp *http.Response) error {
	cl.answered = true
	cl.attempts = append(cl.attempts, Attempt{StatusCode: resp.StatusCode})
	a := &cl.attempts[len(cl.attempts)-1]
	cl.failure = retry.Failure{Status: resp.StatusCode}
	if resp.StatusCode < 200 {
		// 101 Switching Protocols: the body is the raw connection, which
		// no bound would end. Closing it, unread, ends it.
		resp.Body.Close()
		resp.Body = http.NoBody
		err := cl.c.scrubErr(fmt.Errorf("unexpected %q answer", resp.Status))
		a.Err, cl.last, cl.failure.Err = err, err, err
		return err
	}
	body, rerr := readBody(resp, cl.c.maxBody)
	resp.Body.Close()
	resp.Body = http.NoBody // read and closed: retryablehttp's drain and do's close find nothing
	if rerr != nil && rerr != wire.ErrTooLarge {
		rerr = cl.c.scrubErr(cl.cut(rerr))
	}
	ans := &answer{c: cl.c, req: &cl.r, status: resp.StatusCode, header: resp.Header, body: body}
	if resp.StatusCode >= 300 {
		e := cl.c.apiError(ans, cl.r.key)
		if rerr != nil && rerr != wire.ErrTooLarge { // an error answer is judged by its status, even cut short
			a.Err = rerr
		}
		cl.failure.Code, cl.failure.HasRetryAfter, cl.failure.RetryAfter = e.Code, e.retryAfterSet, e.RetryAfter
		cl.last = e
		return e
	}
	var err error
	switch {
	case rerr != nil:
		err = ErrTooLarge
		if rerr != wire.ErrTooLarge { // the connection broke mid-body
			err, cl.failure.Cut = rerr, true
		}
		if cl.r.salvage { // what the body holds so far
			if v, _ := cl.decode(ans); !isZero(v) {
				cl.value = v
			}
		}
	default:
		var v T
		v, err = cl.decode(ans)
		cl.value = v
		if m, ok := err.(*malformedError); ok {
			cl.failure.Cut = m.cut
		}
		if e, ok := err.(*APIError); ok { // a 2xx that did not accept the send
			cl.c.scrub(e)
			e.IdempotencyKey = cl.r.key
			cl.last = e
			return e
		}
	}
	if err != nil {
		a.Err, cl.last, cl.failure.Err = err, err, err
	}
	return err
}

// isZero reports whether v is its type's zero value (a nil pointer).
func isZero[T any](v T) bool { return reflect.ValueOf(&v).Elem().IsZero() }

// readBody reads the body, up to limit bytes; a longer one is cut there,
// with wire.ErrTooLarge. The attempt's bound covers the read: the transport
// ends it when the attempt's context ends.
func readBody(resp *http.Response, limit int64) ([]byte, error) {
	n := limit
	if n < math.MaxInt64 { // a byte more tells a body over the cap; none is longer than MaxInt64
		n++
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, n))
	if int64(len(b)) > limit {
		return b[:limit], wire.ErrTooLarge
	}
	return b, err
}

// fail builds the call's error from its last attempt and why it stopped.
func (cl *call[T]) fail(ctx context.Context, err error) error {
	why := cl.stop
	var refused *limiterError
	if errors.As(err, &refused) {
		why = refused // it refused a retry, or the first attempt
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		why = ctxErr
	}
	if e, ok := cl.last.(*APIError); ok {
		e.Attempts, e.Err = cl.attempts, why
		return e
	}
	cause := cl.last
	if cause == nil { // no attempt ended: the context ended first
		cause = cl.r.templatedErr(err)
	}
	switch {
	case why == nil:
	case errors.Is(cause, why):
	case len(cl.attempts) == 0: // the limiter refused the first attempt
	case errors.Is(why, context.Canceled) || errors.Is(why, context.DeadlineExceeded) || refused != nil:
		cause = fmt.Errorf("%w (last attempt: %w)", why, cause)
	}
	te := &TransportError{Method: cl.r.method, Path: cl.r.route, IdempotencyKey: cl.r.key,
		Attempts: cl.attempts, Err: cl.c.scrubErr(cause), temporary: retry.Retryable(cl.failure)}
	if n := len(cl.attempts); n > 0 {
		te.StatusCode = cl.attempts[n-1].StatusCode
	}
	return te
}

// apiError builds the error for a non-2xx answer, scrubbed of the key.
func (c *Client) apiError(a *answer, key string) *APIError {
	e := &APIError{
		StatusCode:     a.status,
		RequestID:      a.header.Get("X-Request-Id"),
		IdempotencyKey: key,
	}
	if v := a.header.Get("Retry-After"); v != "" {
		e.RetryAfter, e.retryAfterSet = retry.ParseAfter(v, c.clock.Now())
	}
	e.decodeBody(a.body)
	c.scrub(e)
	return e
}

func (c *Client) logAttempt(ctx context.Context, r *request, n int, a Attempt, retrying bool) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("method", r.method),
		slog.String("path", r.route),
		slog.Int("attempt", n),
		slog.Int("status", a.StatusCode),
	)
	if r.key != "" {
		attrs = append(attrs, slog.String("idempotency_key", r.key))
	}
	if a.Err != nil {
		attrs = append(attrs, slog.String("error", redact.Secret(a.Err.Error(), c.cred.key)))
	}
	if retrying {
		attrs = append(attrs, slog.Bool("retrying", true), slog.Duration("wait", a.Wait))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "sendivent request", attrs...)
}

// templatedErr is err, an attempt that got no answer, with the request's
// path and query named by its route template, as TransportError.Path names
// them: a path may name a contact (an email, a phone number) and a query
// hold a search, and net/http's errors quote the URL. A *url.Error stays
// one (its URL templated, its cause kept), so errors.As and errors.Is see
// what they saw.
func (r *request) templatedErr(err error) error {
	if err == nil || (r.path == r.route && len(r.query) == 0) {
		return err
	}
	switch e := err.(type) {
	case *url.Error:
		return &url.Error{Op: e.Op, URL: r.templated(e.URL), Err: r.templatedErr(e.Err)}
	case *attemptTimeout:
		return &attemptTimeout{err: r.templatedErr(e.err)}
	}
	if msg := err.Error(); r.templated(msg) != msg {
		return &scrubbedError{msg: r.templated(msg), is: contextErrs(err)}
	}
	return err
}

// templated is msg with the request's path and query replaced by its route
// template.
func (r *request) templated(msg string) string {
	if len(r.query) > 0 {
		msg = strings.ReplaceAll(msg, r.path+"?"+r.query.Encode(), r.route)
	}
	if r.path != r.route {
		msg = strings.ReplaceAll(msg, r.path, r.route)
	}
	return msg
}

// sleep waits d on the client's clock, or until ctx ends.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	return clock.Sleep(ctx, c.clock, d)
}
