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
// fn gets the request's context, which ends when the peer hangs up. The
// event's Raw is the body, which fn may keep.
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
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, code := h.receive(w, r)
	if ev == nil {
		reply(w, code)
		return
	}
	h.deliver(w, r, ev)
}

// receive reads and verifies the request. It returns the event, or nil and
// the status to answer; it logs why it refused.
func (h *handler) receive(w http.ResponseWriter, r *http.Request) (*Event, int) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, http.StatusMethodNotAllowed
	}
	log := h.c.logger
	if r.ContentLength > h.c.maxBody {
		log.Warn("webhook: body too large", "content_length", r.ContentLength, "cap", h.c.maxBody)
		return nil, readNoFurther(w)
	}
	// io.ReadAll grows its buffer with what arrives. MaxBytesReader stops
	// at the cap and has net/http close the connection unread.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.c.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			log.Warn("webhook: body too large", "cap", h.c.maxBody)
			return nil, readNoFurther(w)
		}
		log.Warn("webhook: reading the body", "err", err)
		return nil, http.StatusBadRequest
	}
	ev, err := h.c.verify(body, r.Header)
	if err != nil {
		log.Warn("webhook: refused", "err", err, "webhook_id", headerValue(r.Header, WebhookIDHeader))
		return nil, http.StatusBadRequest
	}
	return ev, 0
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
func (h *handler) deliver(w http.ResponseWriter, r *http.Request, ev *Event) {
	key := ev.DedupeKey()
	if h.c.deduper == nil || key == "" {
		h.call(w, r, ev)
		return
	}
	ctx := r.Context()
	res, lease, err := h.c.deduper.Claim(ctx, key)
	switch {
	case err != nil && ctx.Err() != nil:
		h.log(ctx, slog.LevelInfo, "webhook: the peer left while the event was claimed", ev, "err", err)
		reply(w, http.StatusServiceUnavailable)
		return
	case err == nil && res == Acquired && lease == nil:
		err = errors.New("webhook: the Deduper's Claim returned Acquired without a Lease")
		fallthrough
	case err != nil:
		h.log(ctx, slog.LevelError, "webhook: dedupe store unreachable; answered 503 so that the service retries", ev, "err", err)
		w.Header().Set("Retry-After", retryAfter)
		reply(w, http.StatusServiceUnavailable)
		return
	case res == AlreadyDone:
		h.log(ctx, slog.LevelDebug, "webhook: repeat of a handled event", ev)
		reply(w, http.StatusOK)
		return
	case res != Acquired:
		h.log(ctx, slog.LevelInfo, "webhook: repeat of an event being handled", ev)
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
				h.log(ctx, slog.LevelError, "webhook: dedupe store: the event stays claimed until its lease ends", ev, "err", err)
			}
		}
	}()
	if handled = h.call(w, r, ev); handled {
		switch err := lease.Complete(store); {
		case errors.Is(err, ErrClaimLost):
			h.log(ctx, slog.LevelError, "webhook: event handled, but its claim had lapsed: another delivery may have run it too", ev, "err", err)
		case err != nil:
			h.log(ctx, slog.LevelError, "webhook: event handled but not recorded: a later delivery of it would run it again", ev, "err", err)
		}
	}
}

// call runs fn and answers (the answer leaves when ServeHTTP returns); it
// reports whether fn succeeded.
func (h *handler) call(w http.ResponseWriter, r *http.Request, ev *Event) bool {
	if err := h.fn(r.Context(), ev); err != nil {
		h.log(r.Context(), slog.LevelError, "webhook: handler failed", ev, "err", err)
		reply(w, http.StatusInternalServerError)
		return false
	}
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
