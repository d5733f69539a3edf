package sendivent_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// secretKey is the key of these tests: long and unusual, so that finding it
// (or its secret part) in a string is no accident.
const secretKey = "test_S3cr3tK3yZq9vXw2"

var secretFormats = []string{"%v", "%+v", "%#v", "%s", "%q", "%x"}

// assertNoKey fails if v, printed with any verb, shows key or its secret part.
func assertNoKey(t *testing.T, what string, v any, key string) {
	t.Helper()
	secret := key[strings.IndexByte(key, '_')+1:]
	for _, f := range secretFormats {
		s := fmt.Sprintf(f, v)
		if strings.Contains(s, secret) || strings.Contains(s, fmt.Sprintf("%x", secret)) {
			t.Errorf("%s printed with %s shows the key: %s", what, f, s)
		}
	}
	if err, ok := v.(error); ok && strings.Contains(err.Error(), secret) {
		t.Errorf("%s: Error() shows the key: %s", what, err.Error())
	}
}

// TestSecretsNotInErrors: a hostile server that echoes the key everywhere
// it can does not get it into any error the SDK returns.
func TestSecretsNotInErrors(t *testing.T) {
	t.Parallel()
	k := secretKey
	bodies := []struct {
		name   string
		status int
		body   string
	}{
		{"flat", 400, `{"error":"Invalid API key ` + k + `","code":"` + k + `","field":"` + k + `","channel":"` + k + `"}`},
		{"nested", 401, `{"error":{"code":"BAD_KEY_` + k + `","message":"Bearer ` + k + ` is wrong","field":"` + k + `"}}`},
		{"message", 403, `{"message":"key=` + k + `"}`},
		{"text", 500, `upstream said: Authorization: Bearer ` + k},
		{"html title", 502, `<html><head><title>Bad key ` + k + `</title></head></html>`},
		{"2xx rejected", 200, `{"status":"rejected","error":"key ` + k + ` rejected","code":"` + k + `"}`},
		{"2xx success false", 200, `{"success":false,"errors":[{"code":"` + k + `","message":"` + k + `","field":"` + k + `"}]}`},
		{"2xx malformed", 200, `{"id":"` + k},
		{"2xx wrong shape", 200, `"` + k + `"`},
	}
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.Header().Set("X-Request-Id", "req-"+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(b.status)
				_, _ = io.WriteString(w, b.body)
			}))
			defer srv.Close()
			c, err := sendivent.NewClient(k, sendivent.WithBaseURL(srv.URL), sendivent.WithMaxRetries(0))
			require.NoError(t, err)
			_, err = c.Send(context.Background(), "welcome", sendivent.SendRequest{
				To: []sendivent.Recipient{sendivent.Address("alice@example.com")},
			})
			require.Error(t, err)
			var ae *sendivent.APIError
			var te *sendivent.TransportError
			require.True(t, errors.As(err, &ae) || errors.As(err, &te), "typed error: %T", err)
			assertNoKey(t, "send error", err, k)
			if ae != nil {
				assert.NotContains(t, string(ae.Body), k, "the raw body is scrubbed too")
			}
			_, err = c.GetNotification(context.Background(), "n1")
			if err != nil {
				assertNoKey(t, "get error", err, k)
			}
		})
	}
	t.Run("transport", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}))
		defer srv.Close()
		c, err := sendivent.NewClient(k, sendivent.WithBaseURL(srv.URL), sendivent.WithMaxRetries(0))
		require.NoError(t, err)
		_, err = c.Send(context.Background(), "welcome", sendivent.SendRequest{
			To: []sendivent.Recipient{sendivent.Address("alice@example.com")},
		})
		var te *sendivent.TransportError
		require.ErrorAs(t, err, &te)
		assertNoKey(t, "transport error", err, k)
	})
	t.Run("validation", func(t *testing.T) {
		t.Parallel()
		c, err := sendivent.NewClient(k, sendivent.WithBaseURL("http://127.0.0.1:1"))
		require.NoError(t, err)
		for _, req := range []sendivent.SendRequest{
			{},
			{To: []sendivent.Recipient{sendivent.Contact{Name: "no identifier"}}},
			{To: []sendivent.Recipient{sendivent.Address("+0123")}},
			{To: []sendivent.Recipient{sendivent.Address("a@example.com")}, IdempotencyKey: "bad\n"},
			{To: []sendivent.Recipient{sendivent.Address("a@example.com")}, Payload: sendivent.Payload{"f": func() {}}},
		} {
			_, err := c.Send(context.Background(), "welcome", req)
			var ve *sendivent.ValidationError
			require.ErrorAs(t, err, &ve)
			assertNoKey(t, "validation error", err, k)
		}
	})
}

