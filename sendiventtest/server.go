// Package sendiventtest is a fake of the Sendivent notifications API, for
// the tests of applications that use the SDK, for the SDK's own tests, and
// (through the sendivent command's "fake") for programs in any language.
//
// The recommended way, in a test, is New: it closes the server when the
// test ends and fails the test on what would break in production: a send to
// an event the test did not declare (a typo passes a lenient fake and 404s
// in production), and scripted faults that were never used.
//
//	func TestSignUp(t *testing.T) {
//		srv := sendiventtest.New(t, sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail)))
//		srv.Inject(sendiventtest.FailNext(1, 503)) // the service is briefly down
//		app := NewApp(srv.Client())
//		// ... exercise app, then:
//		n := srv.Notifications()[0]
//		// n.Status == sendivent.StatusCompleted, n.Recipient.Email == "alice@example.com"
//	}
//
// Fast by default: the fake's clock runs DefaultTimeScale (1000) times faster
// than real time. The clients that Client returns wait 1/1000 of the time
// the SDK decides (a Retry-After of 1 s waits 1 ms, Wait polls every
// millisecond) with the same decisions and the same errors; automatic
// lifecycle steps take DefaultStepDelay (1 ms); a Wait(time.Hour) step lasts
// 3.6 s. WithTimeScale(1) is real time; WithManualLifecycle lets the test
// move each notification itself.
//
// The server checks Bearer auth, validates bodies with the service's error
// answers, routes by the recipient's identifiers (or a forced channel),
// creates one notification per recipient (or per listener of the event, for
// a broadcast: see EventConfig), moves each through its lifecycle, cancels,
// replays idempotent requests, records every request, and injects scripted
// or random faults. Every Server is independent: parallel tests may each run
// their own.
//
// It also serves the rest of the API, as the service is described:
//
//   - contacts (/v1/contacts…): a store with the service's merge rule (an
//     upsert, or a send, updates the contact that any of its identifiers
//     matches, and creates one otherwise; a Slack channel is not a contact),
//     unknown fields kept in meta with camelCase keys, search over name,
//     email, phone and user id, pages of up to 100 with a total, push
//     tokens that add up (removing one the contact lacks succeeds), 404 for
//     an unknown contact. Server.Contacts shows the store.
//   - the events catalogue (/v1/events…): the declared events, their
//     channels and their templates (one English template per channel,
//     without content, for an event declared without any).
//   - deliveries (/v1/deliveries…): one per message, oldest first, with a
//     trace timeline (queued, sent, delivered or failed).
//   - integrations (/v1/integrations): see WithIntegrations.
//
// # Templates
//
// Events may carry templates (WithCatalog, EventConfig.Templates): with a
// TemplateEngine (WithTemplateEngine(templates.Handlebars()), from the
// module github.com/sendivent/sendivent-go/templates) the fake renders each
// message as it starts, with the send's payload, the contact and the system
// variables, into Notification.Rendered; a server made by New fails its
// test on a variable that nothing provides (see TemplateProblem).
//
// # Control endpoints
//
// Besides the API under /v1/, the server answers plain JSON control
// endpoints under /_fake/, without the API key, so that a program in another
// language can drive it. They give the same powers as the methods of
// Server; serve the fake on loopback or inside a test network only.
//
//	GET  /_fake/health                          {"status":"ok"}
//	GET  /_fake/notifications[?event=E]         {"notifications":[...]}
//	GET  /_fake/notifications/{id}              one notification
//	POST /_fake/notifications/{id}/advance      Advance; answers the notification
//	POST /_fake/notifications/{id}/deliver      Deliver
//	POST /_fake/notifications/{id}/complete     Complete
//	POST /_fake/notifications/{id}/fail         FailMessage, or SuppressMessage with
//	                                            {"error":"...","status":"suppressed"}
//	POST /_fake/advance                         AdvanceAll; {"moved":N}
//	GET  /_fake/requests[?endpoint=send]        {"requests":[...]} (no Authorization header)
//	GET  /_fake/faults                          {"faults":[...]}: the scripts still queued
//	POST /_fake/faults                          Inject one script, e.g.
//	                                            {"kind":"status","status":503,"count":2,"retry_after":"1","endpoint":"send"}
//	POST /_fake/reset                           Reset
//	GET  /_fake/webhooks/deliveries[?type=T]    {"deliveries":[...]}: WebhookDeliveries
//	POST /_fake/webhooks/wait                   WaitWebhooks, {"timeout":"5s"} at most
//	                                            (default 10s); 504 if still busy
//
// An error answers {"error": "...", "code": "..."}: 400 INVALID_REQUEST,
// 403 FORBIDDEN (a request from, or through, another site's web page: see
// The inbox), 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED, 409 TERMINAL,
// NO_MESSAGE_IN_FLIGHT or TOO_MANY_FAULTS (1000 scripts queued), 413
// TOO_LARGE (a body over 1 MiB), 415 UNSUPPORTED_MEDIA_TYPE (a POST body
// typed other than application/json), 504 TIMEOUT; 500 INTERNAL is a bug
// in the fake.
//
// # The inbox
//
// The server's root, / (http://127.0.0.1:8787/ for sendivent fake), is a
// web page: every notification held, newest first, each message as its
// channel shows it (an email with its subject, from, to and HTML or text
// body; an SMS as a phone's message; a push as a notification card; Slack,
// Telegram, WhatsApp and Discord as chat messages; the payload where the
// event has no template), live (a new send, a change of status, within a
// second), each opening to its timeline, the request that made it and its
// webhook deliveries, with buttons that call the control endpoints above
// and nothing else. Its files are embedded; its data, under /_inbox/, is
// the page's own and may change (programs use /_fake/). Nothing that a
// payload or a rendered message holds runs in the page: the page builds
// its DOM from text, an email's HTML is a sandboxed document of its own,
// and the page's Content-Security-Policy allows its own script only. No
// answer shows the API key or a webhook secret: "[redacted]" stands in
// their place.
//
// The page and the control endpoints take no key, so another site's page
// open in the developer's browser must not reach them. On a loopback
// address they answer only a Host that is localhost, a name under
// .localhost or a loopback address (DNS rebinding); a request that the
// browser says comes from another origin (Origin, Sec-Fetch-Site) is
// refused 403, except a plain visit of the page; and a POST's body, when
// it has a type, must be application/json, a type that another site's page
// can send only after a CORS preflight, which the fake never grants.
// Programs send no such header and are not affected; GET /_fake/health
// answers anyone.
//
// # What it keeps
//
// A server keeps the newest DefaultRetention (10,000) requests,
// notifications, idempotent answers, contacts and webhook delivery
// attempts, and at most RetainedBytes of request bodies and of payloads;
// older ones are dropped, while Stats and NotificationCount count
// everything. WithRetention changes the number, and says what a dropped
// notification answers. A request refused before its endpoint (a wrong key,
// an unknown route, a body over 1 MiB or not JSON) is recorded without its
// body.
//
// # Webhooks
//
// The server also plays the service's webhooks. Configure the endpoint
// through the API (client.Webhooks: POST, GET, PATCH and DELETE
// /v1/webhooks, a whsec_… secret in Create's answer, 409 on a second
// Create), at start with WithWebhook (a URL) or WithWebhookHandler (an
// http.Handler called in process, with no network), or once the
// application exists with Server.SetWebhookHandler. As a notification's
// messages move, the server POSTs signed events to it, made with package
// webhook as the service makes them, so the application's own
// webhook.Handler accepts them:
//
//	queued → sent          delivery.sent
//	sent → delivered       delivery.delivered (not for slack, discord and
//	                       push, whose providers confirm nothing)
//	FailMessage            delivery.failed, error code SEND_FAILED
//	SuppressMessage        delivery.bounced (HARD_BOUNCE) for an email,
//	                       delivery.failed for other channels
//
// Each event carries the request id of the send that made the notification
// (the X-Request-Id it answered, which SendResponse.RequestID holds), and
// the message's id as its delivery uuid. Each event goes out only if the
// endpoint is active and enables its type.
// Deliveries run in the background, those of one message in order; one
// that is not answered 2xx is tried again, WebhookAttempts in all, after
// backoffs of the fake's time. WebhookDeliveries records every attempt;
// WaitWebhooks waits until none is going, which a test does before its
// assertions:
//
//	const secret = "whsec_test"
//	srv := sendiventtest.New(t)
//	app := NewApp(srv.Client())                          // the application, built with its client
//	srv.SetWebhookHandler(app.Webhooks(secret), secret) // its endpoint, called in process
//	// ... send, and Wait for the notification to end, then:
//	if err := srv.WaitWebhooks(ctx); err != nil {
//		t.Fatal(err)
//	}
//	// assert on the application's state, and on srv.WebhookDeliveries()
package sendiventtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/internal/idem"
)

