package sendiventtest

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/webhook"
)

// Webhook deliveries: as a message moves, the server POSTs a signed event
// to the endpoint, each in its own goroutine, retrying a failure after a
// backoff of the fake's time. The events of one message go out in order:
// each waits until the one before has ended.

// WebhookAttempts is how many times the server tries to deliver one event:
// a non-2xx answer or no answer is tried again after 1 s, 5 s, then 25 s of
// the fake's time (1, 5 and 25 ms at the default time scale).
const WebhookAttempts = 4

// webhookBackoff are the waits before the second, third and fourth
// attempts, in the fake's time.
var webhookBackoff = [WebhookAttempts - 1]time.Duration{time.Second, 5 * time.Second, 25 * time.Second}

// webhookTimeout bounds one attempt over the network, in real time: an
// application's handler under the race detector may be slow.
const webhookTimeout = 10 * time.Second

// maxHookAnswer caps how much of an endpoint's answer is read.
const maxHookAnswer = 64 << 10

// WebhookDelivery is the record of one attempt to deliver an event.
type WebhookDelivery struct {
	// Event is the event sent: its Raw is the signed body, its WebhookID
	// this attempt's X-Sendivent-Webhook-Id. Raw is shared: do not modify.
	Event          webhook.Event
	NotificationID string // the notification whose message the event is about
	URL            string // where it went
	Attempt        int    // 1 for the first try, up to WebhookAttempts
	// StatusCode is the endpoint's answer; 0 when none came.
	StatusCode int
	// Err is why no answer came: a connection error, the time-out, a panic
	// in an in-process handler, or the server's Close or Reset.
	Err  error
	Time time.Time // when the attempt ended
}

// OK reports whether the endpoint took the event: a 2xx answer.
func (d WebhookDelivery) OK() bool { return d.Err == nil && d.StatusCode >= 200 && d.StatusCode < 300 }

// hookState is the server's webhook endpoint and deliveries. Fields are
// guarded by Server.mu, except wg and client.
type hookState struct {
	initial *hookEndpoint // what the options (or SetWebhookHandler) configured; Reset restores it
	ep      *hookEndpoint // nil when the application has none
	handler http.Handler  // WithWebhookHandler's or SetWebhookHandler's, for deliveries to handlerURL
	client  *http.Client  // for deliveries over the network
	wg      sync.WaitGroup

	ctx        context.Context // ends with Reset and Close
	cancel     context.CancelFunc
	gen        uint64 // Reset's count: a delivery of an older one is not recorded
	deliveries []WebhookDelivery
	pending    int                      // deliveries not yet ended
	idle       chan struct{}            // closed when pending drops to 0
	tails      map[string]chan struct{} // per message: closed when its last queued delivery ends
}

// initHooks sets up s.hooks from the options; NewServer panics on its error.
func (s *Server) initHooks(o *hookOption) error {
	h := &s.hooks
	if o != nil {
		ep, err := newHookEndpoint(o)
		if err != nil {
			return err
		}
		h.initial, h.handler = ep, o.handler
	}
	h.client = &http.Client{
		Transport: &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: 8, IdleConnTimeout: 30 * time.Second},
		// A redirect is an answer that is not 2xx, as for the service.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       webhookTimeout,
	}
	h.resetLocked()
	return nil
}

