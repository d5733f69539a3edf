package sendivent_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
)

// atkEchoServer answers every request with answer(key), where key is the
// API key the request carried.
func atkEchoServer(t *testing.T, answer func(w http.ResponseWriter, key string)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		answer(w, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func atkAnswer(status int, body string, header ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// TestAttackKeyEchoed: servers that echo the key they were sent into every
// place an error reads: plain text cut at every length from either end,
// each JSON field the SDK decodes, X-Request-Id, an HTML title, a 2xx
// rejection's status, a body cut at the size cap just inside the key.
// Property: no run of 8 of the key's characters in the error, its fields,
// its attempts or the debug log.
func TestAttackKeyEchoed(t *testing.T) {
	t.Parallel()
	type echo func(key string) func(http.ResponseWriter)
	cases := map[string]echo{
		"text": func(k string) func(http.ResponseWriter) {
			return atkAnswer(400, "you sent Authorization: Bearer "+k+".")
		},
		"json fields": func(k string) func(http.ResponseWriter) {
			return atkAnswer(422, fmt.Sprintf(`{"error":%q,"code":%[1]q,"field":%[1]q,"channel":%[1]q,"message":%[1]q}`, k))
		},
		"json nested": func(k string) func(http.ResponseWriter) {
			return atkAnswer(400, fmt.Sprintf(`{"error":{"message":%q,"code":%[1]q,"field":%[1]q}}`, k))
		},
		"json errors": func(k string) func(http.ResponseWriter) {
			return atkAnswer(400, fmt.Sprintf(`{"errors":[{"message":%q,"code":%[1]q,"field":%[1]q}]}`, k))
		},
		"json escaped": func(k string) func(http.ResponseWriter) { return atkAnswer(401, `{"error":"`+atkUEscape(k)+`"}`) },
		"request id":   func(k string) func(http.ResponseWriter) { return atkAnswer(503, "", "X-Request-Id", k) },
		"html title":   func(k string) func(http.ResponseWriter) { return atkAnswer(502, "<html><title>"+k+"</title></html>") },
		"2xx status":   func(k string) func(http.ResponseWriter) { return atkAnswer(200, `{"id":"n1","status":"`+k+`"}`) },
		"2xx error": func(k string) func(http.ResponseWriter) {
			return atkAnswer(200, `{"status":"rejected","error":"Bearer `+k+`"}`)
		},
		"2xx list": func(k string) func(http.ResponseWriter) {
			return atkAnswer(200, `[{"id":"a","status":"accepted"},{"id":"b","status":"no","error":"`+k+`"}]`)
		},
		"cut at the cap": func(k string) func(http.ResponseWriter) { return atkAnswer(500, strings.Repeat("x", 4096-10)+k) },
	}
	for n := 8; n <= len(atkKey); n++ {
		cases[fmt.Sprintf("text, first %d", n)] = func(k string) func(http.ResponseWriter) { return atkAnswer(400, "Bearer "+k[:n]) }
		cases[fmt.Sprintf("text, last %d", n)] = func(k string) func(http.ResponseWriter) { return atkAnswer(400, k[len(k)-n:]+" was refused") }
		cases[fmt.Sprintf("text, cut by the 120-byte excerpt at %d", n)] = func(k string) func(http.ResponseWriter) {
			return atkAnswer(400, strings.Repeat("y", 120-n)+k)
		}
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := atkEchoServer(t, func(w http.ResponseWriter, key string) { answer(key)(w) })
			var logs sendivent.SyncBuffer
			c := atkClient(t, srv.URL, sendivent.WithMaxResponseBytes(4096),
				sendivent.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			_, err := atkCall(t, 10*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
			atkTyped(t, err)
			atkNoKeyInErr(t, err)
			atkNoKey(t, "the debug log", logs.String())
		})
	}
}

// atkUEscape writes every byte of s as a JSON \u escape.
func atkUEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		fmt.Fprintf(&b, `\u%04x`, s[i])
	}
	return b.String()
}

// TestAttackKeyInRejectedRaw: a 2xx rejection that echoes the key. The
// APIError is scrubbed; the SendResponse returned with it keeps the raw
// body. Property: nothing the failed call returns holds the key.
func TestAttackKeyInRejectedRaw(t *testing.T) {
	atkFinding(t, "a 2xx rejection echoing the key: APIError.Body is scrubbed but the SendResponse returned with it keeps the key in Raw")
	t.Parallel()
	srv := atkEchoServer(t, func(w http.ResponseWriter, key string) {
		atkAnswer(200, `{"id":"n1","status":"rejected","error":"Bearer `+key+`"}`)(w)
	})
	c := atkClient(t, srv.URL)
	res, err := atkSend(context.Background(), c)
	require.ErrorIs(t, err, sendivent.ErrRejected)
	atkNoKeyInErr(t, err)
	require.NotNil(t, res)
	atkNoKey(t, "SendResponse.Raw", string(res.Raw))
}

// TestAttackKeyEncoded: a server that echoes the key encoded (base64,
// percent-encoding, hex, JSON \u escapes) in a body, or percent-encoded in
// a redirect's Location. Property: no whole encoded key in an error. (The
// SDK scrubs only the key's own characters.)
func TestAttackKeyEncoded(t *testing.T) {
	atkFinding(t, "an encoded key (base64, %XX, hex, \\u escapes) survives in APIError.Body/Message and in a redirect's URL inside TransportError")
	t.Parallel()
	pct := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			fmt.Fprintf(&b, "%%%02X", s[i])
		}
		return b.String()
	}
	encodings := map[string]func(string) string{
		"base64":        func(k string) string { return base64.StdEncoding.EncodeToString([]byte("Bearer " + k)) },
		"percent":       pct,
		"hex":           func(k string) string { return hex.EncodeToString([]byte(k)) },
		"json \\u body": atkUEscape,
	}
	for name, enc := range encodings {
		srv := atkEchoServer(t, func(w http.ResponseWriter, key string) { atkAnswer(400, "token="+enc(key))(w) })
		c := atkClient(t, srv.URL)
		_, err := atkSend(context.Background(), c)
		atkTyped(t, err)
		assert.NotContains(t, fmt.Sprintf("%v %+v", err, err), enc(atkKey), name)
	}
	srv := atkEchoServer(t, func(w http.ResponseWriter, key string) {
		w.Header().Set("Location", "http://127.0.0.1:1/steal?k="+pct(key))
		w.WriteHeader(http.StatusFound)
	})
	c := atkClient(t, srv.URL, sendivent.WithMaxRetries(0))
	_, err := atkSend(context.Background(), c)
	atkTyped(t, err)
	assert.NotContains(t, err.Error(), pct(atkKey), "redirect")
}

