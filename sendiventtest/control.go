package sendiventtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// The control endpoints: plain JSON under controlPrefix, without the API
// key, for programs that drive the fake over HTTP (the sendivent command's
// "fake", a test in another language). The package doc lists them. They are
// not recorded, and faults and the rate limit do not touch them.

// controlPrefix is the reserved path prefix of the control endpoints.
const controlPrefix = "/_fake/"

// maxControlBody caps a control request's body.
const maxControlBody = 1 << 20

// maxQueuedFaults caps the fault scripts POST /_fake/faults queues: each
// is kept until used up.
const maxQueuedFaults = 1000

// controlHandler answers a control request with a status and a value to
// encode as JSON.
type controlHandler func(s *Server, c *controlCall) (int, any)

// controlCall is one control request.
type controlCall struct {
	r    *http.Request
	p    params
	body []byte
}

// controlError is the body of a control endpoint's error answer.
type controlError struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

func ctlErr(status int, code, format string, args ...any) (int, any) {
	return status, controlError{Error: fmt.Sprintf(format, args...), Code: code}
}

// decode reads the call's JSON body into v; an empty body leaves v as is.
// Unknown fields are an error, so that a misspelt one is not ignored.
func (c *controlCall) decode(v any) error {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid JSON body: more than one value")
	}
	return nil
}

