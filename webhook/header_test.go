package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHeader(t *testing.T) {
	t.Parallel()
	a, b := strings.Repeat("ab", 32), strings.Repeat("CD", 32)
	tests := []struct {
		in   string
		t    string
		v1   []string
		fail error
	}{
		{in: "t=1,v1=" + a, t: "1", v1: []string{a}},
		{in: " v1 = " + a + " , t = 1 ", t: "1", v1: []string{a}},
		{in: "t=1,v1=" + a + ",v1=" + b, t: "1", v1: []string{a, b}},
		{in: "t=1,v0=x,v1=" + a + ",v2=" + b + ",scheme=", t: "1", v1: []string{a}},
		{in: "t=1,v1=short,v1=" + a, t: "1", v1: []string{a}},
		{in: "t=1,v1=" + a[:63] + "g", t: "1", v1: nil},
		{in: ",,t=007,,v1=" + a + ",", t: "007", v1: []string{a}},
		{in: "", fail: errNoTimestamp},
		{in: "v1=" + a, fail: errNoTimestamp},
		{in: "t=1", fail: errNoV1},
		{in: "t=1,t=1,v1=" + a, fail: errTwoTimestamp},
		{in: "t=,v1=" + a, fail: errBadTimestamp},
		{in: "t=+1,v1=" + a, fail: errBadTimestamp},
		{in: "t=1.5,v1=" + a, fail: errBadTimestamp},
		{in: "t=1e9,v1=" + a, fail: errBadTimestamp},
		{in: "t=1 2,v1=" + a, fail: errBadTimestamp},
		{in: "t=1;v1=" + a, fail: errBadTimestamp},
		{in: "t:1,v1=" + a, fail: errNoEquals},
		{in: "=1,t=1,v1=" + a, fail: errNoEquals},
		{in: "t=1," + strings.Repeat("v1="+a+",", MaxSignatureHeaderBytes/68), t: "1", v1: slices.Repeat([]string{a}, MaxSignatureHeaderBytes/68)},
		{in: "t=1," + strings.Repeat("v1="+a+",", MaxSignatureHeaderBytes/68+1), fail: errTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			h, err := parseHeader([]string{tt.in})
			if tt.fail != nil {
				assert.ErrorIs(t, err, tt.fail)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.t, h.t)
			var v1 []string
			for _, s := range h.sigs() {
				v1 = append(v1, hex.EncodeToString(s[:]))
			}
			want := make([]string, len(tt.v1))
			for i, s := range tt.v1 {
				want[i] = strings.ToLower(s)
			}
			if len(want) == 0 {
				want = nil
			}
			assert.Equal(t, want, v1)
		})
	}
}

// sigs collects what eachV1 yields.
func (h sigHeader) sigs() [][sha256.Size]byte {
	var out [][sha256.Size]byte
	h.eachV1(func(sum [sha256.Size]byte) { out = append(out, sum) })
	return out
}

// A header sent as several lines is one list; its size cap counts them all.
func TestParseHeaderLines(t *testing.T) {
	t.Parallel()
	a, b := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	tests := []struct {
		name  string
		lines []string
		v1    int
		fail  error
	}{
		{"t and v1 on two lines", []string{"t=1", "v1=" + a}, 1, nil},
		{"v1 on each of three lines", []string{"t=1,v1=" + a, "v1=" + b, " v1=" + a + " "}, 3, nil},
		{"an empty line", []string{"t=1,v1=" + a, ""}, 1, nil},
		{"t on two lines", []string{"t=1,v1=" + a, "t=2"}, 0, errTwoTimestamp},
		{"no t on any line", []string{"v1=" + a, "v1=" + b}, 0, errNoTimestamp},
		{"lines over the cap together", slices.Repeat([]string{"t=1,v1=" + a}, MaxSignatureHeaderBytes/68+1), 0, errTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := parseHeader(tt.lines)
			if tt.fail != nil {
				assert.ErrorIs(t, err, tt.fail)
				return
			}
			require.NoError(t, err)
			assert.Len(t, h.sigs(), tt.v1)
		})
	}
}

// FuzzParseHeader checks that the parser never panics, that what it
// accepts it reads consistently (writing it back and parsing again gives
// the same), and that it reads every header Sign makes.
func FuzzParseHeader(f *testing.F) {
	sum := strings.Repeat("0f", 32)
	for _, s := range []string{
		"t=1774872000,v1=" + sum,
		" t = 1774872000 , v1 = " + sum + " ",
		"v1=" + sum + ",t=1774872000",
		"t=1774872000,v1=" + sum + ",v1=" + strings.ToUpper(sum),
		"t=1774872000,v0=abc,v2=def,v1=" + sum,
		"t=1774872000",
		"t=1,t=2,v1=" + sum,
		"t=99999999999999999999,v1=" + sum,
		"garbage",
		",,=,",
		"t=\t1\t,\tv1=" + sum[:10],
		"",
	} {
		f.Add(s, []byte(`{"event":"delivery.sent"}`))
	}
	f.Fuzz(func(t *testing.T, s string, body []byte) {
		h, err := parseHeader([]string{s})
		if err == nil {
			if h.unix < 0 || h.t == "" {
				t.Fatalf("parseHeader(%q) accepted t=%q (%d)", s, h.t, h.unix)
			}
			sigs := h.sigs()
			again := "t=" + h.t
			for _, v := range sigs {
				again += ",v1=" + hex.EncodeToString(v[:])
			}
			if len(sigs) == 0 {
				again += ",v1="
			}
			h2, err := parseHeader([]string{again})
			if err != nil || h2.t != h.t || h2.unix != h.unix || !slices.Equal(h2.sigs(), sigs) {
				t.Fatalf("parseHeader(%q) = %+v, but its rewrite %q gives %+v, %v", s, h, again, h2, err)
			}
			// Cut anywhere between elements, as several lines, it reads
			// the same.
			if i := strings.IndexByte(s, ','); i >= 0 {
				h3, err := parseHeader([]string{s[:i], s[i+1:]})
				if err != nil || h3.t != h.t || !slices.Equal(h3.sigs(), sigs) {
					t.Fatalf("parseHeader(%q) as two lines = %+v, %v; want %+v", s, h3, err, h)
				}
			}
		}
		// Whatever the body, a header made by Sign parses to its time and
		// signature.
		ts := time.Unix(int64(len(s))*1e6, 0)
		signed, err := parseHeader([]string{Sign(body, s, ts)})
		if err != nil || signed.unix != ts.Unix() || len(signed.sigs()) != 1 || signed.sigs()[0] != mac([]byte(s), signed.t, body) {
			t.Fatalf("Sign's header for %q does not parse back: %+v, %v", s, signed, err)
		}
	})
}
