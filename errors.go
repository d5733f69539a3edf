package sendivent

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sendivent/sendivent-go/internal/retry"
)

// Sentinels to match with errors.Is. An [*APIError] matches the one of its
// HTTP status; a [*ValidationError] matches ErrValidation.
var (
	ErrValidation    = errors.New("sendivent: invalid request")                // 400, 422, or refused before sending
	ErrUnauthorized  = errors.New("sendivent: unauthorized")                   // 401
	ErrQuotaExceeded = errors.New("sendivent: quota exceeded")                 // 402
	ErrForbidden     = errors.New("sendivent: forbidden")                      // 403
	ErrNotFound      = errors.New("sendivent: not found")                      // 404
	ErrConflict      = errors.New("sendivent: conflict")                       // 409
	ErrRateLimited   = errors.New("sendivent: rate limited")                   // 429
	ErrServer        = errors.New("sendivent: server error")                   // 5xx
	ErrRejected      = errors.New("sendivent: send rejected")                  // a 2xx that says the send was not accepted
	ErrTooLarge      = errors.New("sendivent: response larger than the limit") // see WithMaxResponseBytes
	ErrMalformed     = errors.New("sendivent: malformed response body")
)

// Attempt is one try of a request by the SDK. net/http may itself send a
// request a second time, once, when a pooled keep-alive connection turns out
// to be closed before any byte of the answer came (it does so for a POST
// only because the request carries an idempotency key, which makes that
// safe); such a resend is part of the same Attempt.
type Attempt struct {
	StatusCode int // 0 when no answer came
	// Err is why the attempt failed, if it did: no answer came (a network
	// error, a time-out), or the answer could not be used (a 1xx, a body
	// cut short, too large or not what the service sends). nil for an
	// answer judged by its status.
	Err  error
	Wait time.Duration // how long the SDK waited after it before trying again
}

// APIError is an error answer from the service: any non-2xx status, or a 2xx
// whose body says the send was rejected. Zero values are safe to build and
// print in tests.
type APIError struct {
	StatusCode int    // HTTP status
	Code       string // machine code, such as "EVENT_NOT_FOUND", when the service gives one
	Message    string // the service's human-readable message
	Field      string // the request field at fault (validation errors)
	Channel    string // the channel at fault (channel errors)
	Current    int64  // usage (quota errors)
	Limit      int64  // limit (quota errors)

	// RetryAfter is the wait the service asked for. It is set even when the
	// SDK did not wait it out, because it was longer than WithMaxRetryWait.
	RetryAfter     time.Duration
	RequestID      string    // X-Request-Id, to quote to support
	IdempotencyKey string    // the key the request carried; resend with it to stay safe
	Attempts       []Attempt // every try, in order
	Body           []byte    // the raw body (up to the size limit)

	// Err, when set, is why the SDK stopped before its retries ran out: the
	// context ended, or the next wait would have passed its deadline (an
	// error matching context.DeadlineExceeded).
	Err error

	retryAfterSet bool // the answer had a readable Retry-After, maybe "0"
}

