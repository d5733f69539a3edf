package sendivent_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
)

// atkStatic is an httptest server that answers every request with status
// and body, and counts the requests.
func atkStatic(t *testing.T, status int, body string, header ...string) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Add(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestAttackSendShapes: 2xx answers to a send that are valid JSON of the
// wrong shape, or the right shape said oddly. Property: only an answer
// that names a notification and says "accepted" is a success; one that
// says another status is an *APIError matching ErrRejected (with the
// response); anything else is a *TransportError matching ErrMalformed.
// A whole answer is not retried: it would be the same again.
func TestAttackSendShapes(t *testing.T) {
	t.Parallel()
	deepArr := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	deepObj := strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000)
	tests := []struct {
		name, body string
		want       error // nil: accepted
	}{
		{"unicode escape in status", `{"id":"n1","status":"accepte\u0064"}`, nil},
		{"duplicate status, last accepted", `{"id":"n1","status":"failed","status":"accepted"}`, nil},
		{"older shape", `{"success":true,"deliveries":[{"email":"d1"}]}`, nil},
		{"array of two", `[{"id":"a","status":"accepted"},{"id":"b","status":"accepted"}]`, nil},
		{"deep nesting in an unknown field", `{"id":"n1","status":"accepted","x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, nil},
		{"duplicate status, last failed", `{"id":"n1","status":"accepted","status":"failed"}`, sendivent.ErrRejected},
		{"status in capitals", `{"id":"n1","status":"ACCEPTED"}`, sendivent.ErrRejected},
		{"status with a space", `{"id":"n1","status":"accepted "}`, sendivent.ErrRejected},
		{"status queued", `{"id":"n1","status":"queued"}`, sendivent.ErrRejected},
		{"second recipient bounced", `[{"id":"a","status":"accepted"},{"id":"b","status":"bounced"}]`, sendivent.ErrRejected},
		{"older shape, success false", `{"success":false,"deliveries":[]}`, sendivent.ErrRejected},
		{"id a number", `{"id":123,"status":"accepted"}`, sendivent.ErrMalformed},
		{"id an array", `{"id":["n1"],"status":"accepted"}`, sendivent.ErrMalformed},
		{"status a number", `{"id":"n1","status":7}`, sendivent.ErrMalformed},
		{"nested arrays", `[[{"id":"n1","status":"accepted"}]]`, sendivent.ErrMalformed},
		{"100k nested arrays", deepArr, sendivent.ErrMalformed},
		{"100k nested objects", deepObj, sendivent.ErrMalformed},
		{"null", `null`, sendivent.ErrMalformed},
		{"true", `true`, sendivent.ErrMalformed},
		{"a string", `"accepted"`, sendivent.ErrMalformed},
		{"empty object", `{}`, sendivent.ErrMalformed},
		{"empty array", `[]`, sendivent.ErrMalformed},
		{"array of null", `[null]`, sendivent.ErrMalformed},
		{"empty id", `{"id":"","status":"accepted"}`, sendivent.ErrMalformed},
		{"one listed notification without id", `{"id":"n1","status":"accepted","notifications":[{"id":"n1"},{"status":"accepted"}]}`, sendivent.ErrMalformed},
		{"two values", atkAccepted + atkAccepted, sendivent.ErrMalformed},
		{"byte order mark", "\ufeff" + atkAccepted, sendivent.ErrMalformed},
		{"HTML", `<html><title>OK</title></html>`, sendivent.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, n := atkStatic(t, http.StatusOK, tt.body)
			c := atkClient(t, srv.URL, sendivent.WithMaxRetries(2), sendivent.WithTimeout(2*time.Second))
			var res *sendivent.SendResponse
			_, err := atkCall(t, 10*time.Second, func(ctx context.Context) (err error) { res, err = atkSend(ctx, c); return err })
			if tt.want == nil {
				require.NoError(t, err)
				assert.NotEmpty(t, res.ID)
				assert.Equal(t, sendivent.SendAccepted, res.Status)
				return
			}
			atkTyped(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.EqualValues(t, 1, n.Load(), "a whole answer is not retried")
			switch tt.want {
			case sendivent.ErrRejected:
				var ae *sendivent.APIError
				assert.ErrorAs(t, err, &ae)
				assert.NotNil(t, res, "a rejection comes with the response")
			case sendivent.ErrMalformed:
				var te *sendivent.TransportError
				assert.ErrorAs(t, err, &te)
				assert.Nil(t, res)
			}
		})
	}
}

// TestAttackEmptyAnswers: a 2xx with no body at all (a 204, or a 200 with
// Content-Length 0) is whole, not cut: it will be empty again. Property:
// Send fails at once with ErrMalformed and one attempt, and Wait returns
// at once rather than polling until WaitAtMost, as the issue asks for {}.
func TestAttackEmptyAnswers(t *testing.T) {
	atkFinding(t, "an empty 2xx body counts as cut (SyntaxError offset 0 >= len 0): Send retries it, and Wait polls it until WaitAtMost (10 min by default)")
	t.Parallel()
	for _, status := range []int{http.StatusOK, http.StatusNoContent} {
		srv, n := atkStatic(t, status, "")
		c := atkClient(t, srv.URL, sendivent.WithMaxRetries(2), sendivent.WithTimeout(time.Second))
		_, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
		assert.ErrorIs(t, err, sendivent.ErrMalformed)
		assert.EqualValues(t, 1, n.Load(), "%d: an empty answer is not retried", status)
		var te *sendivent.TransportError
		if assert.ErrorAs(t, err, &te) {
			assert.False(t, te.Temporary(), "%d: an empty answer will be empty again", status)
		}

		n.Store(0)
		took, err := atkCall(t, 4*time.Second, func(ctx context.Context) error {
			_, err := c.Wait(ctx, "n1", sendivent.PollEvery(50*time.Millisecond, 100*time.Millisecond))
			return err
		})
		var we *sendivent.WaitTimeoutError
		assert.False(t, errors.As(err, &we), "%d: Wait gives up at once, not at its deadline: %v after %v and %d requests", status, err, took, n.Load())
		assert.ErrorIs(t, err, sendivent.ErrMalformed)
	}
}

// TestAttackCancelShapes: Cancel's answers. Property: a typed error for a
// body of the wrong shape; an answer that says the cancel failed is not a
// success.
func TestAttackCancelShapes(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]error{
		`{"success":"yes"}`:              sendivent.ErrMalformed,
		`{"cancelled":1e400}`:            sendivent.ErrMalformed,
		`{"cancelled":"2"}`:              sendivent.ErrMalformed,
		`[]`:                             sendivent.ErrMalformed,
		`{"success":true,"cancelled":2}`: nil,
	} {
		srv, _ := atkStatic(t, http.StatusOK, body)
		c := atkClient(t, srv.URL)
		res, err := c.Cancel(context.Background(), "welcome", sendivent.Address("alice@example.com"))
		if want == nil {
			require.NoError(t, err, body)
			assert.Equal(t, 2, res.Cancelled)
			continue
		}
		atkTyped(t, err)
		assert.ErrorIs(t, err, want, body)
	}
}

// TestAttackCancelSaysFailed: a 2xx Cancel answer {"success": false}.
// Property: like a send the service did not accept (ErrRejected), it is an
// error, not err == nil with a flag the caller may not read.
func TestAttackCancelSaysFailed(t *testing.T) {
	atkFinding(t, `Cancel answered 2xx {"success":false,"error":"…"} returns err == nil (only res.Success is false), unlike Send's ErrRejected`)
	t.Parallel()
	srv, _ := atkStatic(t, http.StatusOK, `{"success":false,"error":"cancel failed"}`)
	c := atkClient(t, srv.URL)
	res, err := c.Cancel(context.Background(), "welcome", sendivent.Address("alice@example.com"))
	assert.ErrorIs(t, err, sendivent.ErrRejected, "res: %+v", res)
}

// TestAttackNotificationShapes: GetNotification's answers of the wrong
// shape. Property: ErrMalformed, one attempt.
func TestAttackNotificationShapes(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"status":123}`, `{"status":"completed","messages":"x"}`, `{"status":"completed","messages":[1]}`,
		`{}`, `[]`, `null`, strings.Repeat("[", 100_000), `{"status":"completed"}{"status":"failed"}`,
	} {
		srv, n := atkStatic(t, http.StatusOK, body)
		c := atkClient(t, srv.URL, sendivent.WithMaxRetries(2))
		_, err := c.GetNotification(context.Background(), "n1")
		atkTyped(t, err)
		assert.ErrorIs(t, err, sendivent.ErrMalformed, "%.40s", body)
		assert.EqualValues(t, 1, n.Load(), "%.40s", body)
	}
}

var (
	atkBombOnce sync.Once
	atkBomb     []byte
)

// atkGzipBomb is 64 MB of zeros, gzipped (about 64 KB): 64 times the cap.
func atkGzipBomb() []byte {
	atkBombOnce.Do(func() {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zeros := make([]byte, 1<<20)
		for i := 0; i < 64; i++ {
			_, _ = zw.Write(zeros)
		}
		_ = zw.Close()
		atkBomb = buf.Bytes()
	})
	return atkBomb
}

// TestAttackGzipBomb: answers sent with Content-Encoding: gzip that inflate
// to 64 MB. Property: a 2xx is cut at the size cap (ErrTooLarge, not
// retried), an error answer's body is cut at the cap; a caller's transport
// that did not ask for gzip gets ErrMalformed, not a decompression.
func TestAttackGzipBomb(t *testing.T) {
	t.Parallel()
	bomb := atkGzipBomb()
	for _, status := range []int{http.StatusOK, http.StatusInternalServerError} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write(bomb)
		}))
		t.Cleanup(srv.Close)
		for name, hc := range map[string]*http.Client{
			"default":           nil,
			"caller, no gzip":   {Transport: &http.Transport{DisableCompression: true}},
			"caller, with gzip": {Transport: &http.Transport{}},
		} {
			opts := []sendivent.Option{sendivent.WithTimeout(5 * time.Second)}
			if hc != nil {
				opts = append(opts, sendivent.WithHTTPClient(hc))
				t.Cleanup(hc.CloseIdleConnections)
			}
			c := atkClient(t, srv.URL, opts...)
			took, err := atkCall(t, 20*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
			atkTyped(t, err)
			t.Logf("%d %s: %v (%v)", status, name, err, took)
			var ae *sendivent.APIError
			switch {
			case status >= 300:
				if assert.ErrorAs(t, err, &ae) {
					assert.LessOrEqual(t, len(ae.Body), sendivent.DefaultMaxResponseBytes)
				}
			case name == "caller, no gzip":
				assert.ErrorIs(t, err, sendivent.ErrMalformed)
			default:
				assert.ErrorIs(t, err, sendivent.ErrTooLarge)
				assert.Equal(t, 1, atkAttempts(err))
			}
		}
	}
}
