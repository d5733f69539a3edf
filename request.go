package sendivent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/sendivent/sendivent-go/internal/alarm"
	"github.com/sendivent/sendivent-go/internal/retry"
	"github.com/sendivent/sendivent-go/internal/wire"
)

// call is one logical request and what its attempts found. It is also the
// request's context, for two reasons: checkRetry, which runs after every
// attempt, gets only the context; and each attempt is bounded through it.
// An attempt runs under inner, a child of the caller's context that the
// attempt's alarm cancels when the timeout passes; net/http hangs its own
// context off inner at no extra cost (inner is a plain cancelCtx and the
// call reports its Done and Value), and stops the attempt, reading of the
// body included, when inner ends. A cut attempt's inner is spent, so the
// next attempt gets a fresh one.
type call struct {
	parent        context.Context // the caller's
	method, route string
	path          string // escaped, after the base URL's path
	body          []byte // not pooled: the transport may read it after an attempt ends
	key           string // X-Idempotency-Key, if any
	keyHeader     [1]string
	out           decoder         // reads a 2xx body; nil for none
	readers       [4]bytes.Reader // see nextBody
	nbody         atomic.Int32

	// The attempt's bound. mu guards inner, cancel, seq, active, cut and
	// timeout, which net/http's goroutines and the alarm's read.
	mu      sync.Mutex
	inner   context.Context // nil before begin; ended after finish
	cancel  context.CancelCauseFunc
	seq     uint64 // the attempt's number, the alarm's token
	active  bool
	cut     bool // the attempt's alarm rang
	alarm   *alarm.Alarm
	timeout time.Duration

	attempts   []Attempt
	first      [3]Attempt // attempts' storage for the usual call
	status     int
	header     http.Header
	resp       []byte // the last answer's body, in a pooled buffer
	readErr    error  // why the last body is unusable, if it is
	retryAfter time.Duration
	stop       error // why retries stopped early
}

type callKey struct{}

func (cl *call) ctx() context.Context {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.inner != nil {
		return cl.inner
	}
	return cl.parent
}

// Deadline is the caller's.
func (cl *call) Deadline() (time.Time, bool) { return cl.parent.Deadline() }

// Done is the current attempt's.
func (cl *call) Done() <-chan struct{} { return cl.ctx().Done() }

// Err is the current attempt's. The SDK's own code asks cl.parent instead.
func (cl *call) Err() error { return cl.ctx().Err() }

// Value makes the call findable from the request's context, and the
// attempt's context findable by net/http's.
func (cl *call) Value(k any) any {
	if k == (callKey{}) {
		return cl
	}
	return cl.ctx().Value(k)
}

// begin makes the first attempt's context. It is made before any attempt
// starts, so that a context derived from the call's on the way to the
// transport (an http.Client with a Timeout makes one) is derived from it.
func (cl *call) begin(ctx context.Context) {
	cl.parent = ctx
	cl.inner, cl.cancel = context.WithCancelCause(ctx)
}

// startAttempt bounds the attempt about to start by timeout, unless the
// caller's deadline comes first. A redirect's request is part of the attempt
// that got the redirect, under the same bound: it fails at once if the
// attempt was cut meanwhile.
func (cl *call) startAttempt(timeout time.Duration) {
	cl.mu.Lock()
	if cl.active {
		cl.mu.Unlock()
		return
	}
	cl.seq++
	cl.active, cl.cut = true, false
	cl.timeout = timeout
	seq := cl.seq
	cl.mu.Unlock()
	if dl, ok := cl.parent.Deadline(); ok && time.Until(dl) <= timeout {
		return
	}
	cl.alarm = alarm.Set(timeout, cl, seq)
}

// Ring ends attempt seq, if it is still running.
func (cl *call) Ring(seq uint64) {
	cl.mu.Lock()
	if seq != cl.seq || !cl.active || cl.cut {
		cl.mu.Unlock()
		return
	}
	cl.cut = true
	cancel, after := cl.cancel, cl.timeout
	cl.mu.Unlock()
	cancel(&attemptTimeout{after: after})
}

