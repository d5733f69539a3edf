package sendiventtest

import (
	"embed"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// The inbox: a web page at the server's root that shows every notification
// as its channel shows it, live, with its timeline, the request that made it
// and its webhook deliveries, and buttons that call the control endpoints.
// It is plain HTML, CSS and JavaScript, embedded; the page reads its data
// from /_inbox/ (inbox_view.go), hears of changes on an event stream
// (inbox_stream.go), and changes nothing but through /_fake/. Everything
// shown is untrusted: payloads and rendered messages come from the
// application, so the page builds its DOM from text only, an email's HTML
// is shown in a sandboxed frame of its own, and a Content-Security-Policy
// allows the page's own script alone (inbox/, inbox_guard.go).

//go:embed inbox
var inboxFiles embed.FS

// pageCSP is the page's policy: its own script and style only, no inline
// script or style, no DOM sink that takes a string (Trusted Types), frames
// of its own origin (the email frames), and no framing of the page.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// emailCSP is an email body's policy: a sandbox (no script, no form, no
// popup, an origin of its own) with inline style and images, as a mail
// client shows them.
const emailCSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: http: https:; " +
	"font-src data:; base-uri 'none'; form-action 'none'"

// inboxHandler serves a request to the page or its data.
type inboxHandler func(s *Server, w http.ResponseWriter, r *http.Request, p params)

var inboxRoutes router[inboxHandler]

func init() {
	for name, file := range map[string]string{
		"/_inbox/index.html": "index.html", "/_inbox/app.js": "app.js", "/_inbox/app.css": "app.css", "/_inbox/icon.svg": "icon.svg",
	} {
		inboxRoutes.add(http.MethodGet, name, serveInboxFile(file))
	}
	inboxRoutes.add(http.MethodGet, "/_inbox/notifications", (*Server).inboxList)
	inboxRoutes.add(http.MethodGet, "/_inbox/notifications/{id}", (*Server).inboxDetail)
	inboxRoutes.add(http.MethodGet, "/_inbox/notifications/{id}/messages/{message}/html", (*Server).inboxEmail)
	inboxRoutes.add(http.MethodGet, "/_inbox/stream", (*Server).inboxStream)
}

// serveInbox guards the page, its data and the controls (inbox_guard.go),
// and serves the page and its data; it reports whether it answered r.
func (s *Server) serveInbox(w http.ResponseWriter, r *http.Request) bool {
	p := r.URL.EscapedPath()
	if !guarded(p) {
		return false
	}
	if s.guardBrowser(w, r) {
		return true
	}
	if p != "/" && !strings.HasPrefix(p, inboxPrefix) {
		return false // a control: serveControl answers it
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if p == "/" { // the router matches no empty segment
		p = "/_inbox/index.html"
	}
	h, params, allow, found := inboxRoutes.find(method, p)
	switch {
	case found:
		h(s, w, r, params)
	case len(allow) > 0:
		w.Header().Set("Allow", strings.Join(append(allow, http.MethodHead), ", "))
		writeControlJSON(w, r, http.StatusMethodNotAllowed, controlError{Error: r.URL.Path + " takes GET", Code: "METHOD_NOT_ALLOWED"})
	default:
		writeControlJSON(w, r, http.StatusNotFound, controlError{Error: "no inbox path " + r.URL.Path, Code: "NOT_FOUND"})
	}
	return true
}

// serveInboxFile serves one embedded file of the page.
func serveInboxFile(name string) inboxHandler {
	data, err := inboxFiles.ReadFile("inbox/" + name)
	if err != nil {
		panic("sendiventtest: the inbox's file " + name + " is not embedded")
	}
	types := map[string]string{
		".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
		".css": "text/css; charset=utf-8", ".svg": "image/svg+xml",
	}
	ctype := types[path.Ext(name)]
	return func(_ *Server, w http.ResponseWriter, r *http.Request, _ params) {
		h := w.Header()
		if name == "index.html" {
			h.Set("Content-Security-Policy", pageCSP)
		}
		h.Set("Content-Type", ctype)
		h.Set("Content-Length", strconv.Itoa(len(data)))
		h.Set("Cache-Control", "no-cache")
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(data)
		}
	}
}

// inboxPage is a page of notifications, newest first.
type inboxPage struct {
	Epoch         string      `json:"epoch"`
	Version       uint64      `json:"version"`
	Held          int         `json:"held"`    // notifications held
	Created       int         `json:"created"` // notifications created, those dropped included
	Oldest        uint64      `json:"oldest"`
	Notifications []inboxView `json:"notifications"`
	// Older is the cursor of the next page ("before"), 0 on the last.
	Older uint64 `json:"older"`
}

const (
	inboxPageSize = 50
	maxInboxPage  = 200
)

// inboxList serves GET /_inbox/notifications?limit=N&before=SEQ: the
// newest N (50, at most 200) notifications older than SEQ.
func (s *Server) inboxList(w http.ResponseWriter, r *http.Request, _ params) {
	q := r.URL.Query()
	limit, before := inboxPageSize, uint64(0)
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxInboxPage {
			writeControlJSON(w, r, http.StatusBadRequest, controlError{Error: "limit: want 1 to " + strconv.Itoa(maxInboxPage), Code: "INVALID_REQUEST"})
			return
		}
		limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeControlJSON(w, r, http.StatusBadRequest, controlError{Error: "before: want a notification's seq", Code: "INVALID_REQUEST"})
			return
		}
		before = n
	}
	s.mu.Lock()
	end := len(s.order)
	if before > 0 {
		end = searchSeq(s.order, before)
	}
	start := max(end-limit, 0)
	page := inboxPage{Epoch: s.inbox.epochLocked(), Version: s.inbox.version, Held: len(s.order),
		Created: s.counters.notifs, Notifications: make([]inboxView, 0, end-start)}
	if len(s.order) > 0 {
		page.Oldest = s.order[0].inbox.seq
	}
	for i := end - 1; i >= start; i-- {
		page.Notifications = append(page.Notifications, s.viewLocked(s.order[i]))
	}
	if start > 0 {
		page.Older = s.order[start].inbox.seq
	}
	secrets := s.secretsLocked()
	s.mu.Unlock()
	writeInboxJSON(w, r, page, secrets)
}