// TestAttackWaitStatusKey: a notification whose status is the key, never
// terminal. Property: the WaitTimeoutError's message holds no piece of it.
func TestAttackWaitStatusKey(t *testing.T) {
	atkFinding(t, "WaitTimeoutError.Error() prints the last status verbatim: a server that echoes the key as status gets it into the error")
	t.Parallel()
	srv := atkEchoServer(t, func(w http.ResponseWriter, key string) { atkAnswer(200, `{"id":"n1","status":"`+key+`"}`)(w) })
	c := atkClient(t, srv.URL)
	_, err := atkCall(t, 600*time.Millisecond, func(ctx context.Context) error {
		_, err := c.Wait(ctx, "n1", sendivent.PollEvery(50*time.Millisecond, 100*time.Millisecond))
		return err
	})
	var we *sendivent.WaitTimeoutError
	require.ErrorAs(t, err, &we)
	atkNoKeyInErr(t, err)
}

// TestAttackControlCharsInErrors: error bodies carrying NUL, ESC (terminal
// escape sequences) and newlines (a forged log line). Property: the
// error's message, which callers print and log as it is, holds no control
// character.
func TestAttackControlCharsInErrors(t *testing.T) {
	atkFinding(t, "APIError.Error() passes control characters from the server through: NUL, ESC sequences, and \\n from a JSON message (log forging)")
	t.Parallel()
	for _, body := range []string{
		`{"error":"bad\nlevel=ERROR msg=\"forged log line\"","code":"X\u001b[2J"}`,
		"denied \x1b]0;pwned\x07 \x00\x00",
	} {
		srv, _ := atkStatic(t, http.StatusBadRequest, body)
		c := atkClient(t, srv.URL)
		_, err := atkSend(context.Background(), c)
		atkTyped(t, err)
		msg := err.Error()
		assert.False(t, strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }), "%q", msg)
	}
}

// TestAttackHugeRequestID: an X-Request-Id of 8 MB (net/http allows 10 MB
// of headers). Property: the APIError keeps a bounded id, as it keeps a
// bounded body. (Scrubbing it is also O(len·len(key)): 2.4 s of CPU per
// answer with a 1 KB key, outside the attempt's bound.)
func TestAttackHugeRequestID(t *testing.T) {
	atkFinding(t, "X-Request-Id is kept whole (up to 10 MB) in APIError.RequestID and scrubbed at O(len x len(key)) CPU; cap it like the body")
	t.Parallel()
	srv, _ := atkStatic(t, http.StatusBadRequest, `{}`, "X-Request-Id", strings.Repeat("r", 8<<20))
	c := atkClient(t, srv.URL, sendivent.WithTimeout(5*time.Second))
	_, err := atkSend(context.Background(), c)
	var ae *sendivent.APIError
	require.ErrorAs(t, err, &ae)
	assert.LessOrEqual(t, len(ae.RequestID), 1024)
}