// Server is a fake Sendivent API server. All its methods are safe for
// concurrent use.
type Server struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:41234" (no
	// trailing slash); Client uses it, other clients take it as their base URL.
	URL string

	ts           *httptest.Server
	apiKey       string
	events       map[string][]Step
	listeners    map[string][]recipient // by event
	integrations []wireIntegration
	manual       bool
	stepDelay    time.Duration
	timeScale    float64
	rateLimit    int
	faultFunc    FaultFunc
	faultMu      sync.Mutex // serializes faultFunc calls
	closing      chan struct{}
	closeOnce    sync.Once
	timers       sync.WaitGroup // armed lifecycle timers

	mu         sync.Mutex // guards everything below
	closed     bool
	notifs     map[string]*notification
	order      []*notification
	contacts   contactStore
	idem       map[string]idemEntry
	requests   []Request
	counters   counters
	scripts    []*Script
	limiter    *rate.Limiter // nil: no rate limit
	undeclared []string      // "POST /v1/send/welcom" for each request naming an undeclared event
	hooks      hookState     // the webhook endpoint and its deliveries (webhook_delivery.go)
	keep       retention     // what the stores above keep (retention.go)
	tpl        templateState // templates, their engine and problems (template.go)
	inbox      inboxState    // what the inbox page sees change (inbox_stream.go)
}

