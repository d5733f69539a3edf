package webhook

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Handler returns an http.Handler that receives deliveries: it verifies
// each as [Verify] does and calls fn with the event once per event, however
// often the service delivers it. Its answers:
//
//   - 405, with Allow: POST, to any other method;
//   - 413 to a body over the cap ([WithMaxBodyBytes]), read no further;
//   - 400 to a request that fails verification, or whose body could not be
//     read; fn is not called;
//   - 204 when fn returns nil, and 200 to a repeat of a handled event;
//   - 500 when fn returns an error, so that the service retries; the
//     error's text is logged ([WithLogger]), never sent;
//   - 503, with Retry-After, to a repeat of an event being handled right
//     now, and when the [Deduper] cannot be reached: fn is not called, and
//     the service tries again later.
//
// Repeats are recognised by [Event.DedupeKey] in the [Deduper] of
// [WithDeduper] (by default an in-memory one). A failed fn leaves the
// event unhandled, so the service's retry calls fn again; so does one that
// panics (the panic goes on to net/http, which drops the connection). When
// fn succeeded but the Deduper could not record it, the answer is still
// 204 and the failure is logged at Error: a later delivery of that event
// would run fn again.
//
// The body is read as it arrives, never past the cap, and memory grows
// with the bytes received, not with what Content-Length declares. A peer
// that sends slowly holds its request until the server's timeouts end it:
// serve the handler from an http.Server with ReadHeaderTimeout and
// ReadTimeout set.
//
// fn gets the request's context, which ends when the peer hangs up (with
// [WithObserver], the context the observer's DeliveryStart returned, a
// child of it). The event's Raw is the body, which fn may keep.
//
// Handler panics if it has no non-empty secret or fn is nil: those are
// mistakes in the program, better found at start-up than as 500s.
func Handler(secret string, fn func(ctx context.Context, ev *Event) error, opts ...Option) http.Handler {
	c := newConfig(secret, opts)
	if len(c.secrets) == 0 {
		panic("webhook: Handler needs a non-empty signing secret")
	}
	if fn == nil {
		panic("webhook: Handler needs a function")
	}
	if !c.dedupeSet {
		c.deduper = &MemoryDeduper{}
	}
	if c.logger == nil {
		c.logger = slog.New(discard{})
	}
	return &handler{c: c, fn: fn}
}

type handler struct {
	c  *config
	fn func(ctx context.Context, ev *Event) error
}

// retryAfter is the Retry-After of a 503: the event is being handled
// elsewhere, or the Deduper is out of reach, for a few seconds.
const retryAfter = "5"

// ServeHTTP receives, then delivers: each step decides its own answer.
// Without an observer it does nothing more.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.c.observer != nil {
		h.serveObserved(w, r)
		return
	}
	h.serve(r.Context(), w, r, nil)
}

// serveObserved is serve between the observer's hooks.
func (h *handler) serveObserved(w http.ResponseWriter, r *http.Request) {
	ctx, ob := h.startDelivery(r)
	defer ob.finish() // deferred, to report a panic too
	h.serve(ctx, w, r, ob)
	ob.returned = true
}

// serve receives, then delivers, under ctx: the request's, or the
// observer's (ob is nil without one).
func (h *handler) serve(ctx context.Context, w http.ResponseWriter, r *http.Request, ob *observation) {
	ev, code, err := h.receive(ctx, w, r)
	ob.verified(ev, code, err)
	if ev == nil {
		reply(w, code)
		return
	}
	h.deliver(ctx, w, ev, ob)
}

// receive reads and verifies the request. It returns the event, or nil,
// the status to answer and why; it logs why it refused.
func (h *handler) receive(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Event, int, error) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, http.StatusMethodNotAllowed, errMethod
	}
	log := h.c.logger
	if r.ContentLength > h.c.maxBody {
		log.WarnContext(ctx, "webhook: body too large", "content_length", r.ContentLength, "cap", h.c.maxBody)
		return nil, readNoFurther(w), ErrBodyTooLarge
	}
	// io.ReadAll grows its buffer with what arrives. MaxBytesReader stops
	// at the cap and has net/http close the connection unread.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.c.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			log.WarnContext(ctx, "webhook: body too large", "cap", h.c.maxBody)
			return nil, readNoFurther(w), ErrBodyTooLarge
		}
		log.WarnContext(ctx, "webhook: reading the body", "err", err)
		return nil, http.StatusBadRequest, errUnreadable
	}
	ev, err := h.c.verify(body, r.Header)
	if err != nil {
		log.WarnContext(ctx, "webhook: refused", "err", err, "webhook_id", headerValue(r.Header, WebhookIDHeader))
		return nil, http.StatusBadRequest, err
	}
	return ev, 0, nil
}