// searchSeq is the index of the first notification of order numbered seq
// or later (order is in creation order).
func searchSeq(order []*notification, seq uint64) int {
	lo, hi := 0, len(order)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if order[mid].inbox.seq < seq {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

// inboxDetail serves GET /_inbox/notifications/{id}: the notification with
// its timeline, its request and its webhook deliveries.
func (s *Server) inboxDetail(w http.ResponseWriter, r *http.Request, p params) {
	s.mu.Lock()
	n, ok := s.notifs[p["id"]]
	var d inboxDetailView
	if ok {
		d = s.detailLocked(n)
	}
	secrets := s.secretsLocked()
	s.mu.Unlock()
	if !ok {
		writeControlJSON(w, r, http.StatusNotFound, controlError{Error: "no notification " + quote(p["id"]), Code: "NOT_FOUND"})
		return
	}
	writeInboxJSON(w, r, d, secrets)
}

// inboxEmail serves an email message's rendered HTML as a document of its
// own, sandboxed by its policy, for the page's frame.
func (s *Server) inboxEmail(w http.ResponseWriter, r *http.Request, p params) {
	s.mu.Lock()
	var html string
	found := false
	if n, ok := s.notifs[p["id"]]; ok {
		for _, rm := range n.rendered {
			if rm.MessageID == p["message"] && rm.HTML != "" {
				html, found = rm.HTML, true
			}
		}
	}
	secrets := s.secretsLocked()
	s.mu.Unlock()
	if !found {
		writeControlJSON(w, r, http.StatusNotFound, controlError{Error: "no email body for this message", Code: "NOT_FOUND"})
		return
	}
	html = redact(html, secrets)
	h := w.Header()
	h.Set("Content-Security-Policy", emailCSP)
	h.Set("X-Frame-Options", "SAMEORIGIN") // the page's frame only
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(html)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(html))
	}
}

// secretsLocked are what the page must never show: the API key and the
// webhook signing secrets.
func (s *Server) secretsLocked() []string {
	out := []string{s.apiKey}
	for _, ep := range []*hookEndpoint{s.hooks.ep, s.hooks.initial} {
		if ep != nil && ep.secret != "" {
			out = append(out, ep.secret)
		}
	}
	return out
}

// redactedMark stands where a secret was.
const redactedMark = "[redacted]"

// redact replaces every secret in v.
func redact(v string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" {
			v = strings.ReplaceAll(v, sec, redactedMark)
		}
	}
	return v
}

// redactJSON replaces every secret in the strings (keys and values) of the
// JSON raw, decoding it, so that no replacement can break its syntax.
func redactJSON(raw []byte, secrets []string) []byte {
	found := false
	for _, sec := range secrets {
		found = found || (sec != "" && strings.Contains(string(raw), jsonString(sec)))
	}
	if !found {
		return raw
	}
	return mustJSON(redactValue(decodeJSON(raw, true), secrets))
}

// jsonString is s as it reads inside a JSON string the server wrote.
func jsonString(s string) string {
	q := string(mustJSON(s))
	return q[1 : len(q)-1]
}

func redactValue(v any, secrets []string) any {
	switch x := v.(type) {
	case string:
		return redact(x, secrets)
	case []any:
		for i := range x {
			x[i] = redactValue(x[i], secrets)
		}
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[redact(k, secrets)] = redactValue(e, secrets)
		}
		return out
	}
	return v
}

// writeInboxJSON writes v, its secrets redacted.
func writeInboxJSON(w http.ResponseWriter, r *http.Request, v any, secrets []string) {
	out := redactJSON(mustJSON(v), secrets)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(out)
	}
}

// fmtStamp is t as the page reads it.
func fmtStamp(t time.Time) string { return t.UTC().Format(timeFormat) }