// endAttempt stops the attempt's alarm and reports whether it rang.
func (cl *call) endAttempt() bool {
	if cl.alarm != nil {
		cl.alarm.Stop()
		cl.alarm = nil
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	cut := cl.active && cl.cut
	if cl.cut { // spent: the next attempt gets a fresh one
		cl.inner, cl.cancel = context.WithCancelCause(cl.parent)
		cl.cut = false
	}
	cl.active = false
	return cut
}

// finish ends the call's last attempt and its context, which releases it
// from the caller's. Anything of net/http's still watching sees it ended.
func (cl *call) finish() {
	cl.endAttempt()
	cl.mu.Lock()
	cancel := cl.cancel
	cl.cancel = nil
	cl.mu.Unlock()
	if cancel != nil {
		cancel(nil)
	}
}

// attemptTimeout is why an attempt that ran past WithTimeout ended. Like
// net/http's own time-outs, it is a net.Error and matches
// context.DeadlineExceeded.
type attemptTimeout struct{ after time.Duration }

func (e *attemptTimeout) Error() string {
	return "attempt timed out after " + e.after.String()
}
func (e *attemptTimeout) Timeout() bool        { return true }
func (e *attemptTimeout) Temporary() bool      { return true }
func (e *attemptTimeout) Is(target error) bool { return target == context.DeadlineExceeded }

// nextBody gives each use of the body (retryablehttp's length probe, each
// attempt, a resend by the transport) a reader of its own over the one
// encoded body, since the transport may still read an attempt's body after
// the attempt ended. The readers live in the call for the usual number of
// uses. They are plain *bytes.Reader values: net/http writes those with
// their headers in one write, but flushes the headers first for a reader
// type it does not know.
func (cl *call) nextBody() (io.Reader, error) {
	var r *bytes.Reader
	if i := int(cl.nbody.Add(1)) - 1; i < len(cl.readers) {
		r = &cl.readers[i]
	} else {
		r = new(bytes.Reader)
	}
	r.Reset(cl.body)
	return r, nil
}

// decoder reads a 2xx answer into a call's result. It runs as soon as the
// body is read, so an answer that does not decode is retried like a broken
// connection (idempotent calls make that safe).
type decoder interface {
	decode(body []byte) error
}

var (
	contentTypeJSON = []string{"application/json"}
)

// do runs a call through the retry client and returns its error, if any;
// on success cl.out holds the answer.
func (c *Client) do(ctx context.Context, cl *call) error {
	cl.begin(ctx)
	defer cl.finish()
	cl.attempts = cl.first[:0]
	buf := wire.Get()
	cl.resp = buf.B[:0]
	defer func() {
		buf.B, cl.resp = cl.resp[:0], nil // keep what the buffer grew to
		wire.Put(buf)
	}()

	var body any
	if cl.body != nil {
		body = retryablehttp.ReaderFunc(cl.nextBody)
	}
	// The URL is the client's, parsed once, with the call's path: parsing
	// it again for every request costs more than the rest of building it.
	req, err := retryablehttp.NewRequestWithContext(cl, cl.method, "", body)
	if err != nil {
		return &TransportError{Method: cl.method, Path: cl.route, IdempotencyKey: cl.key, Err: err}
	}
	u := req.URL
	*u = c.baseURL
	u.RawPath = c.basePath + cl.path
	if u.Path, err = url.PathUnescape(u.RawPath); err != nil {
		return &TransportError{Method: cl.method, Path: cl.route, IdempotencyKey: cl.key, Err: err}
	}
	req.Host = u.Host
	h := req.Header
	h["Authorization"] = c.cred.auth
	h["User-Agent"] = c.userAgent
	if cl.body != nil {
		h["Content-Type"] = contentTypeJSON
	}
	if cl.key != "" {
		cl.keyHeader[0] = cl.key
		h["X-Idempotency-Key"] = cl.keyHeader[:]
	}
	resp, err := c.http.Do(req)
	if resp != nil && resp.Body != nil {
		resp.Body.Close() // checkRetry has read it; this is for the paths where it did not run
	}
	return c.outcome(ctx, cl, err)
}

// outcome turns what the attempts found into the call's error, or nil.
func (c *Client) outcome(ctx context.Context, cl *call, doErr error) error {
	n := len(cl.attempts)
	if n == 0 || cl.attempts[n-1].StatusCode == 0 || cl.readErr != nil {
		cause := doErr
		switch {
		case n > 0 && cl.readErr != nil:
			cause = cl.readErr
		case n > 0 && cl.attempts[n-1].Err != nil:
			cause = cl.attempts[n-1].Err
		}
		if cause == nil {
			cause = ctx.Err()
		}
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(cause, ctxErr) {
			cause = fmt.Errorf("%w (last attempt: %w)", ctxErr, cause)
		} else if cl.stop != nil {
			cause = fmt.Errorf("%w (%w)", cause, cl.stop)
		}
		te := &TransportError{Method: cl.method, Path: cl.route, IdempotencyKey: cl.key, Attempts: cl.attempts, Err: cause}
		if n > 0 {
			te.StatusCode = cl.attempts[n-1].StatusCode
		}
		return te
	}
	if cl.status >= 200 && cl.status < 300 {
		return nil
	}
	e := &APIError{
		StatusCode:     cl.status,
		RetryAfter:     cl.retryAfter,
		RequestID:      cl.header.Get("X-Request-Id"),
		IdempotencyKey: cl.key,
		Attempts:       cl.attempts,
		Err:            cl.stop,
	}
	e.decodeBody(append([]byte(nil), cl.resp...))
	if e.Err == nil && doErr != nil {
		e.Err = doErr // the context ended during a wait
	}
	c.scrub(e)
	return e
}

// checkRetry is called by retryablehttp after every attempt. It reads the
// body (so the connection goes back to the pool at once) and decodes a 2xx
// one, records the attempt, decides whether to try again and, if so, waits,
// unless the wait would pass the context's deadline.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	cl, _ := ctx.Value(callKey{}).(*call)
	if cl == nil { // not a request made by do
		return false, err
	}
	ctx = cl.parent // the attempt's context may be spent; the call's is not
	n := len(cl.attempts)
	a := Attempt{Err: err}
	again := false
	var after time.Duration
	hasAfter := false
	cl.readErr, cl.retryAfter = nil, 0
	if err != nil {
		// net/http reports a cut attempt with its cause; another transport
		// may say only that the context was canceled.
		if cl.endAttempt() && errors.Is(err, context.Canceled) && ctx.Err() == nil {
			a.Err = &attemptTimeout{after: cl.timeout}
		}
		again = retry.Error(err)
	} else {
		a.StatusCode = resp.StatusCode
		cl.status, cl.header = resp.StatusCode, resp.Header
		var rerr error
		cl.resp, rerr = wire.ReadAll(cl.resp[:0], resp.Body, c.maxBody)
		resp.Body.Close()
		resp.Body = http.NoBody
		if cl.endAttempt() && rerr != nil && rerr != wire.ErrTooLarge {
			rerr = &attemptTimeout{after: cl.timeout}
		}
		ok := resp.StatusCode >= 200 && resp.StatusCode < 300
		switch {
		case rerr == wire.ErrTooLarge && ok:
			cl.readErr = ErrTooLarge
		case rerr != nil && rerr != wire.ErrTooLarge && ok: // the connection broke mid-body
			a.Err, cl.readErr, again = rerr, rerr, true
		case ok:
			if cl.out != nil {
				if derr := cl.out.decode(cl.resp); derr != nil {
					m := malformed(derr, cl.resp)
					a.Err, cl.readErr, again = m, m, m.(*malformedError).cut
				}
			}
		default:
			// An error answer is classified by its status, even when its
			// body was cut short or at the cap.
			if rerr != nil && rerr != wire.ErrTooLarge {
				a.Err = rerr
			}
			again = retry.Status(resp.StatusCode)
			if resp.StatusCode == http.StatusConflict {
				again = retry.Conflict409(peekCode(cl.resp), resp.Header.Get("Retry-After") != "")
			}
		}
		if v := resp.Header.Get("Retry-After"); v != "" {
			after, hasAfter = retry.ParseAfter(v, c.clock.Now())
			cl.retryAfter = after
		}
	}
	cl.attempts = append(cl.attempts, a)
	if ctxErr := ctx.Err(); ctxErr != nil {
		c.logAttempt(ctx, cl, a, false, 0)
		return false, ctxErr
	}
	if !again || n >= c.maxRetries {
		c.logAttempt(ctx, cl, a, false, 0)
		return false, nil
	}
	wait := retry.Delay(n, c.jitter())
	if hasAfter {
		if after > c.maxRetryWait {
			c.logAttempt(ctx, cl, a, false, 0)
			return false, nil
		}
		wait = after
	}
	if dl, ok := ctx.Deadline(); ok && !c.clock.Now().Add(wait).Before(dl) {
		cl.stop = context.DeadlineExceeded
		c.logAttempt(ctx, cl, a, false, 0)
		return false, nil
	}
	cl.attempts[n].Wait = wait
	c.logAttempt(ctx, cl, a, true, wait)
	if err := c.clock.Sleep(ctx, wait); err != nil {
		return false, err
	}
	return true, nil
}