// TestSecretsNotInNewClientErrors: NewClient's errors show at most a key's
// prefix.
func TestSecretsNotInNewClientErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key  string
		opts []sendivent.Option
	}{
		{"sk_S3cr3tK3yZq9vXw2", nil},
		{"S3cr3tK3yZq9vXw2", nil},
		{"prod-S3cr3tK3yZq9vXw2", nil},
		{"x_S3cr3tK3yZq9vXw2", nil},
		{"test_S3cr3tK3yZq9vXw2 ", nil},
		{"live_S3cr3tK3yZq9vXw2\n", nil},
		{"live_S3cr3tK3yZq9vXw2", []sendivent.Option{sendivent.WithBaseURL("http://api.example.com")}},
		{"live_S3cr3tK3yZq9vXw2", []sendivent.Option{sendivent.WithBaseURL("ftp://api.example.com")}},
		{"live_S3cr3tK3yZq9vXw2", []sendivent.Option{sendivent.WithTimeout(-1)}},
	}
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL("https://user:hunter2@proxy.example.com"))
	require.Error(t, err)
	assert.Nil(t, c)
	assert.NotContains(t, err.Error(), "hunter2", "a base URL's password is not printed")
	for _, tt := range tests {
		c, err := sendivent.NewClient(tt.key, tt.opts...)
		require.Error(t, err, "key %q", tt.key)
		assert.Nil(t, c)
		assertNoKey(t, fmt.Sprintf("NewClient(%.4s…) error", tt.key), err, "x_S3cr3tK3yZq9vXw2")
	}
}

// TestSecretsNotInFormat: printing a client or an option, with any verb,
// never shows the key.
func TestSecretsNotInFormat(t *testing.T) {
	t.Parallel()
	c, err := sendivent.NewClient(secretKey, sendivent.WithBaseURL("http://127.0.0.1:1"))
	require.NoError(t, err)
	assertNoKey(t, "*Client", c, secretKey)
	assertNoKey(t, "Client", *c, secretKey)
	assertNoKey(t, "[]*Client", []*sendivent.Client{c}, secretKey)
	assertNoKey(t, "struct holding a Client", struct{ C *sendivent.Client }{c}, secretKey)
	for _, o := range []sendivent.Option{
		sendivent.WithBaseURL("http://127.0.0.1:1"), sendivent.WithTimeout(time.Second),
		sendivent.WithUserAgent("app"), sendivent.WithMaxRetries(1),
	} {
		assertNoKey(t, "Option", o, secretKey)
	}
	assert.Contains(t, fmt.Sprint(c), "test_****", "the client shows the key's prefix only")
}