func (s *Server) serveControl(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody+1))
	var (
		status int
		body   any
	)
	h, p, allow, found := controlRoutes.find(r.Method, r.URL.EscapedPath())
	switch {
	case err != nil:
		status, body = ctlErr(http.StatusBadRequest, "INVALID_REQUEST", "reading the body: %v", err)
	case len(raw) > maxControlBody:
		status, body = ctlErr(http.StatusRequestEntityTooLarge, "TOO_LARGE", "body over %d bytes", maxControlBody)
	case found:
		status, body = h(s, &controlCall{r: r, p: p, body: raw})
	case len(allow) > 0:
		w.Header().Set("Allow", strings.Join(allow, ", "))
		status, body = ctlErr(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "%s takes %s", r.URL.Path, strings.Join(allow, ", "))
	default:
		status, body = ctlErr(http.StatusNotFound, "NOT_FOUND", "no control endpoint %s %s", r.Method, r.URL.Path)
	}
	out := mustJSON(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

func init() {
	addControlRoute(http.MethodGet, "/_fake/health", func(*Server, *controlCall) (int, any) {
		return http.StatusOK, map[string]string{"status": "ok"}
	})
	addControlRoute(http.MethodPost, "/_fake/reset", func(s *Server, _ *controlCall) (int, any) {
		s.Reset()
		return http.StatusOK, map[string]string{"status": "ok"}
	})
	addControlRoute(http.MethodGet, "/_fake/notifications", (*Server).ctlNotifications)
	addControlRoute(http.MethodGet, "/_fake/notifications/{id}", (*Server).ctlNotification)
	addControlRoute(http.MethodPost, "/_fake/notifications/{id}/advance", notificationAction((*Server).Advance))
	addControlRoute(http.MethodPost, "/_fake/notifications/{id}/deliver", notificationAction((*Server).Deliver))
	addControlRoute(http.MethodPost, "/_fake/notifications/{id}/complete", notificationAction((*Server).Complete))
	addControlRoute(http.MethodPost, "/_fake/notifications/{id}/fail", (*Server).ctlFail)
	addControlRoute(http.MethodPost, "/_fake/advance", func(s *Server, _ *controlCall) (int, any) {
		return http.StatusOK, map[string]int{"moved": s.AdvanceAll()}
	})
	addControlRoute(http.MethodGet, "/_fake/requests", (*Server).ctlRequests)
	addControlRoute(http.MethodGet, "/_fake/faults", (*Server).ctlFaults)
	addControlRoute(http.MethodPost, "/_fake/faults", (*Server).ctlInject)
}

func (s *Server) ctlNotifications(c *controlCall) (int, any) {
	q := c.r.URL.Query()
	event, filter := q.Get("event"), q.Has("event")
	out := []controlNotification{}
	for _, n := range s.Notifications() {
		if !filter || n.Event == event {
			out = append(out, toControlNotification(n))
		}
	}
	return http.StatusOK, map[string]any{"notifications": out}
}

func (s *Server) ctlNotification(c *controlCall) (int, any) {
	n, ok := s.Notification(c.p["id"])
	if !ok {
		return ctlErr(http.StatusNotFound, "NOT_FOUND", "no notification %q", c.p["id"])
	}
	return http.StatusOK, toControlNotification(n)
}

// notificationAction serves a lifecycle driver: the notification after it
// moved, or why it could not.
func notificationAction(drive func(s *Server, id string) error) controlHandler {
	return func(s *Server, c *controlCall) (int, any) {
		var none struct{}
		if err := c.decode(&none); err != nil {
			return ctlErr(http.StatusBadRequest, "INVALID_REQUEST", "%v", err)
		}
		return s.afterAction(c.p["id"], drive(s, c.p["id"]))
	}
}

func (s *Server) afterAction(id string, err error) (int, any) {
	switch {
	case errors.Is(err, ErrUnknownNotification):
		return ctlErr(http.StatusNotFound, "NOT_FOUND", "no notification %q", id)
	case errors.Is(err, ErrTerminal):
		return ctlErr(http.StatusConflict, "TERMINAL", "notification %q is already completed, failed or stopped", id)
	case errors.Is(err, ErrNoMessageInFlight):
		return ctlErr(http.StatusConflict, "NO_MESSAGE_IN_FLIGHT", "notification %q is at a wait step: advance it", id)
	case err != nil:
		return ctlErr(http.StatusInternalServerError, "INTERNAL", "%v", err)
	}
	return s.ctlNotification(&controlCall{p: params{"id": id}})
}

// ctlFail fails the current message: {"error": "mailbox full"} as its
// reason, and "status": "suppressed" to suppress it instead.
func (s *Server) ctlFail(c *controlCall) (int, any) {
	var in struct {
		Error  string `json:"error"`
		Status string `json:"status"`
	}
	if err := c.decode(&in); err != nil {
		return ctlErr(http.StatusBadRequest, "INVALID_REQUEST", "%v", err)
	}
	id := c.p["id"]
	switch in.Status {
	case "", "failed":
		return s.afterAction(id, s.FailMessage(id, in.Error))
	case "suppressed":
		return s.afterAction(id, s.SuppressMessage(id, in.Error))
	}
	return ctlErr(http.StatusBadRequest, "INVALID_REQUEST", `status %q: want "failed" or "suppressed"`, in.Status)
}

func (s *Server) ctlRequests(c *controlCall) (int, any) {
	var eps []Endpoint
	if v, ok := c.r.URL.Query()["endpoint"]; ok {
		for _, e := range v {
			if !knownEndpoint(Endpoint(e)) {
				return ctlErr(http.StatusBadRequest, "INVALID_REQUEST", "unknown endpoint %q", e)
			}
			eps = append(eps, Endpoint(e))
		}
	}
	out := []controlRequest{}
	for _, r := range s.Requests(eps...) {
		out = append(out, toControlRequest(r))
	}
	return http.StatusOK, map[string]any{"requests": out}
}

func (s *Server) ctlFaults(*controlCall) (int, any) {
	out := []controlFault{}
	for _, sc := range s.PendingFaults() {
		out = append(out, toControlFault(sc))
	}
	return http.StatusOK, map[string]any{"faults": out}
}

func (s *Server) ctlInject(c *controlCall) (int, any) {
	var in controlFault
	if len(bytes.TrimSpace(c.body)) == 0 {
		return ctlErr(http.StatusBadRequest, "INVALID_REQUEST", "a fault is required, such as {\"status\":503}")
	}
	if err := c.decode(&in); err != nil {
		return ctlErr(http.StatusBadRequest, "INVALID_REQUEST", "%v", err)
	}
	sc, err := in.script()
	if err != nil {
		return ctlErr(http.StatusBadRequest, "INVALID_REQUEST", "%v", err)
	}
	if len(s.PendingFaults()) >= maxQueuedFaults {
		return ctlErr(http.StatusConflict, "TOO_MANY_FAULTS", "%d fault scripts are queued already, the most the fake keeps", maxQueuedFaults)
	}
	s.Inject(sc)
	return s.ctlFaults(c)
}
