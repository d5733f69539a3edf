package sendivent

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAPIErrorBodyShapes(t *testing.T) {
	t.Parallel()
	const html502 = `<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>`
	tests := []struct {
		name     string
		status   int
		body     string
		sentinel error
		want     APIError // only the body-derived fields and StatusCode
	}{
		{"field error", 400, `{"error":"Phone number must be in E.164 format","field":"to"}`, ErrValidation,
			APIError{StatusCode: 400, Message: "Phone number must be in E.164 format", Field: "to"}},
		{"quota", 402, `{"error":"Monthly notification quota exceeded","current":10000,"limit":10000}`, ErrQuotaExceeded,
			APIError{StatusCode: 402, Message: "Monthly notification quota exceeded", Current: 10000, Limit: 10000}},
		{"flat code", 404, `{"error":"Event 'x' not found","code":"EVENT_NOT_FOUND"}`, ErrNotFound,
			APIError{StatusCode: 404, Message: "Event 'x' not found", Code: "EVENT_NOT_FOUND"}},
		{"nested", 422, `{"error":{"code":"event_not_found","message":"Event 'x' does not exist","field":"event"}}`, ErrValidation,
			APIError{StatusCode: 422, Message: "Event 'x' does not exist", Code: "event_not_found", Field: "event"}},
		{"nested without message keeps the flat one", 422, `{"message":"outer","error":{"code":"bad"}}`, ErrValidation,
			APIError{StatusCode: 422, Message: "outer", Code: "bad"}},
		{"message only", 403, `{"message":"Forbidden for this key"}`, ErrForbidden,
			APIError{StatusCode: 403, Message: "Forbidden for this key"}},
		{"channel error", 400, `{"error":"No template for channel","channel":"sms","code":"TEMPLATE_MISSING"}`, ErrValidation,
			APIError{StatusCode: 400, Message: "No template for channel", Channel: "sms", Code: "TEMPLATE_MISSING"}},
		{"errors array", 400, `{"success":false,"errors":[{"code":"INVALID","message":"bad to","field":"to"},{"code":"X"}]}`, ErrValidation,
			APIError{StatusCode: 400, Message: "bad to", Code: "INVALID", Field: "to"}},
		{"401", 401, `{"error":"Invalid API key"}`, ErrUnauthorized, APIError{StatusCode: 401, Message: "Invalid API key"}},
		{"409", 409, `{"error":"Idempotency key reused with a different body"}`, ErrConflict,
			APIError{StatusCode: 409, Message: "Idempotency key reused with a different body"}},
		{"HTML 502", 502, html502, ErrServer, APIError{StatusCode: 502, Message: "502 Bad Gateway"}},
		{"HTML without title", 500, "<html><body>oops</body></html>", ErrServer, APIError{StatusCode: 500, Message: "non-JSON body"}},
		{"plain text", 503, "  upstream\n connect error  ", ErrServer, APIError{StatusCode: 503, Message: "upstream connect error"}},
		{"empty body", 500, "", ErrServer, APIError{StatusCode: 500}},
		{"JSON null", 404, "null", ErrNotFound, APIError{StatusCode: 404}},
		{"error of another type", 400, `{"error":42}`, ErrValidation, APIError{StatusCode: 400}},
		{"non-numeric quota", 402, `{"error":"q","current":"many"}`, ErrQuotaExceeded, APIError{StatusCode: 402, Message: "q"}},
		{"numeric code does not hide the message", 402, `{"error":"Quota reached","code":402,"current":"10000","limit":1e4}`, ErrQuotaExceeded,
			APIError{StatusCode: 402, Message: "Quota reached", Current: 10000}},
		{"errors array of another shape", 400, `{"errors":[7,{"message":"later"}]}`, ErrValidation, APIError{StatusCode: 400}},
		{"teapot", 418, `{"error":"short and stout"}`, nil, APIError{StatusCode: 418, Message: "short and stout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t, WithMaxRetries(0))
			h.script(reply(tt.status, tt.body, "X-Request-Id", "req-123"))
			res, err := h.c.Event("welcome").To(Address("a@example.com")).Send(context.Background())
			assert.Nil(t, res)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.want.StatusCode, apiErr.StatusCode)
			assert.Equal(t, tt.want.Message, apiErr.Message)
			assert.Equal(t, tt.want.Code, apiErr.Code)
			assert.Equal(t, tt.want.Field, apiErr.Field)
			assert.Equal(t, tt.want.Channel, apiErr.Channel)
			assert.Equal(t, tt.want.Current, apiErr.Current)
			assert.Equal(t, tt.want.Limit, apiErr.Limit)
			assert.Equal(t, tt.body, string(apiErr.Body), "the raw body is kept")
			assert.Equal(t, "req-123", apiErr.RequestID)
			assert.Equal(t, h.last().Header.Get("X-Idempotency-Key"), apiErr.IdempotencyKey)
			require.Len(t, apiErr.Attempts, 1)
			assert.Equal(t, tt.status, apiErr.Attempts[0].StatusCode)
			if tt.sentinel != nil {
				assert.ErrorIs(t, err, tt.sentinel)
			}
			msg := err.Error()
			assert.Contains(t, msg, fmt.Sprint(tt.status))
			assert.Contains(t, msg, tt.want.Message)
			assert.NotContains(t, msg, "\n")
		})
	}
}

