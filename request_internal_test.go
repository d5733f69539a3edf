package sendivent

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/internal/clocktest"
)

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
	t.Run("the largest cap", func(t *testing.T) {
		t.Parallel()
		// limit+1 overflowed: every body read as empty.
		h := newMockHarness(t, WithMaxResponseBytes(math.MaxInt64))
		h.script(reply(200, acceptedJSON))
		res, err := sendWelcome(h, context.Background())
		require.NoError(t, err)
		assert.Equal(t, acceptedJSON, string(res.Raw))
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

// TestAttemptContextIsOrdinary: what a caller's transport receives is a
// plain context bounded by WithTimeout: a deadline, DeadlineExceeded when it
// passes, one Done channel, an Err that stays; and each attempt has its own.
func TestAttemptContextIsOrdinary(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []context.Context
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		ctx := r.Context()
		mu.Lock()
		seen = append(seen, ctx)
		first := len(seen) == 1
		mu.Unlock()
		if first {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		return httpmock.NewStringResponse(200, acceptedJSON), nil
	})
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}),
		WithTimeout(30*time.Millisecond), withClock(clocktest.NewFake(time.Now())))
	require.NoError(t, err)
	start := time.Now()
	res, err := c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{Address("a@example.com")}})
	require.NoError(t, err)
	assert.Equal(t, "550e8400-e29b-41d4-a716-446655440000", res.ID)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 2)
	cut, next := seen[0], seen[1]
	dl, ok := cut.Deadline()
	require.True(t, ok, "a timed-out attempt's context has a deadline")
	assert.WithinDuration(t, start.Add(30*time.Millisecond), dl, 25*time.Millisecond)
	assert.Equal(t, context.DeadlineExceeded, cut.Err())
	assert.Equal(t, cut.Done(), cut.Done(), "one Done channel")
	select {
	case <-cut.Done():
	default:
		t.Fatal("Done is not closed")
	}
	assert.NotSame(t, cut, next, "the next attempt gets a context of its own")
	assert.Equal(t, context.DeadlineExceeded, cut.Err(), "an ended context stays ended")
	_, ok = next.Deadline()
	assert.True(t, ok)
}

// afterFuncCtx is a caller's context of its own kind, which counts how
// many contexts hang off it.
type afterFuncCtx struct {
	context.Context
	mu         sync.Mutex
	registered int
}

func (c *afterFuncCtx) Done() <-chan struct{} { return make(chan struct{}) }

func (c *afterFuncCtx) AfterFunc(func()) func() bool {
	c.mu.Lock()
	c.registered++
	c.mu.Unlock()
	var once sync.Once
	stopped := false
	return func() bool { // as context.AfterFunc's: true the first time only
		once.Do(func() {
			c.mu.Lock()
			c.registered--
			c.mu.Unlock()
			stopped = true
		})
		return stopped
	}
}

// TestCallsLeaveNothingOnTheCallersContext: a long-lived context used for
// many calls (a server's base context, say) does not collect one entry per
// call, whether the call succeeds, fails or retries.
func TestCallsLeaveNothingOnTheCallersContext(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(503, `{"error":"busy"}`), reply(200, acceptedJSON), reply(400, `{"error":"bad","field":"to"}`))
	ctx := &afterFuncCtx{Context: context.Background()}
	for i := 0; i < 5; i++ {
		_, _ = h.c.Send(ctx, "welcome", SendRequest{To: []Recipient{Address("a@example.com")}})
		_, _ = h.c.GetNotification(ctx, "n1")
	}
	assert.Len(t, h.requests(), 11)
	ctx.mu.Lock()
	defer ctx.mu.Unlock()
	assert.Zero(t, ctx.registered)
}

