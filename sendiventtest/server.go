// Package sendiventtest is an in-process fake of the Sendivent notifications
// API for tests: the SDK's own tests and the tests of applications that use it.
//
//	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
//	defer srv.Close()
//	client := srv.Client()
//	res, err := client.Event("welcome").To(sendivent.Address("alice@example.com")).Send(ctx)
//	srv.Deliver(res.ID)
//
// The server checks Bearer auth, validates bodies with the service's error
// answers, routes by the recipient's identifiers (or a forced channel),
// creates one notification per recipient, moves each through its lifecycle
// (on a clock, or step by step under the test's control), cancels, replays
// idempotent requests, records every request, and injects scripted or random
// faults. Every Server is independent: parallel tests may each run their own.
package sendiventtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/internal/idem"
)

// maxBody caps the request body the server reads.
const maxBody = 4 << 20

// Server is a fake Sendivent API server listening on a loopback address.
// All its methods are safe for concurrent use.
type Server struct {
	// URL is the server's base URL, e.g. "http://127.0.0.1:41234" (no
	// trailing slash); pass it to sendivent.WithBaseURL.
	URL string

	ts        *httptest.Server
	apiKey    string
	events    map[string][]Step
	manual    bool
	stepDelay time.Duration
	shape     ArrayShape
	faultFunc FaultFunc
	faultMu   sync.Mutex // serializes faultFunc calls
	closing   chan struct{}
	closeOnce sync.Once
	timers    sync.WaitGroup // armed lifecycle timers

	mu       sync.Mutex // guards everything below
	closed   bool
	notifs   map[string]*notification
	order    []*notification
	contacts contactStore
	idem     map[string]idemEntry
	requests []Request
	counters counters
	scripts  []*Script
	limiter  *rate.Limiter // nil: no rate limit
	latency  func(*http.Request) time.Duration
}

// NewServer starts a fake server; stop it with Close.
func NewServer(opts ...Option) *Server {
	cfg := config{stepDelay: DefaultStepDelay}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.apiKey == "" {
		cfg.apiKey = "test_" + randHex(16)
	}
	s := &Server{
		apiKey: cfg.apiKey, events: cfg.events, manual: cfg.manual,
		stepDelay: cfg.stepDelay, shape: cfg.arrayShape, faultFunc: cfg.faultFunc,
		limiter: newRateLimiter(cfg.rateLimit), latency: cfg.latency,
		closing: make(chan struct{}),
		notifs:  map[string]*notification{}, idem: map[string]idemEntry{},
	}
	s.Inject(cfg.scripts...)
	s.ts = httptest.NewServer(http.HandlerFunc(s.handle))
	s.URL = s.ts.URL
	return s
}

// APIKey returns the key the server accepts.
func (s *Server) APIKey() string { return s.apiKey }

// Client returns a *sendivent.Client for this server: NewClient(APIKey(),
// WithBaseURL(URL), opts...). It panics if NewClient fails.
func (s *Server) Client(opts ...sendivent.Option) *sendivent.Client {
	c, err := sendivent.NewClient(s.apiKey, append([]sendivent.Option{sendivent.WithBaseURL(s.URL)}, opts...)...)
	if err != nil {
		panic(fmt.Sprintf("sendiventtest: NewClient: %v", err))
	}
	return c
}

// HTTPClient returns a plain *http.Client for this server; Close closes its
// idle connections.
func (s *Server) HTTPClient() *http.Client { return s.ts.Client() }

// Close stops the server: pending latency delays end, lifecycle timers stop,
// and Close waits for in-flight requests and timer callbacks to finish.
// Notifications and records stay readable. Close may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.mu.Lock()
		s.closed = true
		for _, n := range s.order {
			s.stopTimerLocked(n)
		}
		s.mu.Unlock()
		s.ts.Close()
		s.timers.Wait()
	})
}

// reply is an answer before it is written.
type reply struct {
	status int
	body   []byte
	header http.Header
}

// apiError is the service's error body.
type apiError struct {
	status  int
	Error   string `json:"error"`
	Code    string `json:"code,omitempty"`
	Field   string `json:"field,omitempty"`
	Channel string `json:"channel,omitempty"`
}

func (e *apiError) reply() reply { return reply{status: e.status, body: mustJSON(e)} }

func errReply(status int, msg, code string) reply {
	return (&apiError{status: status, Error: msg, Code: code}).reply()
}

// route is a parsed request path.
type route struct {
	endpoint       Endpoint
	known          bool
	event, channel string
	id             string
}