// TestSecretsNotInLogs: the debug log of successful, retried and failed
// requests has no key and only masked recipients.
func TestSecretsNotInLogs(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle(), sendiventtest.WithAPIKey(secretKey))
	defer srv.Close()
	logger, logs := chaosLogger()
	c := srv.Client(sendivent.WithLogger(logger))
	ctx := context.Background()
	recipients := []sendivent.Recipient{
		sendivent.Address("alice.secret@example.com"),
		sendivent.Address("+46701234567"),
		sendivent.Contact{Email: "bob.hidden@example.org", Phone: "+14155550123", Name: "Bob Hidden", ID: "user-98765"},
	}
	srv.Inject(sendiventtest.FailNext(1, 503).WithRetryAfter("0"), sendiventtest.DropNext(1), sendiventtest.MalformedNext(1))
	for _, r := range recipients {
		res, err := c.Send(ctx, "welcome", sendivent.SendRequest{To: []sendivent.Recipient{r}})
		require.NoError(t, err)
		_, err = c.GetNotification(ctx, res.ID)
		require.NoError(t, err)
	}
	_, err := c.Send(ctx, "welcome", sendivent.SendRequest{To: recipients})
	require.NoError(t, err)
	_, err = c.Cancel(ctx, "welcome", recipients[0])
	require.NoError(t, err)
	srv.Inject(sendiventtest.FailNext(3, 500).WithRetryAfter("0"))
	_, err = c.Send(ctx, "welcome", sendivent.SendRequest{To: recipients[:1]})
	require.Error(t, err)

	text := logs.String()
	require.NotEmpty(t, text)
	t.Logf("debug log:\n%s", text)
	assert.NotContains(t, text, strings.TrimPrefix(secretKey, "test_"), "the key in the log")
	for _, clear := range []string{"alice.secret", "bob.hidden", "701234567", "4155550123", "Bob Hidden", "user-98765"} {
		assert.NotContains(t, text, clear, "a recipient in clear in the log")
	}
	assert.Regexp(t, regexp.MustCompile(`a\*+@example\.com`), text, "the masked address is logged")
	assert.Contains(t, text, `"retrying":true`, "the retries are logged")
}

// TestSecretsLiveKeyNeedsHTTPS: a live_ key is refused over plain http to
// anything but loopback, with an error that says so.
func TestSecretsLiveKeyNeedsHTTPS(t *testing.T) {
	t.Parallel()
	const live = "live_S3cr3tK3yZq9vXw2"
	for _, u := range []string{
		"http://api.sendivent.com", "http://api.example.com:8080", "http://10.0.0.1", "http://192.168.1.10:80",
		"http://0.0.0.0:8080", "http://localhost.attacker.example", "http://127.0.0.1.nip.io", "http://[::ffff:10.0.0.1]",
		"HTTP://api.example.com",
	} {
		_, err := sendivent.NewClient(live, sendivent.WithBaseURL(u))
		if assert.Error(t, err, u) {
			assert.Contains(t, err.Error(), "http", u)
			assert.Contains(t, err.Error(), "https", "the error says what to use instead")
			assertNoKey(t, "NewClient("+u+")", err, live)
		}
	}
	for _, u := range []string{
		"http://127.0.0.1", "http://127.0.0.1:8080", "http://localhost:3000", "http://[::1]:8080", "http://[::1]",
		"https://api.example.com", "https://10.0.0.1",
	} {
		_, err := sendivent.NewClient(live, sendivent.WithBaseURL(u))
		assert.NoError(t, err, u)
	}
	// test_ keys may use plain http anywhere (a local proxy or the fake).
	_, err := sendivent.NewClient("test_k", sendivent.WithBaseURL("http://api.example.com"))
	assert.NoError(t, err)
}