// TestCutReportedAsCanceledByTheTransport: a caller's transport may report
// a cut attempt as a plain context.Canceled; the attempt still says it
// timed out, and is retried.
func TestCutReportedAsCanceledByTheTransport(t *testing.T) {
	t.Parallel()
	for _, retries := range []int{0, 1} {
		var mu sync.Mutex
		n := 0
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			n++
			first := n == 1
			mu.Unlock()
			if first {
				<-r.Context().Done()
				return nil, context.Canceled
			}
			return httpmock.NewStringResponse(200, acceptedJSON), nil
		})
		c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}),
			WithTimeout(20*time.Millisecond), WithMaxRetries(retries), withClock(clocktest.NewFake(time.Now())))
		require.NoError(t, err)
		res, err := c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{Address("a@example.com")}})
		if retries == 0 {
			var te *TransportError
			require.ErrorAs(t, err, &te)
			require.Len(t, te.Attempts, 1)
			assert.ErrorIs(t, te.Attempts[0].Err, context.DeadlineExceeded)
			var ne net.Error
			require.ErrorAs(t, err, &ne)
			assert.True(t, ne.Timeout())
			assert.NotErrorIs(t, err, context.Canceled, "the caller did not cancel")
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, "550e8400-e29b-41d4-a716-446655440000", res.ID)
		mu.Lock()
		assert.Equal(t, 2, n)
		mu.Unlock()
	}
}

// TestRedirectIsPartOfItsAttempt: the requests of a redirect share their
// attempt's bound, on every transport: two hops of 35 ms do not fit in
// 50 ms, and a hop cut while its body was read does not let the next one
// start afresh.
func TestRedirectIsPartOfItsAttempt(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow/v1/notifications/n1":
			time.Sleep(35 * time.Millisecond)
			http.Redirect(w, r, "/done", http.StatusFound)
		case "/stall/v1/notifications/n1":
			w.Header().Set("Location", "/done")
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusFound)
			_, _ = w.Write([]byte("x"))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		case "/done":
			time.Sleep(35 * time.Millisecond)
			_, _ = io.WriteString(w, `{"id":"n1","event":"welcome","status":"sent"}`)
		}
	}))
	defer srv.Close()
	defer close(release)
	for _, path := range []string{"/slow", "/stall"} {
		// The default transport; a caller's; a caller's with a Timeout.
		for _, own := range []time.Duration{-1, 0, time.Minute} {
			opts := []Option{WithBaseURL(srv.URL + path), WithTimeout(50 * time.Millisecond), WithMaxRetries(0)}
			if own >= 0 {
				opts = append(opts, WithHTTPClient(&http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), Timeout: own}))
			}
			c, err := NewClient(testKey, opts...)
			require.NoError(t, err)
			start := time.Now()
			_, err = c.GetNotification(context.Background(), "n1")
			var ne net.Error
			require.ErrorAs(t, err, &ne, "%s, own client %v", path, own)
			assert.True(t, ne.Timeout(), "%s, own client %v: %v", path, own, err)
			assert.Less(t, time.Since(start), time.Second)
			c.CloseIdleConnections()
		}
	}
}

func TestRequestHeaders(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t, WithUserAgent("billing-service/2.1"))
	h.script(reply(200, acceptedJSON))
	res, err := h.c.Event("welcome").To(Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)

	r := h.last()
	assert.Equal(t, "POST", r.Method)
	assert.Equal(t, "Bearer test_key", r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	ua := r.Header.Get("User-Agent")
	assert.True(t, strings.HasPrefix(ua, "Sendivent-Go/"+Version+" "), ua)
	assert.Contains(t, ua, "(go")
	assert.Contains(t, ua, "billing-service/2.1")
	key := r.Header.Get("X-Idempotency-Key")
	assert.Regexp(t, uuidV4, key)
	assert.Equal(t, key, res.IdempotencyKey)

	// GET carries no body, so no Content-Type and no idempotency key.
	h2 := newMockHarness(t)
	h2.script(reply(200, `{"id":"n1","status":"running"}`))
	_, err = h2.c.GetNotification(context.Background(), "n1")
	require.NoError(t, err)
	g := h2.last()
	assert.Equal(t, "GET", g.Method)
	assert.Empty(t, g.Header.Get("Content-Type"))
	assert.Empty(t, g.Header.Get("X-Idempotency-Key"))
	assert.Equal(t, "Bearer test_key", g.Header.Get("Authorization"))
	assert.Empty(t, g.Body)
}

