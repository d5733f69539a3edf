package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// sigHeader is a parsed X-Sendivent-Signature value.
type sigHeader struct {
	t    string // the timestamp as sent: it is part of the signed string
	unix int64
	v1   [][sha256.Size]byte // the v1 values that can be a signature at all
}

// Parse errors. They name the element's key at most, never a value.
var (
	errNoTimestamp  = errors.New("no t= element")
	errTwoTimestamp = errors.New("more than one t= element")
	errBadTimestamp = errors.New("t= is not a number of seconds")
	errNoV1         = errors.New("no v1= element")
	errNoEquals     = errors.New("an element has no key=value form")
)

// parseHeader reads "t=<unix>,v1=<hex>[,v1=<hex>…]". It is lenient where
// leniency costs nothing: whitespace around commas and equals signs, any
// order, empty elements, and schemes other than v1 (v0=, v2=…), which are
// skipped. A v1 value that is not 64 hex digits cannot match and is dropped;
// a header whose v1 values are all dropped fails verification as unsigned.
func parseHeader(s string) (sigHeader, error) {
	var h sigHeader
	sawT, sawV1 := false, false
	for len(s) > 0 {
		var elem string
		elem, s, _ = strings.Cut(s, ",")
		elem = strings.TrimSpace(elem)
		if elem == "" {
			continue
		}
		key, val, ok := strings.Cut(elem, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok || key == "" {
			return sigHeader{}, errNoEquals
		}
		switch key {
		case "t":
			if sawT {
				return sigHeader{}, errTwoTimestamp
			}
			sawT = true
			n, err := parseUnix(val)
			if err != nil {
				return sigHeader{}, err
			}
			h.t, h.unix = val, n
		case "v1":
			sawV1 = true
			var sum [sha256.Size]byte
			if len(val) == hex.EncodedLen(len(sum)) {
				if _, err := hex.Decode(sum[:], []byte(val)); err == nil {
					h.v1 = append(h.v1, sum)
				}
			}
		}
	}
	if !sawT {
		return sigHeader{}, errNoTimestamp
	}
	if !sawV1 {
		return sigHeader{}, errNoV1
	}
	return h, nil
}

// parseUnix accepts decimal digits only: no sign, no fraction, no exponent.
func parseUnix(s string) (int64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, errBadTimestamp
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errBadTimestamp
	}
	return n, nil
}

// headerValue is h.Get(name), falling back to a case-insensitive look-up
// for headers copied from places that lowercase them (serverless events,
// hand-built maps).
func headerValue(h http.Header, name string) string {
	if v := h.Get(name); v != "" {
		return v
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs[0]
		}
	}
	return ""
}
