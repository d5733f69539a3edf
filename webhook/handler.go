package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/sendivent/sendivent-go/internal/wire"
)

// Handler returns an http.Handler that receives deliveries: it verifies
// each as [Verify] does and calls fn with the event once per event, however
// often the service delivers it. Its answers:
//
//   - 405, with Allow: POST, to any other method;
//   - 413 to a body over the cap ([WithMaxBodyBytes]), read no further;
//   - 400 to a request that fails verification; fn is not called;
//   - 204 when fn returns nil, and 200 to a repeat of a handled event;
//   - 500 when fn returns an error, so that the service retries; the
//     error's text is logged ([WithLogger]), never sent;
//   - 503 to a repeat of an event being handled right now, so that the
//     service retries it later.
//
// Repeats are recognised by [Event.DedupeKey] in the [Deduper] of
// [WithDeduper] (by default an in-memory one). A failed fn leaves the
// event unhandled, so the service's retry calls fn again; so does one that
// panics (the panic goes on to net/http, which drops the connection).
//
// fn gets the request's context. The event's Raw is the body, which fn may
// keep.
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

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(w, http.StatusMethodNotAllowed)
		return
	}
	log := h.c.logger
	if r.ContentLength > h.c.maxBody {
		log.Warn("webhook: body too large", "content_length", r.ContentLength, "cap", h.c.maxBody)
		reply(w, http.StatusRequestEntityTooLarge)
		return
	}
	size := max(r.ContentLength, 0) + 1 // +1: EOF needs no second buffer
	body, err := wire.ReadAll(make([]byte, 0, min(size, h.c.maxBody+1)), r.Body, h.c.maxBody)
	switch {
	case errors.Is(err, wire.ErrTooLarge):
		log.Warn("webhook: body too large", "cap", h.c.maxBody)
		reply(w, http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		log.Warn("webhook: reading the body", "err", err)
		reply(w, http.StatusBadRequest)
		return
	}
	ev, err := h.c.verify(body, r.Header)
	if err != nil {
		log.Warn("webhook: refused", "err", err, "webhook_id", headerValue(r.Header, WebhookIDHeader))
		reply(w, http.StatusBadRequest)
		return
	}
	log = log.With("event", ev.Type, "delivery", ev.Delivery.UUID, "webhook_id", ev.WebhookID)
	key := ev.DedupeKey()
	if h.c.deduper == nil || key == "" {
		h.call(w, r, log, ev)
		return
	}
	// The store's steps outlive the peer: a hang-up must not leave the
	// event claimed, nor a handled event unrecorded.
	ctx := context.WithoutCancel(r.Context())
	claim, err := h.c.deduper.Claim(ctx, key)
	switch {
	case err != nil:
		log.Error("webhook: dedupe store", "err", err)
		reply(w, http.StatusInternalServerError)
		return
	case claim == AlreadyDone:
		log.Debug("webhook: repeat of a handled event")
		reply(w, http.StatusOK)
		return
	case claim == InProgress:
		log.Info("webhook: repeat of an event being handled")
		w.Header().Set("Retry-After", "5")
		reply(w, http.StatusServiceUnavailable)
		return
	}
	handled := false
	defer func() { // deferred, to run when fn panics too
		if !handled {
			if err := h.c.deduper.Release(ctx, key); err != nil {
				log.Error("webhook: dedupe store", "err", err)
			}
		}
	}()
	if handled = h.call(w, r, log, ev); handled {
		if err := h.c.deduper.Complete(ctx, key); err != nil {
			log.Error("webhook: dedupe store: event handled but not recorded", "err", err)
		}
	}
}

// call runs fn and answers (the answer leaves when ServeHTTP returns); it
// reports whether fn succeeded.
func (h *handler) call(w http.ResponseWriter, r *http.Request, log *slog.Logger, ev *Event) bool {
	if err := h.fn(r.Context(), ev); err != nil {
		log.Error("webhook: handler failed", "err", err)
		reply(w, http.StatusInternalServerError)
		return false
	}
	w.WriteHeader(http.StatusNoContent)
	return true
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
