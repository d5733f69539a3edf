package sendivent

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/internal/clocktest"
)

const (
	ms500 = 500 * time.Millisecond
	sec   = time.Second
)

func sendWelcome(h *mockHarness, ctx context.Context) (*SendResponse, error) {
	return h.c.Event("welcome").To(Address("alice@example.com")).Send(ctx)
}

func TestRetriedStatuses(t *testing.T) {
	t.Parallel()
	for _, status := range []int{408, 429, 500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(status, `{"error":"try again"}`))
			_, err := sendWelcome(h, context.Background())
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, status, apiErr.StatusCode)

			rs := h.requests()
			require.Len(t, rs, 3, "3 attempts with the defaults")
			key := rs[0].Header.Get("X-Idempotency-Key")
			assert.Regexp(t, uuidV4, key)
			for _, r := range rs {
				assert.Equal(t, key, r.Header.Get("X-Idempotency-Key"), "one key for every attempt")
				assert.Equal(t, string(rs[0].Body), string(r.Body), "the body is sent again whole")
			}
			assert.Equal(t, key, apiErr.IdempotencyKey)
			assert.Equal(t, []time.Duration{ms500, sec}, h.fake.Sleeps())
			assert.Equal(t, []Attempt{{StatusCode: status, Wait: ms500}, {StatusCode: status, Wait: sec}, {StatusCode: status}}, apiErr.Attempts)
			assert.Contains(t, err.Error(), "after 3 attempts")
		})
	}
}

func TestRetriedStatusThenSuccess(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(429, `{"error":"slow down"}`), reply(502, "<html>bad gateway</html>"), reply(200, acceptedJSON))
	res, err := sendWelcome(h, context.Background())
	require.NoError(t, err)
	assert.Equal(t, "550e8400-e29b-41d4-a716-446655440000", res.ID)
	assert.Len(t, h.requests(), 3)
	assert.Equal(t, []time.Duration{ms500, sec}, h.fake.Sleeps())
}

func TestNotRetriedStatuses(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 402, 403, 404, 405, 409, 410, 413, 422, 501} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(status, `{"error":"no"}`))
			_, err := sendWelcome(h, context.Background())
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, status, apiErr.StatusCode)
			assert.Len(t, h.requests(), 1)
			assert.Empty(t, h.fake.Sleeps())
			assert.Equal(t, []Attempt{{StatusCode: status}}, apiErr.Attempts)
		})
	}
}

func TestConflictRetriedOnlyWhenInFlight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		headers  []string
		attempts int
		sleeps   []time.Duration
	}{
		{"plain conflict", `{"error":"Idempotency key reused","code":"IDEMPOTENCY_KEY_REUSED"}`, nil, 1, nil},
		{"in progress code", `{"error":"Request in progress","code":"IDEMPOTENCY_IN_PROGRESS"}`, nil, 3, []time.Duration{ms500, sec}},
		{"nested in flight code", `{"error":{"code":"request_in_flight","message":"wait"}}`, nil, 3, []time.Duration{ms500, sec}},
		{"Retry-After", `{"error":"Conflict"}`, []string{"Retry-After", "1"}, 3, []time.Duration{sec, sec}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(409, tt.body, tt.headers...))
			_, err := sendWelcome(h, context.Background())
			assert.ErrorIs(t, err, ErrConflict)
			assert.Len(t, h.requests(), tt.attempts)
			assert.Equal(t, tt.sleeps, h.fake.Sleeps())
		})
	}

	h := newMockHarness(t)
	h.script(reply(409, `{"code":"IN_PROGRESS"}`), reply(200, acceptedJSON))
	_, err := sendWelcome(h, context.Background())
	require.NoError(t, err)
}

func TestConnectionErrorsRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
	}{
		{"reset", errors.New("read: connection reset by peer")},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}},
		{"unexpected EOF", io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(httpmock.NewErrorResponder(tt.err))
			_, err := sendWelcome(h, context.Background())
			var te *TransportError
			require.ErrorAs(t, err, &te)
			assert.ErrorIs(t, err, tt.err)
			assert.Zero(t, te.StatusCode)
			assert.Equal(t, "POST", te.Method)
			assert.Equal(t, "/v1/send/{event}", te.Path)
			require.Len(t, te.Attempts, 3)
			assert.Equal(t, []time.Duration{ms500, sec}, h.fake.Sleeps())
			for _, a := range te.Attempts {
				assert.Zero(t, a.StatusCode)
				assert.ErrorIs(t, a.Err, tt.err)
			}
			rs := h.requests()
			require.Len(t, rs, 3)
			assert.Equal(t, rs[0].Header.Get("X-Idempotency-Key"), rs[2].Header.Get("X-Idempotency-Key"))
			assert.Equal(t, rs[0].Header.Get("X-Idempotency-Key"), te.IdempotencyKey)
			assert.Contains(t, err.Error(), "after 3 attempts")
		})
	}

	h := newMockHarness(t)
	h.script(httpmock.NewErrorResponder(errors.New("connection reset")), reply(200, acceptedJSON))
	res, err := sendWelcome(h, context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, res.ID)
}

