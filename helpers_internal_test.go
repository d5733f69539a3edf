package sendivent

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/internal/clock"
	"github.com/sendivent/sendivent-go/internal/clocktest"
)

// withClock and withJitter let the package's tests run retries and polls
// without sleeping, and choose the jitter.
func withClock(k clock.Clock) Option { return func(c *config) { c.clock = k } }

func withJitter(f func() float64) Option { return func(c *config) { c.jitter = f } }

// mockHarness is a client whose inner http.Client talks to an httpmock
// transport, so that retryablehttp's loop really runs, on a fake clock.
type mockHarness struct {
	t    *testing.T
	c    *Client
	fake *clocktest.Fake
	mt   *httpmock.MockTransport

	mu   sync.Mutex
	reqs []seenRequest
}

// seenRequest is what one attempt sent.
type seenRequest struct {
	Method      string
	Path        string // decoded
	EscapedPath string
	RawQuery    string
	Header      http.Header
	Body        []byte
}

const testKey = "test_key"

func newMockHarness(t *testing.T, opts ...Option) *mockHarness {
	t.Helper()
	return newMockHarnessKey(t, testKey, opts...)
}

func newMockHarnessKey(t *testing.T, key string, opts ...Option) *mockHarness {
	t.Helper()
	fake := clocktest.NewFake(time.Now())
	mt := httpmock.NewMockTransport()
	all := append([]Option{
		WithBaseURL("https://api.test"),
		WithHTTPClient(&http.Client{Transport: mt}),
		withClock(fake),
		withJitter(func() float64 { return 0 }),
	}, opts...)
	c, err := NewClient(key, all...)
	require.NoError(t, err)
	return &mockHarness{t: t, c: c, fake: fake, mt: mt}
}

// script answers every request with the next responder; the last repeats.
// Each request is recorded.
func (h *mockHarness) script(rs ...httpmock.Responder) {
	h.mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
		var body []byte
		if r.Body != nil {
			body, _ = io.ReadAll(r.Body)
		}
		h.mu.Lock()
		h.reqs = append(h.reqs, seenRequest{
			Method: r.Method, Path: r.URL.Path, EscapedPath: r.URL.EscapedPath(),
			RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body,
		})
		i := min(len(h.reqs), len(rs)) - 1
		h.mu.Unlock()
		return rs[i](r)
	})
}

func (h *mockHarness) requests() []seenRequest {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]seenRequest(nil), h.reqs...)
}

func (h *mockHarness) last() seenRequest {
	h.t.Helper()
	rs := h.requests()
	require.NotEmpty(h.t, rs, "no request was made")
	return rs[len(rs)-1]
}

// reply answers with status, body and header pairs.
func reply(status int, body string, headerKV ...string) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(status, body)
		for i := 0; i+1 < len(headerKV); i += 2 {
			resp.Header.Set(headerKV[i], headerKV[i+1])
		}
		resp.Request = r
		return resp, nil
	}
}

const acceptedJSON = `{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// syncBuffer is an io.Writer safe for the concurrent writes of a log
// handler shared by many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// SyncBuffer is syncBuffer for the package's external tests.
type SyncBuffer = syncBuffer

// wantRequest is the exact shape of one request on the wire.
type wantRequest struct {
	method, path, query string
	body                string // exact JSON; "" for no body
	key                 bool   // carries an X-Idempotency-Key
}

func checkRequest(t *testing.T, got seenRequest, want wantRequest) {
	t.Helper()
	assert.Equal(t, want.method, got.Method)
	assert.Equal(t, want.path, got.EscapedPath, "escaped path")
	assert.Equal(t, want.query, got.RawQuery, "query")
	assert.Equal(t, "Bearer "+testKey, got.Header.Get("Authorization"))
	assert.True(t, strings.HasPrefix(got.Header.Get("User-Agent"), "Sendivent-Go/"), got.Header.Get("User-Agent"))
	if want.body == "" {
		assert.Empty(t, got.Body)
		assert.Empty(t, got.Header.Get("Content-Type"))
	} else {
		assert.Equal(t, want.body, string(got.Body), "exact body")
		assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	}
	if want.key {
		assert.Regexp(t, uuidV4, got.Header.Get("X-Idempotency-Key"))
	} else {
		assert.Empty(t, got.Header.Get("X-Idempotency-Key"))
	}
}

const (
	hookSecret  = "whsec_Zq9vXw2S3cr3tHooK"
	createdJSON = `{"success":true,"webhook":{"uuid":"wh-1","url":"https://example.com/hooks","enabled_events":["delivery.sent","delivery.failed"],` +
		`"is_active":true,"description":"prod","signing_secret":"` + hookSecret + `","created_at":"2026-03-30T12:00:00.123Z"}}`
	gotJSON = `{"success":true,"webhook":{"uuid":"wh-1","url":"https://example.com/hooks","enabled_events":["delivery.sent"],"is_active":false,"description":null}}`
)

const (
	ms500 = 500 * time.Millisecond
	sec   = time.Second
)

func sendWelcome(h *mockHarness, ctx context.Context) (*SendResponse, error) {
	return h.c.Event("welcome").To(Address("alice@example.com")).Send(ctx)
}

type brokenBody struct{ n int }

func (b *brokenBody) Read(p []byte) (int, error) {
	if b.n == 0 {
		b.n++
		return copy(p, `{"id":`), nil
	}
	return 0, io.ErrUnexpectedEOF
}

func (b *brokenBody) Close() error { return nil }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