// NewServer starts a fake server; stop it with Close. In a test, New does
// both and reports more. NewServer panics if an option is invalid (an event
// without a name, with an invalid step or listener; an integration of an
// unknown channel) or if it cannot listen (WithAddr).
func NewServer(opts ...Option) *Server {
	cfg := config{stepDelay: DefaultStepDelay, timeScale: DefaultTimeScale, retention: DefaultRetention}
	for _, o := range opts {
		o(&cfg)
	}
	for name, steps := range cfg.events {
		if strings.TrimSpace(name) == "" {
			panic("sendiventtest: WithEvent: an event without a name")
		}
		for _, st := range steps {
			if err := st.check(); err != nil {
				panic(fmt.Sprintf("sendiventtest: WithEvent(%q): %v", name, err))
			}
		}
	}
	listeners, err := parseListeners(cfg.listeners)
	if err != nil {
		panic("sendiventtest: WithEvents: " + err.Error())
	}
	integrations, err := integrationsOf(&cfg)
	if err != nil {
		panic("sendiventtest: " + err.Error())
	}
	tpl, err := newTemplateState(cfg.tpl)
	if err != nil {
		panic("sendiventtest: " + err.Error())
	}
	if cfg.apiKey == "" {
		cfg.apiKey = "test_" + randHex(16)
	}
	s := &Server{
		apiKey: cfg.apiKey, events: cfg.events, listeners: listeners, integrations: integrations,
		manual:    cfg.manual,
		stepDelay: cfg.stepDelay, timeScale: cfg.timeScale,
		rateLimit: cfg.rateLimit, faultFunc: cfg.faultFunc,
		limiter: newRateLimiter(cfg.rateLimit),
		closing: make(chan struct{}),
		notifs:  map[string]*notification{}, idem: map[string]idemEntry{},
		keep: newRetention(cfg.retention),
		tpl:  tpl,
	}
	s.contacts.max = s.keep.max
	if err := s.initHooks(cfg.webhook); err != nil {
		panic("sendiventtest: " + err.Error())
	}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.ts.Config.MaxHeaderBytes = maxHeaderBytes
	if cfg.addr != "" {
		l, err := net.Listen("tcp", cfg.addr)
		if err != nil {
			s.ts.Close()
			panic(fmt.Sprintf("sendiventtest: %v", err))
		}
		_ = s.ts.Listener.Close()
		s.ts.Listener = l
		servePort(s.ts, cfg.port)
	}
	s.inbox.loopback = isLoopbackListener(s.ts.Listener)
	s.ts.Start()
	s.URL = s.ts.URL
	return s
}

