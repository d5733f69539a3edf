package webhook

import (
	"encoding/hex"
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
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			h, err := parseHeader(tt.in)
			if tt.fail != nil {
				assert.ErrorIs(t, err, tt.fail)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.t, h.t)
			var v1 []string
			for _, s := range h.v1 {
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
		h, err := parseHeader(s)
		if err == nil {
			if h.unix < 0 || h.t == "" {
				t.Fatalf("parseHeader(%q) accepted t=%q (%d)", s, h.t, h.unix)
			}
			again := "t=" + h.t
			for _, v := range h.v1 {
				again += ",v1=" + hex.EncodeToString(v[:])
			}
			if len(h.v1) == 0 {
				again += ",v1="
			}
			h2, err := parseHeader(again)
			if err != nil || h2.t != h.t || h2.unix != h.unix || len(h2.v1) != len(h.v1) {
				t.Fatalf("parseHeader(%q) = %+v, but its rewrite %q gives %+v, %v", s, h, again, h2, err)
			}
			for i := range h.v1 {
				if h.v1[i] != h2.v1[i] {
					t.Fatalf("v1[%d] differs after rewriting %q", i, s)
				}
			}
		}
		// Whatever the body, a header made by Sign parses to its time and
		// signature.
		ts := time.Unix(int64(len(s))*1e6, 0)
		signed, err := parseHeader(Sign(body, s, ts))
		if err != nil || signed.unix != ts.Unix() || len(signed.v1) != 1 || signed.v1[0] != mac([]byte(s), signed.t, body) {
			t.Fatalf("Sign's header for %q does not parse back: %+v, %v", s, signed, err)
		}
	})
}
