package sendiventtest

import (
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Request is the record of one request the server received.
type Request struct {
	Method string
	// Path is the path as sent on the wire, still escaped
	// (e.g. "/v1/send/order%2Fshipped").
	Path string
	// Query is the request's query string, parsed (empty when it has none).
	Query url.Values
	// Endpoint is the endpoint the path names; "" if it names none.
	Endpoint Endpoint
	// Event and Channel are the unescaped path segments of a send or cancel
	// ("" when absent); Event is also that of GET /v1/events/{identifier}. Channel is the raw value, even if it is not a known
	// channel.
	Event, Channel string
	// NotificationID is the id of a GET /v1/notifications/{id}.
	NotificationID string
	Header         http.Header
	// Body is the decoded JSON object body; nil if the body is not a JSON
	// object, or was not kept. RawBody is the body as received, kept when
	// it is one JSON value (at most 1 MiB) and the request reached its
	// endpoint: a refused request (a wrong key, an unknown route or
	// method, a rate limit, a body too large or not JSON) keeps none.
	Body           map[string]any
	RawBody        []byte
	IdempotencyKey string
	// Replayed is true when the answer was an idempotent replay.
	Replayed bool
	// Created lists the ids of the notifications this request created.
	Created []string
	// Status is the status the server answered; for a FaultDrop it is the
	// status that was decided but never written, and 0 if the request was
	// abandoned during a latency delay.
	Status int
	// Fault is the kind of fault that hit this request, "" if none.
	Fault FaultKind
	// RequestID is the X-Request-Id the server answered.
	RequestID string
	Time      time.Time
}

// Stats are the server's counters.
type Stats struct {
	Requests int // every request received
	Created  int // notifications created
	Replays  int // idempotent replays answered
	// Faults counts the requests hit by each FaultKind (including
	// FaultRateLimit).
	Faults map[FaultKind]int
	// ByStatus counts answers by HTTP status: ByStatus[429] is every 429,
	// from the rate limit, a script or a FaultFunc.
	ByStatus map[int]int
}

type counters struct {
	requests, created, replays int
	faults                     map[FaultKind]int
	byStatus                   map[int]int
	// byEvent counts the notifications of each event, for the first
	// maxCountedEvents names (and maxCountedEventBytes of them): a fake
	// serving a port for days, where every name is an event, must not grow
	// with each new one. Later names count in notifs only.
	byEvent      map[string]int
	byEventBytes int
	notifs       int // notifications created, counted as they are
}

const (
	maxCountedEvents     = 10_000
	maxCountedEventBytes = 1 << 20
)

func (c *counters) noteCreated(event string) {
	c.notifs++
	if c.byEvent == nil {
		c.byEvent = map[string]int{}
	}
	if _, ok := c.byEvent[event]; ok || (len(c.byEvent) < maxCountedEvents && c.byEventBytes+len(event) <= maxCountedEventBytes) {
		if !ok {
			c.byEventBytes += len(event)
		}
		c.byEvent[event]++
	}
}

// recordLocked keeps rec and updates the counters.
func (s *Server) recordLocked(rec Request) {
	s.keepRequestLocked(rec)
	s.inboxRequestLocked(&rec)
	c := &s.counters
	if c.faults == nil {
		c.faults, c.byStatus = map[FaultKind]int{}, map[int]int{}
	}
	c.requests++
	c.created += len(rec.Created)
	if rec.Replayed {
		c.replays++
	}
	if rec.Fault != "" {
		c.faults[rec.Fault]++
	}
	if rec.Status != 0 {
		c.byStatus[rec.Status]++
	}
}

func (s *Server) record(rec Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLocked(rec)
}

// Stats returns a copy of the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{
		Requests: s.counters.requests, Created: s.counters.created,
		Replays: s.counters.replays,
		Faults:  map[FaultKind]int{}, ByStatus: map[int]int{},
	}
	for k, v := range s.counters.faults {
		st.Faults[k] = v
	}
	for k, v := range s.counters.byStatus {
		st.ByStatus[k] = v
	}
	return st
}

// Requests returns the recorded API requests to any of endpoints, in the
// order they were answered: Requests(EndpointSend) are the sends, and
// Requests() (or EndpointAll) is every request kept (see WithRetention;
// Stats counts every one). Control requests (/_fake/…) are not recorded.
func (s *Server) Requests(endpoints ...Endpoint) []Request {
	all := len(endpoints) == 0 || slices.Contains(endpoints, EndpointAll)
	return s.filter(func(r Request) bool {
		return all || slices.Contains(endpoints, r.Endpoint)
	})
}

// LastRequest returns the most recent recorded request.
func (s *Server) LastRequest() (Request, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		return Request{}, false
	}
	return withBody(s.requests[len(s.requests)-1]), true
}

// NotificationCount returns how many notifications were created for event
// (every event if event is ""), those WithRetention dropped included. (A
// server that saw more than 10,000 event names counts the notifications of
// later names only in the total.)
func (s *Server) NotificationCount(event string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if event == "" {
		return s.counters.notifs
	}
	return s.counters.byEvent[event]
}

// withBody is r with Body decoded from RawBody, as records keep only the
// bytes.
func withBody(r Request) Request {
	if m, ok := decodeJSON(r.RawBody, false).(map[string]any); ok {
		r.Body = m
	}
	return r
}

func (s *Server) filter(keep func(Request) bool) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Request{}
	for _, r := range s.requests {
		if keep(r) {
			out = append(out, withBody(r))
		}
	}
	return out
}
