package sendivent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
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
