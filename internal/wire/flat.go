package wire

// DecodeFlat is a fast path for the most common answer: a JSON object whose
// members are all plain strings under known keys, such as
// {"id":"…","event":"welcome","status":"accepted"}. When body is such an
// object it sets vals[i] to the value of keys[i], a slice of body (nil when
// absent; a later duplicate wins, as in encoding/json) and reports true.
// Anything else (another key, a key in other case, a value that is not a
// string, a string with an escape, a control or non-ASCII byte, trailing
// data) reports false with vals as it was, and the caller decodes with
// encoding/json, which then gives the same strings or the error. The caller
// makes the strings, so it can reuse ones it already holds.
func DecodeFlat(body []byte, keys []string, vals [][]byte) bool {
	var found [8][]byte
	if len(keys) > len(found) || len(vals) != len(keys) {
		return false
	}
	i := skipSpace(body, 0)
	if i == len(body) || body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return skipSpace(body, i+1) == len(body)
	}
	for {
		k, next, ok := plainString(body, i)
		if !ok {
			return false
		}
		n := -1
		for j, want := range keys {
			if string(k) == want {
				n = j
				break
			}
		}
		if n < 0 {
			return false
		}
		i = skipSpace(body, next)
		if i == len(body) || body[i] != ':' {
			return false
		}
		v, next, ok := plainString(body, skipSpace(body, i+1))
		if !ok {
			return false
		}
		found[n] = v
		i = skipSpace(body, next)
		if i == len(body) {
			return false
		}
		if body[i] == '}' {
			if skipSpace(body, i+1) != len(body) {
				return false
			}
			break
		}
		if body[i] != ',' {
			return false
		}
		i = skipSpace(body, i+1)
	}
	copy(vals, found[:len(keys)])
	return true
}

// plainString reads the string starting at body[i] if it holds only
// printable ASCII without escapes, and returns its contents and the index
// after its closing quote.
func plainString(body []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(body) || body[i] != '"' {
		return nil, 0, false
	}
	for j := i + 1; j < len(body); j++ {
		switch c := body[j]; {
		case c == '"':
			return body[i+1 : j], j + 1, true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, 0, false
		}
	}
	return nil, 0, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}