// TestSecretsLiveKeyNeedsHTTPSFromEnv: the same holds for a base URL from
// $SENDIVENT_API_URL (and a key from $SENDIVENT_API_KEY).
func TestSecretsLiveKeyNeedsHTTPSFromEnv(t *testing.T) {
	t.Setenv("SENDIVENT_API_KEY", "live_S3cr3tK3yZq9vXw2")
	t.Setenv("SENDIVENT_API_URL", "http://api.example.com")
	_, err := sendivent.NewClient("")
	require.Error(t, err)
	assertNoKey(t, "NewClient from env", err, "live_S3cr3tK3yZq9vXw2")
	t.Setenv("SENDIVENT_API_URL", "http://localhost:8080")
	_, err = sendivent.NewClient("")
	require.NoError(t, err)
}

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
	t.Parallel()
	srv := atkEchoServer(t, func(w http.ResponseWriter, key string) { atkAnswer(200, `{"id":"n1","status":"`+key+`"}`)(w) })
	c := atkClient(t, srv.URL, sendivent.WithTimeScale(10)) // polls 5 to 10 ms apart, not a busy loop
	_, err := atkCall(t, 200*time.Millisecond, func(ctx context.Context) error {
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
	t.Parallel()
	srv, _ := atkStatic(t, http.StatusBadRequest, `{}`, "X-Request-Id", strings.Repeat("r", 8<<20))
	c := atkClient(t, srv.URL, sendivent.WithTimeout(5*time.Second))
	_, err := atkSend(context.Background(), c)
	var ae *sendivent.APIError
	require.ErrorAs(t, err, &ae)
	assert.LessOrEqual(t, len(ae.RequestID), 1024)
}

// TestKeyPiecesScrubbed: a server that quotes the Authorization header in a
// plain-text error body, cut at any length, or redirects to a Location that
// carries the key, gets no piece of 8 or more of the key's characters into
// an error, its Unwrap chain or the debug log.
func TestKeyPiecesScrubbed(t *testing.T) {
	t.Parallel()
	const key = "test_Zq9vXw2S3cr3tK3yAbCdEfGh1234"
	pieces := func(s string) []string {
		var found []string
		for i := 0; i+8 <= len(key); i++ {
			if strings.Contains(s, key[i:i+8]) {
				found = append(found, key[i:i+8])
			}
		}
		return found
	}
	var echoed []string
	for cut := 100; cut <= 140; cut += 5 {
		echoed = append(echoed, fmt.Sprint(cut))
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		switch {
		case strings.HasPrefix(r.URL.Path, "/text/"):
			cut := 0
			fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/text/")[:3], &cut)
			msg := "request refused; you sent the header Authorization: " + auth + " which we do not accept here"
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, msg[:min(cut, len(msg))])
		case strings.HasPrefix(r.URL.Path, "/redirect/"):
			http.Redirect(w, r, "http://127.0.0.1:1/steal?k="+strings.TrimPrefix(auth, "Bearer "), http.StatusFound)
		}
	}))
	defer srv.Close()
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	check := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		for e := err; e != nil; e = errors.Unwrap(e) {
			assert.Empty(t, pieces(e.Error()), "%T: %s", e, e.Error())
			assert.Empty(t, pieces(fmt.Sprintf("%+v", e)))
		}
		var apiErr *sendivent.APIError
		if errors.As(err, &apiErr) {
			assert.Empty(t, pieces(string(apiErr.Body)), string(apiErr.Body))
			assert.Empty(t, pieces(apiErr.Message), apiErr.Message)
		}
		var te *sendivent.TransportError
		if errors.As(err, &te) {
			for _, a := range te.Attempts {
				if a.Err != nil {
					assert.Empty(t, pieces(a.Err.Error()), a.Err.Error())
				}
			}
		}
	}
	for _, cut := range echoed {
		c, err := sendivent.NewClient(key, sendivent.WithBaseURL(srv.URL+"/text/"+cut), sendivent.WithLogger(logger))
		require.NoError(t, err)
		_, err = hostileSend(context.Background(), c)
		require.ErrorIs(t, err, sendivent.ErrValidation)
		check(t, err)
	}
	c, err := sendivent.NewClient(key, sendivent.WithBaseURL(srv.URL+"/redirect"), sendivent.WithLogger(logger),
		sendivent.WithMaxRetries(0))
	require.NoError(t, err)
	_, err = hostileSend(context.Background(), c)
	check(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, pieces(logs.String()), logs.String())
	assert.Contains(t, logs.String(), "[redacted]", "the log says where the key was")
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestAttack101KeyInReason: a 101 whose reason phrase is the key. Property:
// no piece of the key in the error, its attempts included.
func TestAttack101KeyInReason(t *testing.T) {
	t.Parallel()
	srv := atkRawServer(t, func(s *atkRaw, conn net.Conn, r *http.Request) {
		_, _ = io.WriteString(conn, "HTTP/1.1 101 "+strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")+"\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
		s.hang()
	})
	c := atkClient(t, srv.url)
	took, err := atkCall(t, 5*time.Second, func(ctx context.Context) error { _, err := atkSend(ctx, c); return err })
	atkTyped(t, err)
	assert.Less(t, took, 2*time.Second)
	atkNoKeyInErr(t, err)
}

// TestSecretsNotInLogsOfTransportErrors: an attempt that got no answer is
// logged with its error, which names the request's URL; the contact's
// identifier in its path, and a search in its query, stay out of the log
// (the route template stands in their place).
func TestSecretsNotInLogsOfTransportErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { // answers nothing: every connection is closed at once
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	logger, logs := chaosLogger()
	c, err := sendivent.NewClient(secretKey, sendivent.WithBaseURL("http://"+ln.Addr().String()),
		sendivent.WithLogger(logger), sendivent.WithMaxRetries(0))
	require.NoError(t, err)
	ctx := context.Background()

	_, err = c.Contacts.Get(ctx, "ada.private@example.com")
	require.Error(t, err)
	err = c.Contacts.AddPushToken(ctx, "+46701234567", "ExponentPushToken[tok]")
	require.Error(t, err)
	for _, err := range c.Contacts.List(ctx, sendivent.ContactListParams{Search: "lovelace.private"}) {
		require.Error(t, err)
	}

	text := logs.String()
	t.Logf("debug log:\n%s", text)
	require.Contains(t, text, "/v1/contacts/{identifier}", "the route template stands in the path")
	for _, clear := range []string{"ada.private", "701234567", "lovelace.private"} {
		assert.NotContains(t, text, clear, "a contact's identifier in the log")
	}
}

// TestSecretsNotInTransportErrors: a call that got no answer returns a
// *TransportError whose message, whose attempts and whose *url.Error name
// the request by its route template, so that an application that logs its
// errors does not log the contact (net/http's errors quote the URL).
func TestSecretsNotInTransportErrors(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { // answers nothing: every connection is closed at once
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	c, err := sendivent.NewClient(secretKey, sendivent.WithBaseURL("http://"+ln.Addr().String()),
		sendivent.WithMaxRetries(1), sendivent.WithTimeScale(1000))
	require.NoError(t, err)
	ctx := context.Background()

	calls := map[string]func() error{
		"Contacts.Get": func() error { _, err := c.Contacts.Get(ctx, "ada.private@example.com"); return err },
		"Contacts.AddPushToken": func() error {
			return c.Contacts.AddPushToken(ctx, "+46701234567", "ExponentPushToken[tok]")
		},
		"Contacts.List": func() error {
			for _, err := range c.Contacts.List(ctx, sendivent.ContactListParams{Search: "lovelace.private"}) {
				return err
			}
			return nil
		},
	}
	for name, call := range calls {
		err := call()
		var te *sendivent.TransportError
		require.ErrorAs(t, err, &te, name)
		text := err.Error()
		for _, a := range te.Attempts {
			require.Error(t, a.Err)
			text += "\n" + a.Err.Error()
		}
		var ue *url.Error
		require.ErrorAs(t, err, &ue, "%s: still a *url.Error", name)
		assert.Contains(t, ue.URL, "/v1/contacts", name)
		t.Logf("%s: %s", name, text)
		for _, clear := range []string{"ada.private", "701234567", "lovelace.private"} {
			assert.NotContains(t, text+ue.URL, clear, "%s: a contact's identifier in the error", name)
		}
	}
}
