package sendiventtest

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The browser guard. The inbox page (inbox.go) and the control endpoints
// take no key, and a developer's browser can reach the fake on loopback, so
// a web page on another origin that the developer visits must neither
// drive them (a form or a no-cors fetch that POSTs to /_fake/reset) nor
// read them (DNS rebinding: a name of the attacker's that resolves to
// 127.0.0.1, whose page is then same-origin with the fake as far as the
// browser knows). Every request to the page, its data (/_inbox/) and the
// controls (/_fake/, except GET /_fake/health, which tells nothing) must:
//
//   - name a loopback host (localhost, *.localhost, 127.0.0.0/8, [::1]) in
//     Host, when the fake listens on a loopback address: a rebinding
//     attacker's page sends its own name;
//   - come from the fake's own origin, when the browser says where it comes
//     from (Origin, Sec-Fetch-Site), except a plain visit of the page;
//   - for a POST, carry no body type but JSON: a cross-origin page can
//     send text/plain, a form's types or none without a CORS preflight,
//     never application/json, and the fake grants no preflight.
//
// Programs (curl, tests in any language) send no Origin nor Sec-Fetch-Site
// and are not affected; on an address other than loopback (a container's
// 0.0.0.0) any Host is accepted.

// inboxPrefix is the path prefix of the inbox page's assets and data.
const inboxPrefix = "/_inbox/"

// guarded reports whether a path is the page's, its data's or a control's.
func guarded(path string) bool {
	if path == "/_fake/health" {
		return false
	}
	return path == "/" || strings.HasPrefix(path, inboxPrefix) || path == controlPrefix[:len(controlPrefix)-1] ||
		strings.HasPrefix(path, controlPrefix)
}

// guardBrowser sets the headers that every guarded answer carries and,
// when r is not to be served, answers it and returns true.
func (s *Server) guardBrowser(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if msg := s.foreignRequest(r); msg != "" {
		st, body := ctlErr(http.StatusForbidden, "FORBIDDEN", "%s", msg)
		writeControlJSON(w, r, st, body)
		return true
	}
	if r.Method == http.MethodPost {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
				st, body := ctlErr(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
					"Content-Type %s: the control endpoints take application/json, or no body", quote(ct))
				writeControlJSON(w, r, st, body)
				return true
			}
		}
	}
	return false
}

// foreignRequest says why r comes from, or through, another site's page;
// "" when it does not.
func (s *Server) foreignRequest(r *http.Request) string {
	if s.inbox.loopback && r.Host != "" && !loopbackHost(r.Host) {
		return "Host " + quote(r.Host) + " is not a loopback name: on a loopback address the fake's page and controls " +
			"answer only to localhost, 127.0.0.1 or [::1] (a guard against DNS rebinding); listen on another " +
			"address (--addr 0.0.0.0:8787 in a container) to reach it by another name"
	}
	if o := r.Header.Get("Origin"); o != "" && !sameOrigin(o, r.Host) {
		return "a request from the page at " + quote(o) + ": the fake's page and controls answer only to their own origin"
	}
	site := r.Header.Get("Sec-Fetch-Site")
	visit := r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		r.Header.Get("Sec-Fetch-Mode") == "navigate"
	if site != "" && site != "same-origin" && site != "none" && !visit {
		return "a request from another site's page (Sec-Fetch-Site: " + site + "): the fake's data and controls answer only to their own page"
	}
	return ""
}

// loopbackHost reports whether hostport (a Host header) names the local
// machine: localhost, a name under .localhost (which browsers resolve
// themselves, never through DNS), or a loopback address.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// sameOrigin reports whether the Origin header o is http://host, the
// fake's own origin as the request names it (port 80 may be left out).
func sameOrigin(o, host string) bool {
	u, err := url.Parse(o)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.Path != "" || u.User != nil {
		return false
	}
	return withPort(u.Host) == withPort(strings.ToLower(host))
}

func withPort(host string) string {
	host = strings.ToLower(host)
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), "80")
}

// quote shows a header value in a message, cut to 100 bytes.
func quote(v string) string {
	if len(v) > 100 {
		v = v[:100] + "…"
	}
	return `"` + strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return '?'
		}
		return r
	}, v) + `"`
}

// isLoopbackListener reports whether l listens on a loopback address only.
func isLoopbackListener(l net.Listener) bool {
	a, ok := l.Addr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// writeControlJSON writes a control answer (a status and a value), as
// serveControl does.
func writeControlJSON(w http.ResponseWriter, r *http.Request, status int, body any) {
	out := mustJSON(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(out)
	}
}
