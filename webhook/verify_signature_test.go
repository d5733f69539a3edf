package webhook_test

import (
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

// What the X-Sendivent-Signature header can do: duplicated, oversized,
// timestamps at the int64 edges, signatures of every wrong length. Only a
// valid signature within the tolerance reaches the function, and a hostile
// header costs no more than MaxSignatureHeaderBytes of parsing.

// Over real connections: several header lines are one list, as HTTP
// defines it; a header that would be ambiguous is refused.
func TestAttackSignatureHeaderLines(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	good := hexMAC(secret, ts, body)
	forged := hexMAC("whsec_another", ts, body)
	n := "Content-Length: " + strconv.Itoa(len(body))
	tests := []struct {
		name  string
		lines []string
		want  int
		// net/http may refuse the request itself, before the handler:
		// Go 1.27 answers 431 to 5,000 header lines.
		or431 bool
	}{
		{"t and v1 on two lines", []string{"X-Sendivent-Signature: t=" + ts, "X-Sendivent-Signature: v1=" + good}, http.StatusNoContent, false},
		{"a forged line and a valid one", []string{"X-Sendivent-Signature: t=" + ts + ",v1=" + forged, "X-Sendivent-Signature: v1=" + good}, http.StatusNoContent, false},
		{"a second line with another t", []string{"X-Sendivent-Signature: t=" + ts + ",v1=" + good, "X-Sendivent-Signature: t=1,v1=" + good}, http.StatusBadRequest, false},
		{"a garbage line first", []string{"X-Sendivent-Signature: garbage", "X-Sendivent-Signature: t=" + ts + ",v1=" + good}, http.StatusBadRequest, false},
		{"an empty line", []string{"X-Sendivent-Signature:", "X-Sendivent-Signature: t=" + ts + ",v1=" + good}, http.StatusNoContent, false},
		{"lowercase name", []string{"x-sendivent-signature: t=" + ts + ",v1=" + good}, http.StatusNoContent, false},
		{"only empty lines", []string{"X-Sendivent-Signature:", "X-Sendivent-Signature: "}, http.StatusBadRequest, false},
		{"5000 forged v1 values", []string{"X-Sendivent-Signature: t=" + ts + strings.Repeat(",v1="+forged, 5000)}, http.StatusBadRequest, false},
		{"5000 forged v1 lines, then the valid one", append(repeat("X-Sendivent-Signature: v1="+forged, 5000), "X-Sendivent-Signature: t="+ts+",v1="+good), http.StatusBadRequest, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c calls
			srv := serveRaw(t, webhook.Handler(secret, c.fn))
			conn := srv.dial(t)
			conn.send(postHead(append([]string{n}, tt.lines...)...).String() + string(body))
			want := []int{tt.want}
			if tt.or431 {
				want = append(want, http.StatusRequestHeaderFieldsTooLarge)
			}
			assert.Contains(t, want, conn.status())
			if tt.want != http.StatusNoContent {
				assert.Zero(t, c.n())
			}
		})
	}
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// A header of thousands of v1 values is refused as malformed before any
// signature is computed or any value decoded: it allocates no more than a
// header with one forged value. Not parallel: AllocsPerRun.
func TestAttackSignatureHeaderCostIsBounded(t *testing.T) {
	body := []byte(payload)
	ts := strconv.FormatInt(now.Unix(), 10)
	forged := hexMAC("whsec_another", ts, body)
	one := headers("t=" + ts + ",v1=" + forged)
	many := headers("t=" + ts + strings.Repeat(",v1="+forged, 15000)) // ~1 MiB, net/http's header limit
	_, err := webhook.Verify(body, many, secret, at(now))
	require.ErrorIs(t, err, webhook.ErrMalformedHeader)
	assert.Contains(t, err.Error(), "MaxSignatureHeaderBytes")

	atCap := headers("t=" + ts + strings.Repeat(",v1="+forged, (webhook.MaxSignatureHeaderBytes-20)/68))
	_, err = webhook.Verify(body, atCap, secret, at(now))
	require.ErrorIs(t, err, webhook.ErrNoValidSignature)

	if raceEnabled() {
		// sync.Pool drops items at random under -race (fmt's printers
		// among them), so allocation counts vary from run to run.
		t.Skip("allocation counts under -race are not repeatable")
	}
	allocs := func(h http.Header) float64 {
		return testing.AllocsPerRun(20, func() { _, _ = webhook.Verify(body, h, secret, at(now)) })
	}
	malformed := headers("t=" + ts) // refused on the same path: no v1
	assert.LessOrEqual(t, allocs(many), allocs(malformed), "allocations grow with the header's v1 values")

	// At the cap, every value is checked, with no allocation per value.
	assert.LessOrEqual(t, allocs(atCap), allocs(one))
}

// Timestamps at the edges of int64, each with a valid signature over the t
// as sent: none is accepted, none panics, and t = 2^63-1 is not taken for
// a time in the past (time.Unix wraps there), even with the largest
// tolerance.
func TestAttackTimestampEdges(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	signed := func(ts string) string { return "t=" + ts + ",v1=" + hexMAC(secret, ts, body) }
	maxTol := []webhook.Option{webhook.WithTolerance(math.MaxInt64)}
	tests := []struct {
		name string
		t    string
		opts []webhook.Option
		err  error
	}{
		{"2^63-1", "9223372036854775807", nil, webhook.ErrTimestampOutOfRange},
		{"2^63-1, largest tolerance", "9223372036854775807", maxTol, webhook.ErrTimestampOutOfRange},
		{"2^63-1 - 62135596800 (wraps in time.Unix)", strconv.FormatInt(math.MaxInt64-62135596800+1, 10), maxTol, webhook.ErrTimestampOutOfRange},
		{"2^63", "9223372036854775808", nil, webhook.ErrMalformedHeader},
		{"-2^63", "-9223372036854775808", nil, webhook.ErrMalformedHeader},
		{"-1", "-1", nil, webhook.ErrMalformedHeader},
		{"0", "0", nil, webhook.ErrTimestampOutOfRange},
		{"0, largest tolerance", "0", maxTol, nil},
		{"now in 100 digits", strings.Repeat("0", 90) + strconv.FormatInt(now.Unix(), 10), nil, nil},
		{"a year ahead, largest tolerance", strconv.FormatInt(now.Add(365*24*time.Hour).Unix(), 10), maxTol, nil},
		{"+now", "+" + strconv.FormatInt(now.Unix(), 10), nil, webhook.ErrMalformedHeader},
		{"now.5", strconv.FormatInt(now.Unix(), 10) + ".5", nil, webhook.ErrMalformedHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := webhook.Verify(body, headers(signed(tt.t)), secret, append([]webhook.Option{at(now)}, tt.opts...)...)
			if tt.err == nil {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.err)
		})
	}
}

// v1 values of every length but 64 hex digits cannot match: refused, over
// a real connection, without reaching the function.
func TestAttackSignatureLengths(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	good := hexMAC(secret, ts, body)
	for _, v1 := range []string{"", good[:1], good[:62], good[:63], good + "0", good + good, good + "00", strings.Repeat("0", 4096), good[:63] + "g", " " + good[:63]} {
		t.Run(strconv.Itoa(len(v1)), func(t *testing.T) {
			t.Parallel()
			var c calls
			srv := serveRaw(t, webhook.Handler(secret, c.fn))
			conn := srv.dial(t)
			conn.send(delivery(body, "t="+ts+",v1="+v1))
			assert.Equal(t, http.StatusBadRequest, conn.status())
			assert.Zero(t, c.n())
		})
	}
}

// raceEnabled reports whether the test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