// Error describes the failure. It never contains the API key.
func (e *APIError) Error() string {
	if e == nil {
		return "sendivent: <nil APIError>"
	}
	var b strings.Builder
	b.WriteString("sendivent: ")
	if e.StatusCode != 0 {
		b.WriteString(strconv.Itoa(e.StatusCode))
		if t := http.StatusText(e.StatusCode); t != "" {
			b.WriteByte(' ')
			b.WriteString(t)
		}
	} else {
		b.WriteString("API error")
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Code)
		b.WriteByte(')')
	}
	if e.Field != "" {
		b.WriteString(" [field ")
		b.WriteString(e.Field)
		b.WriteByte(']')
	}
	if n := len(e.Attempts); n > 1 {
		b.WriteString(" after ")
		b.WriteString(strconv.Itoa(n))
		b.WriteString(" attempts")
	}
	if e.Err != nil {
		b.WriteString(": stopped: ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Is matches the sentinel of the status: errors.Is(err, ErrRateLimited).
func (e *APIError) Is(target error) bool {
	if e == nil {
		return false
	}
	return target == sentinelFor(e.StatusCode)
}

// Unwrap returns Err, so errors.Is(err, context.DeadlineExceeded) holds when
// the deadline cut the retries short.
func (e *APIError) Unwrap() error { return e.Err }

// Temporary reports whether the same request may succeed later, by the
// rule the client retries by: 408, 429, 500, 502, 503 and 504, and a 409
// for a request still in flight (with a Retry-After, or a code saying so).
func (e *APIError) Temporary() bool {
	if e == nil {
		return false
	}
	return retry.Retryable(retry.Failure{Status: e.StatusCode, Code: e.Code,
		HasRetryAfter: e.retryAfterSet || e.RetryAfter > 0, RetryAfter: e.RetryAfter})
}

func sentinelFor(status int) error {
	switch {
	case status >= 200 && status < 300:
		return ErrRejected
	case status == 400, status == 422:
		return ErrValidation
	case status == 401:
		return ErrUnauthorized
	case status == 402:
		return ErrQuotaExceeded
	case status == 403:
		return ErrForbidden
	case status == 404:
		return ErrNotFound
	case status == 409:
		return ErrConflict
	case status == 429:
		return ErrRateLimited
	case status >= 500:
		return ErrServer
	}
	return nil
}

// decodeBody fills e's body-derived fields from body. It covers every error
// shape the service is known to use: {error, code, field, channel, current,
// limit}, {error: {code, message}}, {message}, and a 2xx {status:
// "rejected", error} or {success: false, errors: [{code, message}]}. It
// never fails: each field is read on its own, so one of an unexpected type
// does not hide the others, and a body that is not a JSON object (an HTML 502
// page) leaves the message to a short excerpt and keeps the raw bytes.
func (e *APIError) decodeBody(body []byte) {
	e.Body = body
	var f map[string]json.RawMessage
	if len(body) == 0 || json.Unmarshal(body, &f) != nil {
		e.Message = textMessage(body)
		return
	}
	e.Code, e.Field, e.Channel = jsonString(f["code"]), jsonString(f["field"]), jsonString(f["channel"])
	e.Message = jsonString(f["message"])
	e.Current, e.Limit = jsonInt(f["current"]), jsonInt(f["limit"])
	if raw := f["error"]; len(raw) > 0 {
		switch raw[0] {
		case '"':
			e.Message = jsonString(raw)
		case '{':
			var nested map[string]json.RawMessage
			if json.Unmarshal(raw, &nested) == nil {
				e.Message = cmpOr(jsonString(nested["message"]), e.Message)
				e.Code = cmpOr(jsonString(nested["code"]), e.Code)
				e.Field = cmpOr(jsonString(nested["field"]), e.Field)
			}
		}
	}
	var errs []map[string]json.RawMessage
	_ = json.Unmarshal(f["errors"], &errs) // elements of another type stay nil
	if len(errs) > 0 {
		first := errs[0]
		e.Message = cmpOr(e.Message, jsonString(first["message"]))
		e.Code = cmpOr(e.Code, jsonString(first["code"]))
		e.Field = cmpOr(e.Field, jsonString(first["field"]))
	}
}

// jsonString is raw as a string, or "" when it is not a JSON string.
func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// jsonInt is raw as an integer (a JSON number or a numeric string), or 0.
func jsonInt(raw json.RawMessage) int64 {
	var n json.Number
	if len(raw) == 0 || json.Unmarshal(raw, &n) != nil {
		return 0
	}
	i, _ := n.Int64()
	return i
}

// textMessage keeps a short, single-line excerpt of a non-JSON body, so an
// HTML error page says something without flooding the error string.
func textMessage(body []byte) string {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ""
	}
	const max = 120
	if bytes.HasPrefix(body, []byte("<")) {
		if i := bytes.Index(body, []byte("<title>")); i >= 0 {
			rest := body[i+len("<title>"):]
			if j := bytes.Index(rest, []byte("</title>")); j >= 0 && j <= max {
				return string(bytes.TrimSpace(rest[:j]))
			}
		}
		return "non-JSON body"
	}
	s := strings.Join(strings.Fields(string(body[:min(len(body), max)])), " ")
	if len(body) > max {
		s += "…"
	}
	return s
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ValidationError is bad input found before anything was sent. It matches
// ErrValidation.
type ValidationError struct {
	Field  string // the offending field, such as "to[1].phone"
	Reason string
	Err    error // the underlying error, when there is one (a JSON encoding error)
}

// Error names the field and says what is wrong with it.
func (e *ValidationError) Error() string {
	if e == nil {
		return "sendivent: <nil ValidationError>"
	}
	s := "sendivent: invalid request"
	if e.Field != "" {
		s = "sendivent: invalid " + e.Field
	}
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// Is matches ErrValidation.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// Unwrap returns the underlying error, if any.
func (e *ValidationError) Unwrap() error { return e.Err }

func invalid(field, reason string) *ValidationError {
	return &ValidationError{Field: field, Reason: reason}
}

// TransportError is a request that got no usable answer: the connection
// failed or timed out on every attempt, the context ended, or the answer's
// body could not be read or decoded. Unwrap gives the cause, so
// errors.Is(err, context.DeadlineExceeded) and errors.Is(err, ErrMalformed)
// work. The cause names the request by its route template, as Path does: a
// *url.Error's URL is the base URL and the template, not the path, which
// may name a contact (an email, a phone number), nor the query.
//
// A send that fails this way may still have reached the service; sending
// again with the same IdempotencyKey is safe.
type TransportError struct {
	Method         string
	Path           string // the route template, such as "/v1/send/{event}"
	StatusCode     int    // the status of an answer whose body was unusable; 0 if none came
	IdempotencyKey string
	Attempts       []Attempt
	Err            error

	temporary bool // the last attempt's failure may pass
}

// Temporary reports whether the same request may succeed later, by the
// rule the client retries by: a connection error or a body cut short may
// pass; a certificate error, a body over the size limit or one of the wrong
// shape will not.
func (e *TransportError) Temporary() bool { return e != nil && e.temporary }

// Error says which request failed and why.
func (e *TransportError) Error() string {
	if e == nil {
		return "sendivent: <nil TransportError>"
	}
	var b strings.Builder
	b.WriteString("sendivent: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	if e.StatusCode != 0 {
		b.WriteString("HTTP ")
		b.WriteString(strconv.Itoa(e.StatusCode))
		b.WriteString(": ")
	}
	if n := len(e.Attempts); n > 1 {
		b.WriteString("after ")
		b.WriteString(strconv.Itoa(n))
		b.WriteString(" attempts: ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("request failed")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// WaitTimeoutError is a Wait that ended before the notification reached a
// terminal status: it ran out of time, or its context was cancelled while
// it slept between polls. It matches context.DeadlineExceeded when the
// context's deadline was the cause, context.Canceled when the context was
// cancelled, and the last poll's error when that
// poll failed: a 429 whose Retry-After did not fit in the time left matches
// ErrRateLimited, and errors.As finds its *APIError with the RetryAfter.
type WaitTimeoutError struct {
	ID      string
	Last    *Notification // the last state seen; nil if no poll succeeded
	Polls   int           // GET requests made
	Err     error         // the context's error, or nil when WaitAtMost ran out
	LastErr error         // the last poll's error, if it failed

	lastStatus string // Last.Status as the message shows it: scrubbed and cut
}

// Error says how long the wait went and where the notification was.
func (e *WaitTimeoutError) Error() string {
	if e == nil {
		return "sendivent: <nil WaitTimeoutError>"
	}
	s := "sendivent: gave up waiting for notification " + e.ID + " after " + strconv.Itoa(e.Polls) + " polls"
	if e.Last != nil {
		s += " (last status " + cmpOr(e.lastStatus, string(e.Last.Status)) + ")"
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if e.LastErr != nil {
		s += "; last poll: " + e.LastErr.Error()
	}
	return s
}

// Unwrap returns the context's error, if that ended the wait, and the last
// poll's error, if it failed.
func (e *WaitTimeoutError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Err, e.LastErr} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// malformed wraps the error of decoding body. A body cut short (JSON that
// ends too soon) may come whole on a retry; broken JSON or JSON of the wrong
// shape will not.
func malformed(err error, body []byte) error {
	var syntax *json.SyntaxError
	cut := len(body) > 0 && errors.As(err, &syntax) && syntax.Offset >= int64(len(body))
	return &malformedError{err: err, cut: cut}
}

// malformedError matches ErrMalformed and keeps the decoder's message.
type malformedError struct {
	err error
	cut bool // the JSON is broken, not merely of another shape
}

func (e *malformedError) Error() string        { return "malformed response body: " + e.err.Error() }
func (e *malformedError) Is(target error) bool { return target == ErrMalformed }
func (e *malformedError) Unwrap() error        { return e.err }