func TestAPIErrorSentinels(t *testing.T) {
	t.Parallel()
	all := []error{ErrValidation, ErrUnauthorized, ErrQuotaExceeded, ErrForbidden, ErrNotFound,
		ErrConflict, ErrRateLimited, ErrServer, ErrRejected}
	tests := []struct {
		status int
		want   error
	}{
		{200, ErrRejected}, {202, ErrRejected},
		{400, ErrValidation}, {401, ErrUnauthorized}, {402, ErrQuotaExceeded}, {403, ErrForbidden},
		{404, ErrNotFound}, {409, ErrConflict}, {422, ErrValidation}, {429, ErrRateLimited},
		{500, ErrServer}, {501, ErrServer}, {502, ErrServer}, {503, ErrServer}, {504, ErrServer}, {599, ErrServer},
		{405, nil}, {418, nil}, {0, nil}, {302, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			var err error = fmt.Errorf("wrapped: %w", &APIError{StatusCode: tt.status})
			for _, s := range all {
				assert.Equal(t, s == tt.want, errors.Is(err, s), "%d vs %v", tt.status, s)
			}
			assert.False(t, errors.Is(err, ErrTooLarge))
			assert.False(t, errors.Is(err, ErrMalformed))
		})
	}
	var nilErr *APIError
	assert.False(t, nilErr.Is(ErrServer))
	assert.False(t, nilErr.Temporary())
}

func TestAPIErrorSentinelsOverTheWire(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		want   error
	}{
		{400, ErrValidation}, {401, ErrUnauthorized}, {402, ErrQuotaExceeded}, {403, ErrForbidden},
		{404, ErrNotFound}, {409, ErrConflict}, {422, ErrValidation}, {429, ErrRateLimited},
		{500, ErrServer}, {501, ErrServer}, {502, ErrServer}, {503, ErrServer}, {504, ErrServer},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(tt.status, `{"error":"x"}`))
			_, err := h.c.GetNotification(context.Background(), "n1")
			assert.ErrorIs(t, err, tt.want)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
		})
	}
}

func TestAPIErrorTemporary(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{
		400: false, 401: false, 404: false, 409: false, 422: false, 501: false, 505: false,
		408: true, 429: true, 500: true, 502: true, 503: true, 504: true,
	} {
		assert.Equal(t, want, (&APIError{StatusCode: status}).Temporary(), status)
	}
	assert.True(t, (&APIError{StatusCode: 409, Code: "IDEMPOTENCY_IN_PROGRESS"}).Temporary(), "a request in flight")
	assert.True(t, (&APIError{StatusCode: 409, RetryAfter: time.Second}).Temporary(), "409 asking to come back")
	assert.False(t, (&APIError{StatusCode: 409, Code: "IDEMPOTENCY_KEY_REUSED"}).Temporary())
}

func TestErrorStringsOfZeroValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&APIError{}, "sendivent: API error"},
		{&ValidationError{}, "sendivent: invalid request"},
		{&TransportError{}, "sendivent: request failed"},
		{&WaitTimeoutError{}, "sendivent: gave up waiting for notification  after 0 polls"},
		{(*APIError)(nil), "sendivent: <nil APIError>"},
		{(*ValidationError)(nil), "sendivent: <nil ValidationError>"},
		{(*TransportError)(nil), "sendivent: <nil TransportError>"},
		{(*WaitTimeoutError)(nil), "sendivent: <nil WaitTimeoutError>"},
	}
	for _, tt := range tests {
		assert.NotPanics(t, func() { assert.Equal(t, tt.want, tt.err.Error()) })
		assert.NotPanics(t, func() { _ = fmt.Sprintf("%v %+v", tt.err, tt.err) })
	}
	assert.Nil(t, (&APIError{}).Unwrap())
	assert.Nil(t, (&TransportError{}).Unwrap())
	assert.Nil(t, (&ValidationError{}).Unwrap())
	assert.Nil(t, (&WaitTimeoutError{}).Unwrap())
}

func TestErrorStrings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&APIError{StatusCode: 404, Message: "Event 'x' not found", Code: "EVENT_NOT_FOUND"},
			"sendivent: 404 Not Found: Event 'x' not found (EVENT_NOT_FOUND)"},
		{&APIError{StatusCode: 400, Message: "bad", Field: "to"}, "sendivent: 400 Bad Request: bad [field to]"},
		{&APIError{StatusCode: 599}, "sendivent: 599"},
		{&APIError{StatusCode: 503, Attempts: make([]Attempt, 3)}, "sendivent: 503 Service Unavailable after 3 attempts"},
		{&APIError{StatusCode: 503, Err: context.DeadlineExceeded}, "sendivent: 503 Service Unavailable: stopped: context deadline exceeded"},
		{&ValidationError{Field: "to[1].phone", Reason: "not E.164"}, "sendivent: invalid to[1].phone: not E.164"},
		{&ValidationError{Reason: "bad"}, "sendivent: invalid request: bad"},
		{&TransportError{Method: "POST", Path: "/v1/send/{event}", StatusCode: 200, Attempts: make([]Attempt, 3), Err: ErrMalformed},
			"sendivent: POST /v1/send/{event}: HTTP 200: after 3 attempts: sendivent: malformed response body"},
		{&WaitTimeoutError{ID: "n1", Polls: 4, Last: &Notification{Status: StatusRunning}, Err: context.DeadlineExceeded},
			"sendivent: gave up waiting for notification n1 after 4 polls (last status running): context deadline exceeded"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.err.Error())
	}
	inner := errors.New("json: bad")
	ve := &ValidationError{Field: "payload", Err: inner}
	assert.ErrorIs(t, ve, inner)
	assert.ErrorIs(t, ve, ErrValidation)
	assert.NotErrorIs(t, ve, ErrServer)
	wt := &WaitTimeoutError{Err: context.Canceled}
	assert.ErrorIs(t, wt, context.Canceled)
}

func TestAPIErrorDoesNotLeakEchoedKey(t *testing.T) {
	t.Parallel()
	const key = "test_Zq9echoedsecret"
	h := newMockHarnessKey(t, key, WithMaxRetries(0))
	h.script(reply(http.StatusUnauthorized,
		`{"error":"Invalid API key `+key+`","code":"BAD_KEY_`+key+`","field":"`+key+`","channel":"`+key+`"}`))
	_, err := h.c.GetNotification(context.Background(), "n1")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), key)
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), "Zq9echoedsecret\"")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	for _, s := range []string{apiErr.Message, apiErr.Code, apiErr.Field, apiErr.Channel} {
		assert.NotContains(t, s, key)
	}
	assert.Contains(t, apiErr.Message, "[redacted]")

	// The same in a 2xx rejection.
	h2 := newMockHarnessKey(t, key)
	h2.script(reply(200, `{"status":"rejected","error":"key `+key+` has no sender"}`))
	_, err = h2.c.Event("welcome").To(Address("a@example.com")).Send(context.Background())
	require.ErrorIs(t, err, ErrRejected)
	assert.NotContains(t, err.Error(), key)
}

func TestTextMessageIsShortAndOneLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 100)
	m := textMessage([]byte(long))
	assert.LessOrEqual(t, len([]rune(m)), 121)
	assert.True(t, strings.HasSuffix(m, "…"))
	assert.Equal(t, "", textMessage([]byte("  \n ")))
	assert.Equal(t, "non-JSON body", textMessage([]byte("<html><title>"+strings.Repeat("x", 200)+"</title></html>")))
	assert.Equal(t, "non-JSON body", textMessage([]byte("<html><title>unclosed")))
	assert.Equal(t, "a b c", textMessage([]byte("a\nb\r\n\tc")))
}
