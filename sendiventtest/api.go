package sendiventtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

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

// serveAPI serves one request to the service's API: rate limit, fault draw,
// key and route, processing, then the answer (possibly damaged by a
// fault). The body is read only for a request that gets past the key and
// the route (or a FaultFunc, which may read it), up to maxBody, and kept
// in the record only when it is JSON and the request reached its endpoint.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	body := &requestBody{r: http.MaxBytesReader(w, r.Body, maxBody)}
	route, p, allow, found := apiRoutes.find(r.Method, r.URL.EscapedPath())
	if !found && len(allow) > 0 {
		// The path names an endpoint, for another method: find it for its
		// record, its faults and its Allow header.
		route, p, _, _ = apiRoutes.find(allow[0], r.URL.EscapedPath())
	}
	rec := Request{
		Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.Query(), Endpoint: route.endpoint,
		Event: p["event"], Channel: p["channel"], NotificationID: p["notification"],
		Header:         r.Header.Clone(),
		IdempotencyKey: r.Header.Get("X-Idempotency-Key"),
		RequestID:      "req_" + randHex(12), Time: time.Now().UTC(),
	}
	w.Header().Set("X-Request-Id", rec.RequestID)
	w.Header().Set("Content-Type", "application/json")

	if !s.admit() {
		rec.Fault = FaultRateLimit
		s.respond(w, rec, statusFaultReply(Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"}))
		return
	}
	if s.faultFunc != nil {
		_, _ = body.read()
		r.Body = io.NopCloser(bytes.NewReader(body.raw)) // for a FaultFunc that reads it
	}
	f := s.drawFault(r, route.endpoint)
	switch f.Kind {
	case FaultStatus:
		rec.Fault = FaultStatus
		rec.RawBody = body.keep()
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
	var rp reply
	switch {
	case r.Header.Get("Authorization") != "Bearer "+s.apiKey:
		rp = errReply(http.StatusUnauthorized, "Invalid API key", "")
	case len(allow) > 0:
		rp = errReply(http.StatusMethodNotAllowed, "Method not allowed", "")
		rp.header = http.Header{"Allow": {strings.Join(allow, ", ")}}
	case !found:
		rp = errReply(http.StatusNotFound, "Not found", "NOT_FOUND")
	default:
		raw, err := body.read()
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			rp = errReply(http.StatusRequestEntityTooLarge,
				fmt.Sprintf("Request body too large: the fake takes at most %d bytes", maxBody), "PAYLOAD_TOO_LARGE")
		case err != nil:
			rp = errReply(http.StatusBadRequest, "Could not read the request body", "")
		default:
			v := decodeJSON(raw, false)
			if m, ok := v.(map[string]any); ok {
				rec.Body = m // for the endpoint; the record keeps RawBody
			}
			if v != nil {
				rec.RawBody = raw
			}
			rp = s.process(route, &exchange{raw: raw, rec: &rec, p: p})
		}
	}
	s.respond(w, rec, rp)
}

// requestBody reads a request's body once, when it is needed.
type requestBody struct {
	r    io.Reader
	raw  []byte
	err  error
	done bool
}

func (b *requestBody) read() ([]byte, error) {
	if !b.done {
		b.done = true
		b.raw, b.err = io.ReadAll(b.r)
	}
	return b.raw, b.err
}

// keep is the body for the record: what was read, when it is whole and
// one JSON value; nil otherwise.
func (b *requestBody) keep() []byte {
	raw, err := b.read()
	if err != nil || len(raw) == 0 || decodeJSON(raw, true) == nil {
		return nil
	}
	return raw
}

// process answers a request to a known endpoint, replaying a stored answer
// for a repeated idempotency key: its status, its body and its request id.
func (s *Server) process(route apiRoute, x *exchange) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := x.rec.IdempotencyKey
	if !route.idempotent || key == "" {
		return route.serve(s, x)
	}
	fp := x.rec.Method + " " + x.rec.Path + "\n" + canonical(x.raw)
	if e, ok := s.idem[key]; ok {
		if e.fingerprint != fp {
			return errReply(http.StatusConflict, "Idempotency key reused with a different request",
				"IDEMPOTENCY_KEY_REUSED")
		}
		// The stored answer, with the first request's id, which its
		// notifications and their webhooks carry.
		x.rec.Replayed, x.rec.RequestID = true, e.requestID
		return reply{status: e.status, body: e.body, header: http.Header{
			"X-Idempotent-Replay": {"true"}, "X-Request-Id": {e.requestID}}}
	}
	rp := route.serve(s, x)
	if rp.status >= 200 && rp.status < 300 {
		s.keepIdemLocked(key, idemEntry{fingerprint: fp, status: rp.status, body: rp.body, requestID: x.rec.RequestID})
	}
	return rp
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