func TestCertificateErrorsNotRetried(t *testing.T) {
	t.Parallel()
	for _, certErr := range []error{
		x509.UnknownAuthorityError{},
		x509.HostnameError{Host: "api.test", Certificate: &x509.Certificate{}},
		x509.CertificateInvalidError{Reason: x509.Expired, Cert: &x509.Certificate{}},
	} {
		t.Run(fmt.Sprintf("%T", certErr), func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(httpmock.NewErrorResponder(certErr))
			_, err := sendWelcome(h, context.Background())
			var te *TransportError
			require.ErrorAs(t, err, &te)
			assert.Len(t, h.requests(), 1)
			assert.Empty(t, h.fake.Sleeps())
			assert.Len(t, te.Attempts, 1)
		})
	}
}

func TestMaxRetriesAndBackoffCurve(t *testing.T) {
	t.Parallel()
	tests := []struct {
		retries int
		sleeps  []time.Duration
	}{
		{0, nil},
		{1, []time.Duration{ms500}},
		{2, []time.Duration{ms500, sec}},
		{5, []time.Duration{ms500, sec, 2 * sec, 4 * sec, 8 * sec}},
		{7, []time.Duration{ms500, sec, 2 * sec, 4 * sec, 8 * sec, 8 * sec, 8 * sec}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.retries), func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t, WithMaxRetries(tt.retries))
			h.script(reply(503, `{"error":"down"}`))
			_, err := sendWelcome(h, context.Background())
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Len(t, h.requests(), tt.retries+1)
			assert.Len(t, apiErr.Attempts, tt.retries+1)
			assert.Equal(t, tt.sleeps, h.fake.Sleeps())
		})
	}
}

func TestBackoffJitter(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t, withJitter(func() float64 { return 0.999 }))
	h.script(reply(500, `{}`))
	_, err := sendWelcome(h, context.Background())
	require.Error(t, err)
	sleeps := h.fake.Sleeps()
	require.Len(t, sleeps, 2)
	assert.InDelta(t, float64(375*time.Millisecond), float64(sleeps[0]), float64(time.Millisecond))
	assert.InDelta(t, float64(750*time.Millisecond), float64(sleeps[1]), float64(time.Millisecond))
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	start := time.Now().Truncate(time.Second) // HTTP dates have whole seconds
	tests := []struct {
		name   string
		value  string
		status int
		sleeps []time.Duration
		after  time.Duration
	}{
		{"seconds", "2", 503, []time.Duration{2 * sec}, 2 * sec},
		{"seconds on 429", "3", 429, []time.Duration{3 * sec}, 3 * sec},
		{"decimal seconds", "0.25", 503, []time.Duration{250 * time.Millisecond}, 250 * time.Millisecond},
		{"zero", "0", 503, []time.Duration{0}, 0},
		// RetryAfter is the last answer's: by then the date has passed.
		{"HTTP date", start.Add(4 * sec).UTC().Format(http.TimeFormat), 503, []time.Duration{4 * sec}, 0},
		{"HTTP date in the past", start.Add(-time.Hour).UTC().Format(http.TimeFormat), 503, []time.Duration{0}, 0},
		{"negative falls back to backoff", "-5", 503, []time.Duration{ms500}, 0},
		{"garbage falls back to backoff", "soon", 503, []time.Duration{ms500}, 0},
		{"NaN falls back to backoff", "NaN", 503, []time.Duration{ms500}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := clocktest.NewFake(start)
			h := newMockHarness(t, withClock(fake), WithMaxRetries(1))
			h.script(reply(tt.status, `{"error":"wait"}`, "Retry-After", tt.value))
			_, err := sendWelcome(h, context.Background())
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.sleeps, fake.Sleeps())
			assert.Equal(t, tt.after, apiErr.RetryAfter)
			assert.Len(t, h.requests(), 2)
			assert.Equal(t, tt.sleeps[0], apiErr.Attempts[0].Wait)
		})
	}
}

func TestRetryAfterLongerThanMaxRetryWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
		want        time.Duration
	}{
		{"seconds", "120", 120 * sec},
		{"a day", "86400", 24 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t, WithMaxRetryWait(10*sec))
			h.script(reply(429, `{"error":"Rate limit exceeded"}`, "Retry-After", tt.value))
			start := time.Now()
			_, err := sendWelcome(h, context.Background())
			assert.Less(t, time.Since(start), sec)
			assert.ErrorIs(t, err, ErrRateLimited)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.want, apiErr.RetryAfter)
			assert.Len(t, apiErr.Attempts, 1)
			assert.Len(t, h.requests(), 1)
			assert.Empty(t, h.fake.Sleeps(), "not waited")
			assert.NoError(t, apiErr.Unwrap())
		})
	}

	// WithMaxRetryWait(0) waits out no Retry-After at all.
	h := newMockHarness(t, WithMaxRetryWait(0))
	h.script(reply(503, `{}`, "Retry-After", "1"), reply(503, `{}`), reply(200, acceptedJSON))
	_, err := sendWelcome(h, context.Background())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, sec, apiErr.RetryAfter)
	assert.Len(t, h.requests(), 1)
}

func TestFinalErrorKeepsTheLastBody(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(
		reply(500, `{"error":"first"}`, "X-Request-Id", "r1"),
		reply(502, `{"error":"second"}`, "X-Request-Id", "r2"),
		reply(503, `{"error":"third","code":"MAINTENANCE"}`, "X-Request-Id", "r3"),
	)
	_, err := sendWelcome(h, context.Background())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Equal(t, "third", apiErr.Message)
	assert.Equal(t, "MAINTENANCE", apiErr.Code)
	assert.Equal(t, "r3", apiErr.RequestID)
	assert.Equal(t, `{"error":"third","code":"MAINTENANCE"}`, string(apiErr.Body))
	assert.Equal(t, []Attempt{{StatusCode: 500, Wait: ms500}, {StatusCode: 502, Wait: sec}, {StatusCode: 503}}, apiErr.Attempts)
}

func TestDeadlineStopsTheWait(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(503, `{"error":"down"}`, "Retry-After", "5"))
	ctx, cancel := context.WithDeadline(context.Background(), h.fake.Now().Add(sec))
	defer cancel()
	start := time.Now()
	_, err := sendWelcome(h, ctx)
	assert.Less(t, time.Since(start), 500*time.Millisecond, "returned at once")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Equal(t, 5*sec, apiErr.RetryAfter)
	assert.Equal(t, []Attempt{{StatusCode: 503}}, apiErr.Attempts)
	assert.Empty(t, h.fake.Sleeps(), "a wait past the deadline is not started")
	assert.Contains(t, err.Error(), "stopped: the next attempt, due in 5s, would start after the context's deadline")

	// A backoff that fits is waited; the next one that does not stops it.
	h2 := newMockHarness(t)
	h2.script(reply(503, `{}`))
	ctx2, cancel2 := context.WithDeadline(context.Background(), h2.fake.Now().Add(1200*time.Millisecond))
	defer cancel2()
	_, err = sendWelcome(h2, ctx2)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, []time.Duration{ms500}, h2.fake.Sleeps())
	assert.Len(t, h2.requests(), 2)
}

func TestDeadlineStopsAfterConnectionError(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(httpmock.NewErrorResponder(errors.New("connection reset")))
	ctx, cancel := context.WithDeadline(context.Background(), h.fake.Now().Add(100*time.Millisecond))
	defer cancel()
	_, err := sendWelcome(h, ctx)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "connection reset")
	assert.Len(t, h.requests(), 1)
}

func TestCancelDuringWait(t *testing.T) {
	t.Parallel()
	// The real clock: the wait is a timer that must end with the context.
	mt := httpmock.NewMockTransport()
	mt.RegisterNoResponder(reply(503, `{"error":"down"}`, "Retry-After", "10"))
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: mt}),
		withJitter(func() float64 { return 0 }))
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	timer := time.AfterFunc(20*time.Millisecond, cancel)
	defer timer.Stop()
	start := time.Now()
	_, err = c.Event("welcome").To(Address("a@example.com")).Send(ctx)
	assert.Less(t, time.Since(start), sec)
	assert.ErrorIs(t, err, context.Canceled)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Equal(t, []Attempt{{StatusCode: 503, Wait: 10 * sec}}, apiErr.Attempts)
	assert.Equal(t, 1, mt.GetTotalCallCount())
}

func TestCancelledBeforeSend(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	// The answer comes only once the request is given up, so that the
	// mock cannot race its own cancellation.
	h.script(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sendWelcome(h, ctx)
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, h.fake.Sleeps())
	assert.LessOrEqual(t, len(te.Attempts), 1)
}

