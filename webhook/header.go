package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// MaxSignatureHeaderBytes caps the X-Sendivent-Signature header, all its
// lines together. The service sends one signature (two while it rotates a
// secret), about 80 bytes each; a longer header is refused as malformed
// before any signature is computed, so that its cost stays bounded.
const MaxSignatureHeaderBytes = 8 << 10

// sigHeader is a parsed X-Sendivent-Signature header.
type sigHeader struct {
	t     string // the timestamp as sent: it is part of the signed string
	unix  int64
	lines []string // the header's values, read again for the v1 elements
}

// Parse errors. They name the element's key at most, never a value.
var (
	errNoTimestamp  = errors.New("no t= element")
	errTwoTimestamp = errors.New("more than one t= element")
	errBadTimestamp = errors.New("t= is not a number of seconds")
	errNoV1         = errors.New("no v1= element")
	errNoEquals     = errors.New("an element has no key=value form")
	errTooLong      = errors.New("over MaxSignatureHeaderBytes")
)

// parseHeader reads "t=<unix>,v1=<hex>[,v1=<hex>…]". A header sent as
// several lines is one comma-separated list, as HTTP defines it. It is
// lenient where leniency costs nothing: whitespace around commas and equals
// signs, any order, empty elements, and schemes other than v1 (v0=, v2=…),
// which are skipped. The v1 values are read later, by eachV1.
func parseHeader(lines []string) (sigHeader, error) {
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	if n > MaxSignatureHeaderBytes {
		return sigHeader{}, errTooLong
	}
	h := sigHeader{lines: lines}
	sawT, sawV1 := false, false
	for e := (elements{lines: lines}); ; {
		key, val, ok, err := e.next()
		if err != nil {
			return sigHeader{}, err
		}
		if !ok {
			break
		}
		switch key {
		case "t":
			if sawT {
				return sigHeader{}, errTwoTimestamp
			}
			sawT = true
			if h.unix, err = parseUnix(val); err != nil {
				return sigHeader{}, err
			}
			h.t = val
		case "v1":
			sawV1 = true
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

// eachV1 calls fn with each v1 value that can be a signature at all (64
// hex digits, either case), decoded; others cannot match and are skipped.
func (h sigHeader) eachV1(fn func(sum [sha256.Size]byte)) {
	var sum [sha256.Size]byte
	for e := (elements{lines: h.lines}); ; {
		key, val, ok, _ := e.next() // parseHeader found no error
		if !ok {
			return
		}
		if key == "v1" && len(val) == hex.EncodedLen(len(sum)) {
			if _, err := hex.Decode(sum[:], []byte(val)); err == nil {
				fn(sum)
			}
		}
	}
}

// elements walks the key=value elements of a header's lines.
type elements struct {
	lines []string
	rest  string
}

func (e *elements) next() (key, val string, ok bool, err error) {
	for {
		if e.rest == "" {
			if len(e.lines) == 0 {
				return "", "", false, nil
			}
			e.rest, e.lines = e.lines[0], e.lines[1:]
			continue
		}
		var elem string
		elem, e.rest, _ = strings.Cut(e.rest, ",")
		if elem = strings.TrimSpace(elem); elem == "" {
			continue
		}
		key, val, ok = strings.Cut(elem, "=")
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !ok || key == "" {
			return "", "", false, errNoEquals
		}
		return key, val, true, nil
	}
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

// headerValues is h.Values(name), falling back to a case-insensitive
// look-up for headers copied from places that lowercase them (serverless
// events, hand-built maps).
func headerValues(h http.Header, name string) []string {
	if vs := h.Values(name); len(vs) > 0 {
		return vs
	}
	for k, vs := range h {
		if len(vs) > 0 && strings.EqualFold(k, name) {
			return vs
		}
	}
	return nil
}

// headerValue is the first of headerValues.
func headerValue(h http.Header, name string) string {
	if vs := headerValues(h, name); len(vs) > 0 {
		return vs[0]
	}
	return ""
}
