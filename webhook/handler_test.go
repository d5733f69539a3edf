package webhook_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

// calls counts a handler function's calls and keeps the events.
type calls struct {
	mu     sync.Mutex
	events []*webhook.Event
	err    error // what the function returns
}

func (c *calls) fn(_ context.Context, ev *webhook.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, ev)
	return c.err
}

func (c *calls) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.events)
}

// post serves one delivery of body, signed by sig, to h.
func post(h http.Handler, body []byte, sig string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	for k, v := range headers(sig) {
		r.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// event is a signed delivery of type typ for delivery uuid.
func event(typ webhook.EventType, uuid string) []byte {
	return []byte(`{"event":"` + string(typ) + `","delivery":{"uuid":"` + uuid + `"}}`)
}

func TestHandlerMethods(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			var c calls
			h := webhook.Handler(secret, c.fn, at(now))
			r := httptest.NewRequest(m, "/webhook", bytes.NewReader(body))
			r.Header.Set(webhook.SignatureHeader, signature(secret, now, body))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
			assert.Equal(t, "POST", w.Header().Get("Allow"))
			assert.Zero(t, c.n())
		})
	}
}

// Whatever fails verification is answered 400 and never reaches fn.
func TestHandlerRefuses(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	changed := bytes.Replace(body, []byte("HARD_BOUNCE"), []byte("SOFT_BOUNCE"), 1)
	tests := []struct {
		name string
		body []byte
		sig  string
	}{
		{"missing header", body, ""},
		{"garbage header", body, "garbage"},
		{"another secret", body, signature("whsec_another", now, body)},
		{"body changed", changed, signature(secret, now, body)},
		{"6 minutes old", body, signature(secret, now.Add(-6*time.Minute), body)},
		{"6 minutes ahead", body, signature(secret, now.Add(6*time.Minute), body)},
		{"signed, not JSON", []byte("hello"), signature(secret, now, []byte("hello"))},
		{"empty body", nil, signature(secret, now, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c calls
			w := post(webhook.Handler(secret, c.fn, at(now)), tt.body, tt.sig)
			assert.Equal(t, http.StatusBadRequest, w.Code)
			assert.Zero(t, c.n(), "fn was called")
			assert.Equal(t, "Bad Request\n", w.Body.String(), "the answer says no more than the status")
		})
	}
}