// resetLocked cancels the deliveries in flight and restores the endpoint
// of the options.
func (h *hookState) resetLocked() {
	if h.cancel != nil {
		h.cancel()
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.gen++
	h.deliveries, h.tails, h.ep = nil, map[string]chan struct{}{}, nil
	if h.initial != nil {
		ep := *h.initial
		ep.events = slices.Clone(ep.events)
		h.ep = &ep
	}
}

// hookJob is one event on its way to the endpoint.
type hookJob struct {
	ctx          context.Context
	gen          uint64
	ev           webhook.Event
	notification string
	url, secret  string
	handler      http.Handler // nil: over the network
	message      string
	prev, done   chan struct{}
}

// hasReceipts reports whether a channel's provider confirms delivery: the
// others only ever get delivery.sent.
func hasReceipts(ch sendivent.Channel) bool {
	return ch != sendivent.ChannelSlack && ch != sendivent.ChannelDiscord && ch != sendivent.ChannelPush
}

// webhookLocked queues the event of typ about message m of n for the
// endpoint, if there is one, active and subscribed to typ.
func (s *Server) webhookLocked(n *notification, m *message, typ webhook.EventType) {
	h := &s.hooks
	ep := h.ep
	if s.closed || ep == nil || !ep.active || !slices.Contains(ep.events, typ) {
		return
	}
	if typ == webhook.DeliveryDelivered && !hasReceipts(m.channel) {
		return
	}
	ev := webhook.Event{
		Type: typ, RequestID: n.requestID, Timestamp: stamp(),
		Delivery: webhook.Delivery{
			UUID: m.id, Channel: string(m.channel), Status: string(m.status), EventName: n.event,
			MessageID: "fake-" + m.id, SentAt: deref(m.sentAt), DeliveredAt: deref(m.deliveredAt),
		},
	}
	switch typ {
	case webhook.DeliveryFailed:
		ev.Delivery.Error = &webhook.DeliveryError{Code: "SEND_FAILED", Message: m.err}
	case webhook.DeliveryBounced:
		ev.Delivery.Error = &webhook.DeliveryError{Code: "HARD_BOUNCE", Message: m.err}
	}
	ev.Raw = mustJSON(ev)
	j := &hookJob{
		ctx: h.ctx, gen: h.gen, ev: ev, notification: n.id, url: ep.url, secret: ep.secret,
		message: m.id, prev: h.tails[m.id], done: make(chan struct{}),
	}
	if ep.url == handlerURL {
		j.handler = h.handler
	}
	h.tails[m.id] = j.done
	if h.pending++; h.pending == 1 {
		h.idle = make(chan struct{})
	}
	h.wg.Add(1)
	go s.deliver(j)
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// deliver tries j until the endpoint takes it, the attempts run out, or
// the server resets or closes.
func (s *Server) deliver(j *hookJob) {
	defer s.hooks.wg.Done()
	defer s.endJob(j)
	if j.prev != nil {
		select {
		case <-j.prev:
		case <-j.ctx.Done():
			return
		}
	}
	for attempt := 1; j.ctx.Err() == nil; attempt++ {
		d := s.attempt(j, attempt)
		s.mu.Lock()
		if j.gen == s.hooks.gen {
			s.keepDeliveryLocked(d)
		}
		s.mu.Unlock()
		if d.OK() || attempt == WebhookAttempts || !s.sleep(j.ctx, s.scaled(webhookBackoff[attempt-1])) {
			return
		}
	}
}

// endJob lets the message's next event go and counts j out.
func (s *Server) endJob(j *hookJob) {
	s.mu.Lock()
	defer s.mu.Unlock()
	close(j.done)
	h := &s.hooks
	if j.gen == h.gen && h.tails[j.message] == j.done {
		delete(h.tails, j.message)
	}
	if h.pending--; h.pending == 0 {
		close(h.idle)
	}
}

// attempt makes one delivery of j, signed now, with a fresh attempt id.
func (s *Server) attempt(j *hookJob, n int) WebhookDelivery {
	d := WebhookDelivery{Event: j.ev, NotificationID: j.notification, URL: j.url, Attempt: n}
	d.Event.WebhookID = "wha_" + randHex(12)
	ctx, cancel := context.WithTimeout(j.ctx, webhookTimeout)
	defer cancel()
	r, err := webhook.NewRequest(ctx, j.url, j.ev.Raw, j.secret, time.Now())
	if err == nil {
		r.Header.Set(webhook.WebhookIDHeader, d.Event.WebhookID)
		if j.handler != nil {
			d.StatusCode, err = serveInProcess(j.handler, r)
		} else {
			d.StatusCode, err = s.post(r)
		}
	}
	d.Err, d.Time = err, time.Now().UTC()
	return d
}

// post sends r over the network and reads the answer, so that the
// connection can serve the next delivery.
func (s *Server) post(r *http.Request) (int, error) {
	resp, err := s.hooks.client.Do(r)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxHookAnswer))
	return resp.StatusCode, nil
}

// serveInProcess calls h as net/http would, recovering a panic as
// net/http does, into an attempt with no answer.
func serveInProcess(h http.Handler, r *http.Request) (status int, err error) {
	r.RequestURI = r.URL.RequestURI()
	r.RemoteAddr = "192.0.2.1:443" // TEST-NET-1: the service's address, as the handler sees it
	w := httptest.NewRecorder()
	defer func() {
		if p := recover(); p != nil {
			status, err = 0, fmt.Errorf("sendiventtest: the webhook handler panicked: %v", p)
		}
	}()
	h.ServeHTTP(w, r)
	return w.Result().StatusCode, nil
}

// WebhookDeliveries returns a record of every delivery attempt since the
// server started (or was Reset), in the order they ended.
func (s *Server) WebhookDeliveries() []WebhookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hooks.deliveries)
}

// WaitWebhooks waits until no webhook delivery is in flight or waiting to
// retry, or ctx ends. Call it after a notification has ended and before
// asserting on what the endpoint received: deliveries run in the
// background, and Close cancels those still going.
func (s *Server) WaitWebhooks(ctx context.Context) error {
	s.mu.Lock()
	idle := s.hooks.idle
	busy := s.hooks.pending > 0
	s.mu.Unlock()
	if !busy {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