func TestLoggingMasksAndCarriesAttempts(t *testing.T) {
	t.Parallel()
	const key = "test_logsecret77"
	var buf syncBuffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newMockHarnessKey(t, key, WithLogger(logger))
	h.script(reply(503, `{"error":"busy"}`), reply(200, `[{"id":"n1","status":"accepted"},{"id":"n2","status":"accepted"}]`))

	res, err := h.c.Send(context.Background(), "welcome", SendRequest{
		To: []Recipient{Address("alice@example.com"), Contact{Phone: "+46701234567", Name: "Bob Secretname", Email: "bob@example.org"}},
	})
	require.NoError(t, err)

	out := buf.String()
	for _, secret := range []string{"alice@example.com", "+46701234567", "bob@example.org", "Secretname", key, "logsecret"} {
		assert.NotContains(t, out, secret)
	}
	assert.Contains(t, out, "a***@example.com")
	assert.Contains(t, out, "+46*******67")
	assert.Contains(t, out, "b***@example.org")

	var attempts []map[string]any
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), sc.Text())
		if m["msg"] == "sendivent request" {
			attempts = append(attempts, m)
		}
	}
	require.Len(t, attempts, 2, "one line per attempt")
	for i, a := range attempts {
		assert.Equal(t, "POST", a["method"])
		assert.Equal(t, "/v1/send/{event}", a["path"])
		assert.Equal(t, float64(i+1), a["attempt"])
		assert.Equal(t, res.IdempotencyKey, a["idempotency_key"])
	}
	assert.Equal(t, float64(503), attempts[0]["status"])
	assert.Equal(t, true, attempts[0]["retrying"])
	assert.Equal(t, float64(500*time.Millisecond), attempts[0]["wait"])
	assert.Equal(t, float64(200), attempts[1]["status"])

	// Printing the client, in any verb, shows no key either.
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v %s", h.c, h.c, h.c, h.c), key)
}

func TestLoggingOffBelowDebug(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := newMockHarness(t, WithLogger(logger))
	h.script(reply(500, `{}`), reply(200, acceptedJSON))
	_, err := h.c.Event("welcome").To(Contact{Email: "alice@example.com"}).Send(context.Background())
	require.NoError(t, err)
	assert.Empty(t, buf.String())
}

func TestLoggingTransportErrors(t *testing.T) {
	t.Parallel()
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newMockHarness(t, WithLogger(logger), WithMaxRetries(0))
	h.script(httpmock.NewErrorResponder(io.ErrUnexpectedEOF))
	_, err := h.c.GetNotification(context.Background(), "n1")
	require.Error(t, err)
	out := buf.String()
	assert.Contains(t, out, "path=/v1/notifications/{id}")
	assert.Contains(t, out, "status=0")
	assert.Contains(t, out, "error=")
	assert.NotContains(t, out, testKey)
}