func (c *Client) logAttempt(ctx context.Context, cl *call, a Attempt, retrying bool, wait time.Duration) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("method", cl.method),
		slog.String("path", cl.route),
		slog.Int("attempt", len(cl.attempts)),
		slog.Int("status", a.StatusCode),
	)
	if cl.key != "" {
		attrs = append(attrs, slog.String("idempotency_key", cl.key))
	}
	if a.Err != nil {
		attrs = append(attrs, slog.String("error", a.Err.Error()))
	}
	if retrying {
		attrs = append(attrs, slog.Bool("retrying", true), slog.Duration("wait", wait))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "sendivent request", attrs...)
}

// peekCode reads the machine code of an error body, flat or nested.
func peekCode(body []byte) string {
	var e APIError
	e.decodeBody(body)
	return e.Code
}

// scrub removes the key from anything the server echoed into an error.
func (c *Client) scrub(e *APIError) {
	k := c.cred.key
	if bytes.Contains(e.Body, []byte(k)) {
		e.Body = bytes.ReplaceAll(e.Body, []byte(k), []byte("[redacted]"))
	}
	for _, s := range []*string{&e.Message, &e.Code, &e.Field, &e.Channel, &e.RequestID} {
		if strings.Contains(*s, k) {
			*s = strings.ReplaceAll(*s, k, "[redacted]")
		}
	}
}