func TestHandlerTooLarge(t *testing.T) {
	t.Parallel()
	const limit = 100
	small := []byte(`{"event":"delivery.sent","pad":"` + strings.Repeat("x", limit-34) + `"}`)
	require.Len(t, small, limit)
	big := append(bytes.Clone(small[:limit-2]), `x"}`...)
	tests := []struct {
		name    string
		body    []byte
		chunked bool // no Content-Length: the cap must hold while reading
		want    int
	}{
		{"at the cap", small, false, http.StatusNoContent},
		{"at the cap, chunked", small, true, http.StatusNoContent},
		{"one over", big, false, http.StatusRequestEntityTooLarge},
		{"one over, chunked", big, true, http.StatusRequestEntityTooLarge},
		{"10 MB, chunked", bytes.Repeat([]byte("x"), 10<<20), true, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c calls
			h := webhook.Handler(secret, c.fn, at(now), webhook.WithMaxBodyBytes(limit))
			src := &countingReader{r: bytes.NewReader(tt.body)}
			r := httptest.NewRequest(http.MethodPost, "/webhook", src)
			r.Header.Set(webhook.SignatureHeader, signature(secret, now, tt.body))
			r.ContentLength = int64(len(tt.body))
			if tt.chunked {
				r.ContentLength = -1
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tt.want, w.Code)
			assert.LessOrEqual(t, src.n, int64(limit+512), "read far past the cap")
			if tt.want != http.StatusNoContent {
				assert.Zero(t, c.n())
			}
		})
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestHandlerCallsOncePerEvent(t *testing.T) {
	t.Parallel()
	var c calls
	h := webhook.Handler(secret, c.fn, at(now))
	sent, delivered := event(webhook.DeliverySent, "d1"), event(webhook.DeliveryDelivered, "d1")
	noUUID := []byte(`{"event":"delivery.sent"}`)
	steps := []struct {
		name  string
		body  []byte
		want  int
		calls int
	}{
		{"first delivery", sent, http.StatusNoContent, 1},
		{"again", sent, http.StatusOK, 1},
		{"again, signed later", sent, http.StatusOK, 1}, // a retry is signed anew
		{"next event of the same delivery", delivered, http.StatusNoContent, 2},
		{"another delivery", event(webhook.DeliverySent, "d2"), http.StatusNoContent, 3},
		{"no uuid: the body dedupes", noUUID, http.StatusNoContent, 4},
		{"no uuid, same body", noUUID, http.StatusOK, 4},
	}
	for i, s := range steps {
		sig := signature(secret, now.Add(time.Duration(i)*time.Second), s.body)
		w := post(h, s.body, sig)
		assert.Equal(t, s.want, w.Code, s.name)
		assert.Equal(t, s.calls, c.n(), s.name)
	}
	ev := c.events[0]
	assert.Equal(t, webhook.DeliverySent, ev.Type)
	assert.Equal(t, "d1", ev.Delivery.UUID)
	assert.Equal(t, "wh_attempt_1", ev.WebhookID)
	assert.Equal(t, string(sent), string(ev.Raw))

	// The webhook id is not signed: a replay of the same signed body with
	// new ids, or none, is the same event.
	for _, id := range []string{"", "wh_replay_1", "wh_replay_2"} {
		r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(noUUID))
		r.Header.Set(webhook.SignatureHeader, signature(secret, now, noUUID))
		if id != "" {
			r.Header.Set(webhook.WebhookIDHeader, id)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		assert.Equal(t, http.StatusOK, w.Code, "webhook id %q", id)
	}
	assert.Equal(t, 4, c.n())
}

func TestHandlerWithoutDeduper(t *testing.T) {
	t.Parallel()
	var c calls
	h := webhook.Handler(secret, c.fn, at(now), webhook.WithDeduper(nil))
	body := event(webhook.DeliverySent, "d1")
	for range 3 {
		assert.Equal(t, http.StatusNoContent, post(h, body, signature(secret, now, body)).Code)
	}
	assert.Equal(t, 3, c.n())
}

func TestHandlerLogsRefusalsWithoutSecrets(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	var c calls
	h := webhook.Handler(secret, c.fn, at(now), webhook.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	body := []byte(payload)
	post(h, body, signature("whsec_another", now, body))
	post(h, body, signature(secret, now.Add(-time.Hour), body))
	post(h, body, "t=1")
	out := logs.String()
	assert.Contains(t, out, "no valid signature")
	assert.Contains(t, out, "out of range")
	assert.Contains(t, out, "malformed")
	assert.Contains(t, out, "wh_attempt_1")
	assertNoSecrets(t, out)
	assert.Zero(t, c.n())
}

// Over a real connection, with a request made by webhook.NewRequest.
func TestHandlerOverHTTP(t *testing.T) {
	t.Parallel()
	got := make(chan *webhook.Event, 1)
	srv := httptest.NewServer(webhook.Handler(secret, func(ctx context.Context, ev *webhook.Event) error {
		got <- ev
		return nil
	}))
	defer srv.Close()

	body := []byte(payload)
	r, err := webhook.NewRequest(context.Background(), srv.URL, body, secret, time.Now())
	require.NoError(t, err)
	r.Header.Set(webhook.WebhookIDHeader, "wh_1")
	resp, err := srv.Client().Do(r)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNoContent, resp.StatusCode)
	ev := <-got
	assert.Equal(t, webhook.DeliveryFailed, ev.Type)
	assert.Equal(t, "wh_1", ev.WebhookID)
}

func TestHandlerMisuse(t *testing.T) {
	t.Parallel()
	var c calls
	assert.Panics(t, func() { webhook.Handler("", c.fn) })
	assert.Panics(t, func() { webhook.Handler("", c.fn, webhook.WithSecrets("")) })
	assert.Panics(t, func() { webhook.Handler(secret, nil) })
	assert.NotPanics(t, func() { webhook.Handler("", c.fn, webhook.WithSecrets(secret)) })
}
