package sendivent

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// service is what every service of a Client (Contacts, Events, Deliveries,
// Integrations, Webhooks) holds: the client. One value serves them all, as in
// go-github, so the services cost the client nothing.
type service struct{ c *Client }

// client is the service's client; nil for a nil service, which do reports
// as an unusable client.
func (s *service) client() *Client {
	if s == nil {
		return nil
	}
	return s.c
}

// pathSegment escapes s as one path segment, the one rule for every
// identifier in every path: the official SDKs' (JavaScript's
// encodeURIComponent). Every byte but letters, digits and - _ . ! ~ * ' ( )
// is percent-encoded, so "user+tag@example.com" becomes
// "user%2Btag%40example.com", "+46701234567" "%2B46701234567" and "a b"
// "a%20b". url.PathEscape leaves + and @ as they are (a server may read a +
// as a space), and url.QueryEscape encodes ! * ' ( ), which the official
// SDKs send as they are. A segment with nothing to escape is returned as it
// is, without a copy.
func pathSegment(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !uriComponentSafe(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hex = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		if c := s[i]; uriComponentSafe(c) {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return string(b)
}

// uriComponentSafe reports whether encodeURIComponent leaves c as it is.
func uriComponentSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-_.!~*'()", c) >= 0
}

// checkIdentifier refuses an identifier that cannot name anything: empty,
// with space around it, with a control character, or a path's "." or "..",
// which a proxy may resolve before the service sees it.
func checkIdentifier(field, s string) error {
	switch {
	case s == "":
		return invalid(field, "empty "+field)
	case strings.TrimSpace(s) != s:
		return invalid(field, field+" "+strconv.Quote(s)+" has leading or trailing space")
	case s == "." || s == "..":
		return invalid(field, field+" "+strconv.Quote(s)+" is a path segment, not an identifier")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return invalid(field, field+" contains a control character")
		}
	}
	return nil
}

// fields reads an answer's JSON object, unwrapping the {"success": true,
// "data": {...}} envelope of the contacts and developer endpoints; an
// answer without the envelope is read as it is. A 2xx that says "success":
// false is an *APIError matching ErrRejected.
func fields(a *answer) (map[string]json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(a.body, &top); err != nil {
		return nil, malformed(err, a.body)
	}
	if string(top["success"]) == "false" {
		return nil, refusal(a, "success")
	}
	if d := top["data"]; firstByte(d) >= 0 && d[firstByte(d)] == '{' {
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(d, &inner); err != nil {
			return nil, malformed(err, a.body)
		}
		return inner, nil
	}
	return top, nil
}

// refusal is a 2xx answer whose body says the call was not done: its flag
// (success, deleted) is false. It matches ErrRejected.
func refusal(a *answer, flag string) *APIError {
	e := &APIError{StatusCode: a.status, RequestID: a.header.Get("X-Request-Id")}
	e.decodeBody(a.body)
	if e.Message == "" {
		e.Message = "the service answered \"" + flag + "\": false"
	}
	return e
}

// member decodes the first of keys that f holds into v. When f holds none
// of them (or only nulls), the error matches ErrMalformed: the answer does
// not say what the call asked.
func member(f map[string]json.RawMessage, v any, keys ...string) error {
	for _, k := range keys {
		raw, ok := f[k]
		if !ok || string(raw) == "null" {
			continue
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return malformed(err, raw)
		}
		return nil
	}
	return &malformedError{err: errors.New("the answer has no " + strconv.Quote(keys[0]))}
}

// object decodes into v the object that f holds under key or, when f has
// no key but has marker, f itself: an answer that is the object, without
// the wrapper.
func object(f map[string]json.RawMessage, v any, key, marker string) error {
	if _, ok := f[key]; !ok {
		if _, ok := f[marker]; ok {
			b, _ := json.Marshal(f) // raw messages from a decode always encode
			if err := json.Unmarshal(b, v); err != nil {
				return malformed(err, b)
			}
			return nil
		}
	}
	return member(f, v, key)
}

// decodeObject reads an answer that holds one object under key (in the
// data envelope or not), or is the object, which then has marker.
func decodeObject[T any](key, marker string) func(*answer) (*T, error) {
	return func(a *answer) (*T, error) {
		f, err := fields(a)
		if err != nil {
			return nil, err
		}
		v := new(T)
		if err := object(f, v, key, marker); err != nil {
			return nil, err
		}
		return v, nil
	}
}

// decodeList reads an answer that holds a list under key.
func decodeList[T any](key string) func(*answer) ([]T, error) {
	return func(a *answer) ([]T, error) {
		f, err := fields(a)
		if err != nil {
			return nil, err
		}
		var out []T
		if err := member(f, &out, key); err != nil {
			return nil, err
		}
		return out, nil
	}
}

// doneAnswer reads the answer of a call that returns nothing. Any 2xx is
// done, whatever its body, unless the body says "success": false or
// "deleted": false.
func doneAnswer(a *answer) (struct{}, error) {
	var f struct {
		Success *bool `json:"success"`
		Deleted *bool `json:"deleted"`
	}
	if firstByte(a.body) < 0 || json.Unmarshal(a.body, &f) != nil {
		return struct{}{}, nil
	}
	switch {
	case f.Success != nil && !*f.Success:
		return struct{}{}, refusal(a, "success")
	case f.Deleted != nil && !*f.Deleted:
		return struct{}{}, refusal(a, "deleted")
	}
	return struct{}{}, nil
}

// lenientString reads a JSON string, or a number as its text (an id the
// service may send either way); anything else is "".
func lenientString(raw json.RawMessage) string {
	if i := firstByte(raw); i >= 0 && (raw[i] == '-' || raw[i] >= '0' && raw[i] <= '9') {
		var n json.Number
		if json.Unmarshal(raw, &n) == nil {
			return n.String()
		}
	}
	return jsonString(raw)
}