// APIKey returns the key the server accepts.
func (s *Server) APIKey() string { return s.apiKey }

// Client returns a *sendivent.Client for this server: its key, its URL,
// sendivent.WithTimeScale of the server's time scale (see WithTimeScale),
// then opts, which win. It panics if NewClient fails. For a client that
// waits in real time, pass sendivent.WithTimeScale(1).
func (s *Server) Client(opts ...sendivent.Option) *sendivent.Client {
	base := []sendivent.Option{sendivent.WithBaseURL(s.URL), sendivent.WithTimeScale(s.timeScale)}
	c, err := sendivent.NewClient(s.apiKey, append(base, opts...)...)
	if err != nil {
		panic(fmt.Sprintf("sendiventtest: NewClient: %v", err))
	}
	return c
}

// Close stops the server: pending fault delays end, lifecycle timers stop,
// webhook deliveries in flight or waiting to retry are cancelled (see
// WaitWebhooks), and Close waits for in-flight requests, timer callbacks
// and deliveries to finish. Notifications and records stay readable. Close
// may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.mu.Lock()
		s.closed = true
		for _, n := range s.order {
			s.stopTimerLocked(n)
		}
		s.hooks.cancel()
		s.mu.Unlock()
		s.ts.Close()
		s.timers.Wait()
		s.hooks.wg.Wait()
		s.hooks.client.CloseIdleConnections()
	})
}

// Reset forgets everything the server has seen: notifications, contacts,
// stored idempotent answers, recorded requests and counters, queued fault
// scripts, webhook deliveries (those in flight are cancelled); the rate
// limit starts afresh, and the webhook endpoint is the options' again.
// Options (events, key, timing) stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.order {
		s.stopTimerLocked(n)
	}
	s.notifs, s.order = map[string]*notification{}, nil
	s.contacts, s.idem = contactStore{max: s.keep.max}, map[string]idemEntry{}
	s.keep = newRetention(s.keep.max)
	s.requests, s.counters, s.scripts, s.undeclared = nil, counters{}, nil, nil
	s.tpl.problems = nil
	s.limiter = newRateLimiter(s.rateLimit)
	s.hooks.resetLocked()
	s.inbox.resetLocked()
}

// scaled is d of the fake's time in real time.
func (s *Server) scaled(d time.Duration) time.Duration {
	if w := float64(d) / s.timeScale; w < math.MaxInt64 {
		return time.Duration(w)
	}
	return math.MaxInt64 // beyond int64 a float converts to anything: the minimum, on amd64
}

// serveHTTP sends the inbox page and its data to the inbox, the reserved
// prefix to the controls, the rest to the API.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.serveInbox(w, r) { // the inbox page, and the guard of the controls (inbox.go)
		return
	}
	if p := r.URL.EscapedPath(); p == controlPrefix[:len(controlPrefix)-1] || strings.HasPrefix(p, controlPrefix) {
		s.serveControl(w, r)
		return
	}
	s.serveAPI(w, r)
}

// idemEntry is a stored idempotent answer.
type idemEntry struct {
	fingerprint string
	status      int
	body        []byte
	requestID   string // the X-Request-Id it was first answered with
}

// decodeJSON decodes one JSON value (nil if raw is not exactly one value).
func decodeJSON(raw []byte, useNumber bool) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if useNumber {
		dec.UseNumber()
	}
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil
	}
	return v
}

// canonical is raw re-encoded with sorted keys, or raw itself if not JSON.
func canonical(raw []byte) string {
	v := decodeJSON(raw, true)
	if v == nil {
		return string(raw)
	}
	return string(mustJSON(v))
}

func mustJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("sendiventtest: encode: " + err.Error())
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newUUID makes the ids of notifications, messages and contacts.
var newUUID = idem.New