// readNoFurther closes the connection of a body over the cap after the
// answer, and ends its reading now: net/http would otherwise read up to
// 256 KiB more of it, to reuse the connection. It returns 413.
func readNoFurther(w http.ResponseWriter) int {
	w.Header().Set("Connection", "close")
	_ = http.NewResponseController(w).SetReadDeadline(time.Now()) // unsupported by a test's recorder: nothing to end
	return http.StatusRequestEntityTooLarge
}

// deliver calls fn once per event, as the Deduper allows, and answers.
func (h *handler) deliver(ctx context.Context, w http.ResponseWriter, ev *Event, ob *observation) {
	key := ev.DedupeKey()
	if h.c.deduper == nil || key == "" {
		h.call(ctx, w, ev, ob)
		return
	}
	res, lease, err := h.c.deduper.Claim(ctx, key)
	switch {
	case err != nil && ctx.Err() != nil:
		h.log(ctx, slog.LevelInfo, "webhook: the peer left while the event was claimed", ev, "err", err)
		ob.answered(http.StatusServiceUnavailable, OutcomeFailed, "canceled")
		reply(w, http.StatusServiceUnavailable)
		return
	case err == nil && res == Acquired && lease == nil:
		err = errors.New("webhook: the Deduper's Claim returned Acquired without a Lease")
		fallthrough
	case err != nil:
		h.log(ctx, slog.LevelError, "webhook: dedupe store unreachable; answered 503 so that the service retries", ev, "err", err)
		ob.answered(http.StatusServiceUnavailable, OutcomeFailed, "dedupe_store")
		w.Header().Set("Retry-After", retryAfter)
		reply(w, http.StatusServiceUnavailable)
		return
	}
	ob.claimed(res)
	switch {
	case res == AlreadyDone:
		h.log(ctx, slog.LevelDebug, "webhook: repeat of a handled event", ev)
		ob.answered(http.StatusOK, OutcomeDuplicate, "")
		reply(w, http.StatusOK)
		return
	case res != Acquired:
		h.log(ctx, slog.LevelInfo, "webhook: repeat of an event being handled", ev)
		ob.answered(http.StatusServiceUnavailable, OutcomeInProgress, "")
		w.Header().Set("Retry-After", retryAfter)
		reply(w, http.StatusServiceUnavailable)
		return
	}
	// The lease's steps outlive the peer: a hang-up must not leave the
	// event claimed, nor a handled event unrecorded.
	store := context.WithoutCancel(ctx)
	handled := false
	defer func() { // deferred, to run when fn panics too
		if !handled {
			if err := lease.Release(store); err != nil {
				ob.dedupeFailed("not_released")
				h.log(ctx, slog.LevelError, "webhook: dedupe store: the event stays claimed until its lease ends", ev, "err", err)
			}
		}
	}()
	if handled = h.call(ctx, w, ev, ob); handled {
		switch err := lease.Complete(store); {
		case errors.Is(err, ErrClaimLost):
			ob.dedupeFailed("claim_lost")
			h.log(ctx, slog.LevelError, "webhook: event handled, but its claim had lapsed: another delivery may have run it too", ev, "err", err)
		case err != nil:
			ob.dedupeFailed("not_recorded")
			h.log(ctx, slog.LevelError, "webhook: event handled but not recorded: a later delivery of it would run it again", ev, "err", err)
		}
	}
}

// call runs fn and answers (the answer leaves when ServeHTTP returns); it
// reports whether fn succeeded.
func (h *handler) call(ctx context.Context, w http.ResponseWriter, ev *Event, ob *observation) bool {
	ob.calling()
	err := h.fn(ctx, ev)
	ob.called()
	if err != nil {
		h.log(ctx, slog.LevelError, "webhook: handler failed", ev, "err", err)
		ob.answered(http.StatusInternalServerError, OutcomeFailed, "callback_error")
		reply(w, http.StatusInternalServerError)
		return false
	}
	ob.answered(http.StatusNoContent, OutcomeHandled, "")
	w.WriteHeader(http.StatusNoContent)
	return true
}

// log logs msg about ev, naming the event, its delivery and the attempt.
// It builds nothing when the logger would drop the record.
func (h *handler) log(ctx context.Context, level slog.Level, msg string, ev *Event, args ...any) {
	if !h.c.logger.Enabled(ctx, level) {
		return
	}
	args = append([]any{"event", ev.Type, "delivery", ev.Delivery.UUID, "webhook_id", ev.WebhookID}, args...)
	h.c.logger.Log(ctx, level, msg, args...)
}

// reply answers with the status's own text, never an error's.
func reply(w http.ResponseWriter, code int) {
	http.Error(w, http.StatusText(code), code)
}

// discard is a slog.Handler that drops everything (slog.DiscardHandler is
// Go 1.24).
type discard struct{}

func (discard) Enabled(context.Context, slog.Level) bool  { return false }
func (discard) Handle(context.Context, slog.Record) error { return nil }
func (d discard) WithAttrs([]slog.Attr) slog.Handler      { return d }
func (d discard) WithGroup(string) slog.Handler           { return d }
