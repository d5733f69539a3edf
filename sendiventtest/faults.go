package sendiventtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// FaultKind names a kind of fault. It is the value of Request.Fault and the
// key of Stats.Faults.
type FaultKind string

// Fault kinds.
const (
	// FaultStatus answers an error status instead of processing the request.
	FaultStatus FaultKind = "status"
	// FaultRateLimit is the 429 answered by the rate limit
	// (WithServerRateLimit). It cannot be scripted.
	FaultRateLimit FaultKind = "rate_limit"
	// FaultLatency delays the request before it is processed.
	FaultLatency FaultKind = "latency"
	// FaultMalformed processes the request, then answers its real status with
	// a cut-off JSON body (Content-Length matches what is written).
	FaultMalformed FaultKind = "malformed"
	// FaultTruncated processes the request, then declares the full
	// Content-Length but writes only half the body and closes the connection.
	FaultTruncated FaultKind = "truncated"
	// FaultDrop processes the request (notifications created, idempotent
	// answer stored), then closes the connection without writing a response.
	FaultDrop FaultKind = "drop"
)

// Endpoint names an endpoint of the API: the one a scripted fault applies to
// (Script.On), and the one a recorded request went to (Request.Endpoint).
type Endpoint string

// Endpoints.
const (
	EndpointAll          Endpoint = ""             // every request
	EndpointSend         Endpoint = "send"         // POST /v1/send/{event}[/{channel}]
	EndpointNotification Endpoint = "notification" // GET /v1/notifications/{id}
	EndpointCancel       Endpoint = "cancel"       // POST /v1/cancel/{event}
)

// Fault describes what happens to one request. The zero Fault means none.
type Fault struct {
	Kind FaultKind
	// Status is the status answered by a FaultStatus (default 500).
	Status int
	// Body is the body answered by a FaultStatus (default: a JSON error body
	// matching Status). A body starting with "<" is sent as text/html.
	Body string
	// RetryAfter, if not empty, is sent as the Retry-After header of a FaultStatus.
	RetryAfter string
	// Latency is the delay of a FaultLatency.
	Latency time.Duration
}

// FaultFunc decides the fault for one request; see WithFaultFunc. It may
// read the request's body: the fake has read it already and puts a copy back.
type FaultFunc func(r *http.Request) Fault

// Script is a scripted fault for the next N matching requests, built with
// FailNext, DelayNext, MalformedNext, TruncateNext or DropNext and queued with
// Server.Inject. Scripts are consumed first in, first out: a request takes
// one unit from the first queued script whose endpoint matches.
type Script struct {
	fault    Fault
	n        int
	endpoint Endpoint
}

// FailNext makes the next n requests answer status (e.g. 503) without being
// processed: they create nothing and store no idempotent answer.
func FailNext(n, status int) Script {
	return Script{fault: Fault{Kind: FaultStatus, Status: status}, n: n}
}

// DelayNext delays the next n requests by d of real time (the time scale
// does not apply: it is for a client's timeouts) before they are processed.
// The delay ends early when the client gives up or the server closes; the
// request then creates nothing.
func DelayNext(n int, d time.Duration) Script {
	return Script{fault: Fault{Kind: FaultLatency, Latency: d}, n: n}
}

// MalformedNext processes the next n requests, then answers each with its
// real status and a cut-off JSON body such as `{"id":"5f0c…`.
func MalformedNext(n int) Script { return Script{fault: Fault{Kind: FaultMalformed}, n: n} }

// TruncateNext processes the next n requests, then declares the full
// Content-Length, writes half the body and closes the connection, so the
// client's body read fails with an unexpected EOF.
func TruncateNext(n int) Script { return Script{fault: Fault{Kind: FaultTruncated}, n: n} }

// DropNext processes the next n requests (notifications created, idempotent
// answer stored) and then closes the connection without any response.
//
// Note: Go's http.Transport silently resends a request that carries an
// X-Idempotency-Key header when a reused keep-alive connection is closed
// before any response byte; that resend is then answered as a replay.
func DropNext(n int) Script { return Script{fault: Fault{Kind: FaultDrop}, n: n} }

// WithRetryAfter sets the Retry-After header of a FailNext script.
func (sc Script) WithRetryAfter(v string) Script { sc.fault.RetryAfter = v; return sc }

// WithBody sets the body answered by a FailNext script.
func (sc Script) WithBody(body string) Script { sc.fault.Body = body; return sc }

// On restricts the script to one endpoint; requests to other endpoints pass
// through and do not consume it.
func (sc Script) On(e Endpoint) Script { sc.endpoint = e; return sc }

