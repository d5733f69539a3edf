package sendiventtest

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// The server's endpoints are two route tables: the service's API (apiRoutes)
// and the fake's controls under /_fake/ (controlRoutes). Each file that
// implements endpoints adds its own routes in an init function, so a new
// concern (contacts, webhooks…) is a new file, not an edit of a shared list.

// router matches a request's method and escaped path against patterns such as
// "/v1/send/{event}/{channel}": a {name} segment captures one non-empty path
// segment, unescaped; other segments match literally. When several patterns
// match a request, the most specific wins: the one with a literal where the
// others have a wildcard, comparing segments left to right (as
// net/http.ServeMux does).
type router[H any] struct {
	routes []routeEntry[H]
}

type routeEntry[H any] struct {
	method string
	segs   []string // literal segments, or "{name}"
	h      H
}

// params are a matched route's captured segments.
type params map[string]string

// add registers h for method and pattern; a pattern registered twice for a
// method is a programming error.
func (rt *router[H]) add(method, pattern string, h H) {
	segs := strings.Split(strings.TrimPrefix(pattern, "/"), "/")
	for _, e := range rt.routes {
		if e.method == method && slices.Equal(e.segs, segs) {
			panic(fmt.Sprintf("sendiventtest: route %s %s registered twice", method, pattern))
		}
	}
	rt.routes = append(rt.routes, routeEntry[H]{method: method, segs: segs, h: h})
}

// find returns the handler for method and escaped path. When the path
// matches only for other methods, found is false and allow lists those
// methods; when nothing matches, allow is empty.
func (rt *router[H]) find(method, escaped string) (h H, p params, allow []string, found bool) {
	segs, ok := splitPath(escaped)
	if !ok {
		return h, nil, nil, false
	}
	var best *routeEntry[H]
	for i := range rt.routes {
		e := &rt.routes[i]
		if _, ok := match(e.segs, segs); !ok {
			continue
		}
		if e.method != method {
			if !slices.Contains(allow, e.method) {
				allow = append(allow, e.method)
			}
			continue
		}
		if best == nil || moreSpecific(e.segs, best.segs) {
			best = e
		}
	}
	if best == nil {
		slices.Sort(allow)
		return h, nil, allow, false
	}
	p, _ = match(best.segs, segs)
	return best.h, p, nil, true
}

// splitPath unescapes each segment of an escaped path; a segment that is
// empty or badly escaped matches nothing.
func splitPath(escaped string) ([]string, bool) {
	rest, ok := strings.CutPrefix(escaped, "/")
	if !ok {
		return nil, false
	}
	segs := strings.Split(rest, "/")
	for i, sg := range segs {
		u, err := url.PathUnescape(sg)
		if err != nil || u == "" {
			return nil, false
		}
		segs[i] = u
	}
	return segs, true
}

func isWildcard(seg string) bool {
	return len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}'
}

func match(pattern, segs []string) (params, bool) {
	if len(pattern) != len(segs) {
		return nil, false
	}
	var p params
	for i, ps := range pattern {
		switch {
		case isWildcard(ps):
			if p == nil {
				p = params{}
			}
			p[ps[1:len(ps)-1]] = segs[i]
		case ps != segs[i]:
			return nil, false
		}
	}
	return p, true
}

// moreSpecific reports whether pattern a has a literal where b first has a
// wildcard.
func moreSpecific(a, b []string) bool {
	for i := range a {
		if wa, wb := isWildcard(a[i]), isWildcard(b[i]); wa != wb {
			return !wa
		}
	}
	return false
}

// apiRoute is one endpoint of the service's API.
type apiRoute struct {
	endpoint Endpoint
	// idempotent routes answer a repeated X-Idempotency-Key with the first
	// answer (or 409 when the request differs).
	idempotent bool
	// serve answers the request; it runs with the server's lock held.
	serve func(s *Server, x *exchange) reply
}

// exchange is one API request on its way through the server.
type exchange struct {
	raw []byte   // the body, capped at maxBody
	rec *Request // its record, which serve may complete (Created)
	p   params
}

var (
	apiRoutes     router[apiRoute]
	controlRoutes router[controlHandler]
)

// addAPIRoute registers an API endpoint; call it from an init function.
func addAPIRoute(method, pattern string, r apiRoute) { apiRoutes.add(method, pattern, r) }

// addControlRoute registers a control endpoint (pattern starts with
// "/_fake/"); call it from an init function.
func addControlRoute(method, pattern string, h controlHandler) {
	controlRoutes.add(method, pattern, h)
}

// knownEndpoint reports whether e is EndpointAll or the endpoint of a route.
func knownEndpoint(e Endpoint) bool {
	if e == EndpointAll {
		return true
	}
	for _, r := range apiRoutes.routes {
		if r.h.endpoint == e {
			return true
		}
	}
	return false
}