// TestBaseURLPathOnTheWire: a base URL with a path (a proxy's prefix, with
// or without a trailing slash, escaped or not) is kept in front of every
// route, and the call's own escapes survive.
func TestBaseURLPathOnTheWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base, event string
		wantURL, wantPath string
	}{
		{"no path", "https://api.test", "welcome", "https://api.test/v1/send/welcome", "/v1/send/welcome"},
		{"trailing slash", "https://api.test/", "welcome", "https://api.test/v1/send/welcome", "/v1/send/welcome"},
		{"prefix", "https://proxy.test/sendivent", "welcome", "https://proxy.test/sendivent/v1/send/welcome", "/sendivent/v1/send/welcome"},
		{"prefix with slash", "https://proxy.test/sendivent/", "welcome", "https://proxy.test/sendivent/v1/send/welcome", "/sendivent/v1/send/welcome"},
		{"escaped prefix", "https://proxy.test/send%20ivent", "a/b c", "https://proxy.test/send%20ivent/v1/send/a%2Fb%20c", "/send ivent/v1/send/a/b c"},
		{"port", "http://127.0.0.1:8080/x", "welcome", "http://127.0.0.1:8080/x/v1/send/welcome", "/x/v1/send/welcome"},
		{"empty port", "https://api.test:/x", "welcome", "https://api.test/x/v1/send/welcome", "/x/v1/send/welcome"},
		{"IPv6 and port", "https://[::1]:8443/p/", "welcome", "https://[::1]:8443/p/v1/send/welcome", "/p/v1/send/welcome"},
		{"IPv6, empty port", "https://[::1]:", "welcome", "https://[::1]/v1/send/welcome", "/v1/send/welcome"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mt := httpmock.NewMockTransport()
			var got *http.Request
			mt.RegisterNoResponder(func(r *http.Request) (*http.Response, error) {
				got = r
				return reply(200, `{"id":"n1","status":"accepted"}`)(r)
			})
			c, err := NewClient(testKey, WithBaseURL(tt.base), WithRateLimit(0, 0), WithHTTPClient(&http.Client{Transport: mt}))
			require.NoError(t, err)
			_, err = c.Send(context.Background(), tt.event, SendRequest{To: []Recipient{Address("a@example.com")}})
			require.NoError(t, err)
			assert.Equal(t, tt.wantURL, got.URL.String())
			assert.Equal(t, tt.wantPath, got.URL.Path)
			assert.Equal(t, got.URL.Host, got.Host)
		})
	}
}

// trackedBody is a caller's transport's response body that records how the
// SDK uses it. io.Closer leaves a second Close undefined, and a Read after
// Close is a misuse.
type trackedBody struct {
	mu          sync.Mutex
	r           io.Reader
	closes      int
	readsClosed int
}

func (b *trackedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closes > 0 {
		b.readsClosed++
		return 0, errors.New("read on closed body")
	}
	return b.r.Read(p)
}

func (b *trackedBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closes++
	return nil
}

// TestReviewCallerBodyClosedOnce: the SDK closes each response body of a
// caller's transport once and never reads it after closing it. It closes
// it in handle, then retryablehttp's drainBody reads and closes it again
// before a retry, and do (success) or giveUp (failure) closes it once more.
func TestCallerBodyClosedOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bodies []*trackedBody
	n := 0
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		status, text := http.StatusServiceUnavailable, `{"error":"busy"}`
		if n == 2 {
			status, text = http.StatusOK, acceptedJSON
		}
		b := &trackedBody{r: strings.NewReader(text)}
		bodies = append(bodies, b)
		return &http.Response{StatusCode: status, Header: http.Header{}, Body: b, ContentLength: -1, Request: r}, nil
	})
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}),
		withClock(clocktest.NewFake(time.Now())))
	require.NoError(t, err)
	_, err = c.Send(context.Background(), "welcome", SendRequest{To: []Recipient{Address("a@example.com")}})
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, bodies, 2)
	for i, b := range bodies {
		assert.Equal(t, 1, b.closes, "body %d closed once", i)
		assert.Zero(t, b.readsClosed, "body %d not read after Close", i)
	}
}

// TestReviewBodyCutReportedAsCanceled: WithTimeout says a cut attempt's
// error matches context.DeadlineExceeded and not context.Canceled. The
// header phase is converted (checkRetry's attemptTimeout) but a body read
// cut by the bound, which a caller's transport reports as
// context.Canceled, is not: the old engine converted both.
func TestBodyCutReportedAsCanceled(t *testing.T) {
	t.Parallel()
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		ctx := r.Context()
		body := readerFunc(func([]byte) (int, error) {
			<-ctx.Done()
			return 0, context.Canceled
		})
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(body), ContentLength: -1, Request: r}, nil
	})
	c, err := NewClient(testKey, WithBaseURL("https://api.test"), WithHTTPClient(&http.Client{Transport: rt}),
		WithTimeout(20*time.Millisecond), WithMaxRetries(0))
	require.NoError(t, err)
	_, err = c.GetNotification(context.Background(), "n1")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.NotErrorIs(t, err, context.Canceled, "the caller did not cancel")
	var ne net.Error
	if assert.ErrorAs(t, err, &ne) {
		assert.True(t, ne.Timeout())
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