// String describes the script as the Go code that makes it, such as
// `FailNext(2, 503).WithRetryAfter("1").On("send")`, with the units left.
func (sc Script) String() string {
	f := sc.fault
	var s string
	switch f.Kind {
	case FaultStatus:
		s = fmt.Sprintf("FailNext(%d, %d)", sc.n, f.Status)
		if f.RetryAfter != "" {
			s += ".WithRetryAfter(" + strconv.Quote(f.RetryAfter) + ")"
		}
		if f.Body != "" {
			s += ".WithBody(" + strconv.Quote(f.Body) + ")"
		}
	case FaultLatency:
		s = fmt.Sprintf("DelayNext(%d, %v)", sc.n, f.Latency)
	case FaultMalformed:
		s = fmt.Sprintf("MalformedNext(%d)", sc.n)
	case FaultTruncated:
		s = fmt.Sprintf("TruncateNext(%d)", sc.n)
	case FaultDrop:
		s = fmt.Sprintf("DropNext(%d)", sc.n)
	default:
		s = fmt.Sprintf("Script(%d, %q)", sc.n, f.Kind)
	}
	if sc.endpoint != EndpointAll {
		s += ".On(" + strconv.Quote(string(sc.endpoint)) + ")"
	}
	return s
}

// Inject queues scripted faults; see Script.
func (s *Server) Inject(scripts ...Script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sc := range scripts {
		if sc.n > 0 {
			s.scripts = append(s.scripts, &sc)
		}
	}
}

// PendingFaults returns the scripts still queued, each with the units it
// has left, first to be used first.
func (s *Server) PendingFaults() []Script {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Script, 0, len(s.scripts))
	for _, sc := range s.scripts {
		out = append(out, *sc)
	}
	return out
}

// Chaos returns a goroutine-safe FaultFunc that, for a fraction rate of
// calls, returns a random fault: status 500, 502, 503 or 504; 429 with
// Retry-After "0" or "1"; latency up to maxLatency; malformed body; or
// commit-then-drop. The k-th call always gets the same answer for a seed.
func Chaos(seed int64, rate float64, maxLatency time.Duration) FaultFunc {
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5e4d1)) //nolint:gosec // deterministic by design
	return func(*http.Request) Fault {
		mu.Lock()
		defer mu.Unlock()
		if rng.Float64() >= rate {
			return Fault{}
		}
		switch k := rng.IntN(8); k {
		case 0, 1, 2, 3:
			return Fault{Kind: FaultStatus, Status: []int{500, 502, 503, 504}[k]}
		case 4:
			return Fault{Kind: FaultStatus, Status: http.StatusTooManyRequests,
				RetryAfter: []string{"0", "1"}[rng.IntN(2)]}
		case 5:
			d := time.Duration(0)
			if maxLatency > 0 {
				d = time.Duration(rng.Int64N(int64(maxLatency) + 1))
			}
			return Fault{Kind: FaultLatency, Latency: d}
		case 6:
			return Fault{Kind: FaultMalformed}
		default:
			return Fault{Kind: FaultDrop}
		}
	}
}

// drawFault picks the fault for a request: the first matching script, else
// the FaultFunc's answer. The FaultFunc is called for every request, in
// arrival order.
func (s *Server) drawFault(r *http.Request, ep Endpoint) Fault {
	var f Fault
	if s.faultFunc != nil {
		s.faultMu.Lock()
		f = s.faultFunc(r)
		s.faultMu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, sc := range s.scripts {
		if sc.endpoint != EndpointAll && sc.endpoint != ep {
			continue
		}
		sc.n--
		if sc.n <= 0 {
			s.scripts = append(s.scripts[:i:i], s.scripts[i+1:]...)
		}
		return sc.fault
	}
	return f
}

// admit applies the rate limit; it reports false when the request must be
// answered 429.
func (s *Server) admit() bool {
	s.mu.Lock()
	l := s.limiter
	s.mu.Unlock()
	return l == nil || l.Allow()
}

// newRateLimiter is a token bucket: rps requests at once, then rps a second,
// as API gateways commonly limit. A client paced just under rps never meets
// it, whatever the network's jitter; a burst beyond it does at once.
func newRateLimiter(rps int) *rate.Limiter {
	if rps <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(rps), rps)
}

// sleep waits d; it reports false if the request or the server ended first.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// statusFaultReply builds the answer of a FaultStatus.
func statusFaultReply(f Fault) reply {
	st := f.Status
	if st == 0 {
		st = http.StatusInternalServerError
	}
	rp := reply{status: st, header: http.Header{}}
	if f.RetryAfter != "" {
		rp.header.Set("Retry-After", f.RetryAfter)
	}
	if f.Body != "" {
		rp.body = []byte(f.Body)
		if f.Body[0] == '<' {
			rp.header.Set("Content-Type", "text/html; charset=utf-8")
		}
		return rp
	}
	e := apiError{status: st, Error: http.StatusText(st)}
	switch st {
	case http.StatusTooManyRequests:
		e.Error, e.Code = "Rate limit exceeded", "RATE_LIMITED"
	case http.StatusInternalServerError:
		e.Error, e.Code = "Internal server error", "SERVER_ERROR"
	case http.StatusBadGateway:
		e.Error, e.Code = "Provider error", "PROVIDER_ERROR"
	}
	if e.Error == "" {
		e.Error = "Error"
	}
	rp.body = mustJSON(e)
	return rp
}