func TestMalformedSuccessBodyRetried(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(200, `{"id":"n1",`))
	_, err := sendWelcome(h, context.Background())
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, ErrMalformed)
	assert.Equal(t, 200, te.StatusCode)
	assert.Len(t, h.requests(), 3)
	assert.Len(t, te.Attempts, 3)
	assert.Equal(t, []time.Duration{ms500, sec}, h.fake.Sleeps())
	assert.NotEmpty(t, te.IdempotencyKey)

	h2 := newMockHarness(t)
	h2.script(reply(200, `{"id":`), reply(200, acceptedJSON))
	res, err := sendWelcome(h2, context.Background())
	require.NoError(t, err, "a body cut short may come whole on a retry")
	assert.NotEmpty(t, res.ID)

	for _, body := range []string{`<html>`, `{"id":"n1"} trailing`, `{"id":5}`} {
		h3 := newMockHarness(t)
		h3.script(reply(200, body), reply(200, acceptedJSON))
		_, err = sendWelcome(h3, context.Background())
		assert.ErrorIs(t, err, ErrMalformed, body)
		assert.Len(t, h3.requests(), 1, "%s: a whole body of the wrong kind comes the same way again", body)
	}
}

func TestResponseSizeCap(t *testing.T) {
	t.Parallel()
	big := `{"id":"n1","pad":"` + strings.Repeat("x", 200) + `"}`

	t.Run("success body too large", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t, WithMaxResponseBytes(100))
		h.script(reply(200, big))
		_, err := sendWelcome(h, context.Background())
		var te *TransportError
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, ErrTooLarge)
		assert.Equal(t, 200, te.StatusCode)
		assert.Len(t, h.requests(), 1, "not retried")
	})
	t.Run("success body at the cap", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t, WithMaxResponseBytes(int64(len(acceptedJSON))))
		h.script(reply(200, acceptedJSON))
		_, err := sendWelcome(h, context.Background())
		require.NoError(t, err)
	})
	t.Run("error body is cut", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t, WithMaxResponseBytes(100))
		h.script(reply(500, big))
		_, err := sendWelcome(h, context.Background())
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 500, apiErr.StatusCode)
		assert.Equal(t, big[:100], string(apiErr.Body))
		assert.Len(t, h.requests(), 3, "a 500 is still retried")
	})
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

func TestBodyBrokenMidwayRetried(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	broken := func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &brokenBody{}, Request: r}, nil
	}
	h.script(broken, reply(200, acceptedJSON))
	res, err := sendWelcome(h, context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, res.ID)
	assert.Len(t, h.requests(), 2)

	h2 := newMockHarness(t, WithMaxRetries(0))
	h2.script(broken)
	_, err = sendWelcome(h2, context.Background())
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, 200, te.StatusCode)
}

func TestGetNotificationRetried(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(503, `{}`), httpmock.NewErrorResponder(errors.New("reset")), reply(200, seedNotification))
	n, err := h.c.GetNotification(context.Background(), "n1")
	require.NoError(t, err)
	assert.Equal(t, StatusCompleted, n.Status)
	assert.Equal(t, []time.Duration{ms500, sec}, h.fake.Sleeps())
}

func TestCancelDuringWaitAfterUnusableAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		r     httpmock.Responder
		cause error
	}{
		{"malformed body", reply(200, `{"id":`), ErrMalformed},
		{"connection error", httpmock.NewErrorResponder(io.ErrUnexpectedEOF), io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(tt.r)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			h.fake.OnSleep = func(time.Duration) { cancel() }
			_, err := sendWelcome(h, ctx)
			var te *TransportError
			require.ErrorAs(t, err, &te)
			assert.ErrorIs(t, err, context.Canceled)
			assert.ErrorIs(t, err, tt.cause, "the last attempt's cause is kept")
			assert.Len(t, h.requests(), 1)
			assert.Equal(t, []time.Duration{ms500}, h.fake.Sleeps())
		})
	}
}

func TestRetryAfterIsTheLastAttempts(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(
		reply(503, `{"error":"busy"}`, "Retry-After", "1"),
		reply(503, `{"error":"busy"}`),
		reply(503, `{"error":"busy"}`),
	)
	_, err := h.c.Event("welcome").To(Address("alice@example.com")).Send(context.Background())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Zero(t, apiErr.RetryAfter, "the last answer asked for no wait")
}

func TestCutErrorBodyKeepsItsStatus(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(func(r *http.Request) (*http.Response, error) {
		resp := httpmock.NewStringResponse(401, `{"error":"Invalid API`)
		resp.Body = io.NopCloser(io.MultiReader(strings.NewReader(`{"error":"Invalid API`), iotest.ErrReader(io.ErrUnexpectedEOF)))
		resp.Request = r
		return resp, nil
	})
	_, err := h.c.Event("welcome").To(Address("alice@example.com")).Send(context.Background())
	assert.ErrorIs(t, err, ErrUnauthorized, "the status decides, not the broken body")
	assert.Len(t, h.requests(), 1, "a 401 is not retried")
}