func parseRoute(escaped string) route {
	rest, ok := strings.CutPrefix(escaped, "/v1/")
	if !ok {
		return route{}
	}
	segs := strings.Split(rest, "/")
	for i, sg := range segs {
		u, err := url.PathUnescape(sg)
		if err != nil || u == "" {
			return route{}
		}
		segs[i] = u
	}
	switch {
	case segs[0] == "send" && (len(segs) == 2 || len(segs) == 3):
		rt := route{endpoint: EndpointSend, known: true, event: segs[1]}
		if len(segs) == 3 {
			rt.channel = segs[2]
		}
		return rt
	case segs[0] == "notifications" && len(segs) == 2:
		return route{endpoint: EndpointNotification, known: true, id: segs[1]}
	case segs[0] == "cancel" && len(segs) == 2:
		return route{endpoint: EndpointCancel, known: true, event: segs[1]}
	}
	return route{}
}

// handle serves every request: latency, rate limit, fault draw, processing,
// then the answer (possibly damaged by a fault).
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	rt := parseRoute(r.URL.EscapedPath())
	rec := Request{
		Method: r.Method, Path: r.URL.EscapedPath(), Event: rt.event, Channel: rt.channel,
		NotificationID: rt.id, Header: r.Header.Clone(), RawBody: raw,
		IdempotencyKey: r.Header.Get("X-Idempotency-Key"),
		RequestID:      "req_" + randHex(12), Time: time.Now().UTC(),
	}
	if m, ok := decodeJSON(raw, false).(map[string]any); ok {
		rec.Body = m
	}
	w.Header().Set("X-Request-Id", rec.RequestID)
	w.Header().Set("Content-Type", "application/json")

	if !s.sleep(r.Context(), s.latencyFor(r)) {
		rec.Fault = FaultLatency
		s.record(rec)
		return
	}
	if !s.admit() {
		rec.Fault = FaultRateLimit
		s.respond(w, rec, statusFaultReply(Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}))
		return
	}
	f := s.drawFault(r, rt.endpoint)
	switch f.Kind {
	case FaultStatus:
		rec.Fault = FaultStatus
		s.respond(w, rec, statusFaultReply(f))
		return
	case FaultLatency:
		rec.Fault = FaultLatency
		if !s.sleep(r.Context(), f.Latency) {
			s.record(rec)
			return
		}
	case FaultMalformed, FaultTruncated, FaultDrop:
		rec.Fault = f.Kind
	}
	rp, replay := s.process(r, rt, raw, &rec)
	if replay {
		rec.Replayed = true
		rp.header = http.Header{"X-Idempotent-Replay": {"true"}}
	}
	s.respond(w, rec, rp)
}

// respond records rec with rp's status, then writes rp, damaged as rec.Fault
// says. Recording first means a test that has its answer sees the record.
func (s *Server) respond(w http.ResponseWriter, rec Request, rp reply) {
	rec.Status = rp.status
	s.record(rec)
	for k, v := range rp.header {
		w.Header()[k] = v
	}
	body := rp.body
	switch rec.Fault {
	case FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case FaultMalformed:
		body = body[:len(body)/2]
	case FaultTruncated:
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.WriteHeader(rp.status)
		_, _ = w.Write(body[:len(body)/2])
		return // the server closes the connection: fewer bytes than declared
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(rp.status)
	_, _ = w.Write(body)
}

// process answers a request that no pre-processing fault stopped. It reports
// whether the answer is an idempotent replay.
func (s *Server) process(r *http.Request, rt route, raw []byte, rec *Request) (reply, bool) {
	if r.Header.Get("Authorization") != "Bearer "+s.apiKey {
		return errReply(http.StatusUnauthorized, "Invalid API key", ""), false
	}
	if !rt.known {
		return errReply(http.StatusNotFound, "Not found", "NOT_FOUND"), false
	}
	want := http.MethodPost
	if rt.endpoint == EndpointNotification {
		want = http.MethodGet
	}
	if r.Method != want {
		rp := errReply(http.StatusMethodNotAllowed, "Method not allowed", "")
		rp.header = http.Header{"Allow": {want}}
		return rp, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rt.endpoint == EndpointNotification {
		n, ok := s.notifs[rt.id]
		if !ok {
			return errReply(http.StatusNotFound, "Notification not found", "NOT_FOUND"), false
		}
		return reply{status: http.StatusOK, body: mustJSON(n.wire())}, false
	}
	key := rec.IdempotencyKey
	fp := r.Method + " " + rec.Path + "\n" + canonical(raw)
	if key != "" {
		if e, ok := s.idem[key]; ok {
			if e.fingerprint != fp {
				return errReply(http.StatusConflict, "Idempotency key reused with a different request",
					"IDEMPOTENCY_KEY_REUSED"), false
			}
			return reply{status: e.status, body: e.body}, true
		}
	}
	var rp reply
	if rt.endpoint == EndpointSend {
		rp = s.sendLocked(rt, raw, rec)
	} else {
		rp = s.cancelLocked(rt, raw)
	}
	if key != "" && rp.status >= 200 && rp.status < 300 {
		s.idem[key] = idemEntry{fingerprint: fp, status: rp.status, body: rp.body}
	}
	return rp, false
}

// idemEntry is a stored idempotent answer.
type idemEntry struct {
	fingerprint string
	status      int
	body        []byte
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
