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
	// Body is the decoded JSON object body; nil if the body is not a JSON object.
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
}

// recordLocked appends rec and updates the counters.
func (s *Server) recordLocked(rec Request) {
	s.requests = append(s.requests, rec)
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
// Requests() (or EndpointAll) is every request. Control requests (/_fake/…)
// are not recorded.
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
	return s.requests[len(s.requests)-1], true
}

// NotificationCount returns how many notifications were created for event
// (every event if event is "").
func (s *Server) NotificationCount(event string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := 0
	for _, n := range s.order {
		if event == "" || n.event == event {
			c++
		}
	}
	return c
}

func (s *Server) filter(keep func(Request) bool) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Request{}
	for _, r := range s.requests {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}
