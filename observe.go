package sendivent

import (
	"context"
	"net/http"
	"time"
)

// Observer is a set of hooks that see what a Client does, for traces,
// metrics or logs: each operation (one call, such as Send, Contacts.Get or
// Wait), each HTTP attempt of it, each rate-limiter wait and each poll of
// Wait and Watch. Set the hooks you need; a nil hook is skipped, and a
// client without an observer does no work for them. Module
// github.com/sendivent/sendivent-go/sendiventotel turns them into
// OpenTelemetry spans and metrics.
//
// It is a struct of functions, as net/http/httptrace.ClientTrace is, rather
// than an interface: a hook added later is a new field, which breaks no
// observer, and an observer sets only the hooks it needs.
//
// The hooks run on the goroutine of the call, synchronously, so they must
// return quickly; calls run concurrently, so they must be safe for
// concurrent use. A start hook returns the context the rest of its
// operation or attempt runs with: ctx itself, or a context derived from it
// (a span's, as OpenTelemetry's Tracer.Start returns); nil keeps ctx. Each
// end hook gets the context its start hook returned, and so does every hook
// in between: the attempts of an operation, and the operations that Wait,
// Watch and SendBatch make, are its children.
//
// Nothing a hook is handed holds personal data or a secret: an operation is
// named by its route template ("/v1/contacts/{identifier}"), never by its
// path; no recipient, address, phone number, push token, contact
// identifier, payload, API key, idempotency key or error message reaches a
// hook. A failure comes as its class, ErrorType:
//
//   - the HTTP status, as a number ("404", "503"), of an error answer;
//   - "rejected": a 2xx answer that did not accept the send;
//   - "malformed", "too_large": an answer the SDK could not use;
//   - "timeout": an attempt's bound (WithTimeout), the context's deadline,
//     or Wait's (WaitAtMost);
//   - "canceled": the context was cancelled;
//   - "rate_limiter": the rate limiter refused to let the request go;
//   - "connection": no answer came: the connection failed or broke;
//   - "tls": the server's certificate or the TLS handshake failed;
//   - "validation": bad input (a SendBatch item);
//   - "_OTHER": anything else.
//
// A call refused as bad input before any request (a *ValidationError) is
// not an operation: the hooks see nothing of it.
type Observer struct {
	// OperationStart is called when a call starts.
	OperationStart func(ctx context.Context, op Operation) context.Context
	// OperationEnd is called when the call returns.
	OperationEnd func(ctx context.Context, op Operation, end OperationEnd)
	// AttemptStart is called as an HTTP attempt starts: after the rate
	// limiter let it go, before its request is sent. The attempt's request
	// carries the context it returns (bounded by WithTimeout), so a
	// transport given with WithHTTPClient sees it.
	AttemptStart func(ctx context.Context, op Operation, a AttemptStart) context.Context
	// AttemptEnd is called when the attempt's answer has been read and
	// judged, or the attempt failed, with the retry policy's decision.
	AttemptEnd func(ctx context.Context, op Operation, a AttemptEnd)
	// RateLimiterWait is called after each wait for the rate limiter
	// (WithRateLimit, WithLimiter, or the default limit of the service's
	// own URLs), however short.
	RateLimiterWait func(ctx context.Context, op Operation, w RateLimiterWait)
	// Poll is called after each poll of Wait, WaitFor and Watch.
	Poll func(ctx context.Context, op Operation, p Poll)
}

// Operation describes one call, as its hooks see it.
type Operation struct {
	// Name says what the call is, in a few stable words: "send",
	// "send_batch", "get_notification", "wait", "watch", "cancel",
	// "contacts.upsert", "contacts.get", "contacts.update",
	// "contacts.delete", "contacts.add_push_token",
	// "contacts.remove_push_token", "contacts.list", "webhooks.create",
	// "webhooks.get", "webhooks.update", "webhooks.delete", "events.list",
	// "events.get", "deliveries.list", "deliveries.trace",
	// "integrations.list".
	Name string
	// Method and Route are the HTTP method and the path template of the
	// call's attempts: "POST" and "/v1/send/{event}". Both are "" for
	// send_batch, wait and watch, which make other operations.
	Method, Route string
	// Event is the event a send or a cancel is about; Channel the channel a
	// send forces ("" for the service's routing).
	Event   string
	Channel Channel
	// Items is the number of items of a send_batch.
	Items int
	// BaseURL is the URL the client sends to, without a call's path
	// ("https://api.sendivent.com"); ServerAddress and ServerPort are its
	// host and port (the scheme's when the URL names none).
	BaseURL       string
	ServerAddress string
	ServerPort    int
}

// OperationEnd is how an operation ended.
type OperationEnd struct {
	Duration time.Duration
	// Attempts is how many HTTP attempts the call made: 0 when none went
	// out (the rate limiter refused, or the context had ended).
	Attempts int
	// Polls is how many times a wait or a watch polled.
	Polls int
	// Failed is how many items of a send_batch did not succeed.
	Failed int
	// StatusCode is the last answer's HTTP status; 0 when none came.
	StatusCode int
	// NotificationID is the notification, as the service named it in its
	// answer, that a send made (the first, with several recipients) or that
	// get_notification, wait or watch read; NotificationStatus the status
	// it read. Each is given only when it has the form the service uses (a
	// UUID; a lower-case word), so that an answer echoing an address or a
	// phone number there does not hand it to the observer.
	NotificationID     string
	NotificationStatus NotificationStatus
	// ErrorType is "" when the call succeeded, and otherwise the class of
	// its error (see Observer).
	ErrorType string
}

// AttemptStart describes an HTTP attempt about to go out.
type AttemptStart struct {
	// Attempt counts from 1; Attempt-1 is the resend count.
	Attempt int
	// Header starts empty. What the hook adds to it goes out with the
	// attempt's request: trace context, from a propagator. It cannot
	// replace the headers the SDK sets (Authorization, User-Agent,
	// Content-Type, X-Idempotency-Key), which the hook does not see.
	Header http.Header
}

// AttemptEnd is how an HTTP attempt ended, and what the retry policy
// decided after it.
type AttemptEnd struct {
	Attempt int
	// Duration runs from the attempt's start to its answer read whole (or
	// its failure).
	Duration time.Duration
	// StatusCode is the answer's HTTP status; 0 when none came.
	StatusCode int
	// ErrorType is "" when the attempt succeeded, and otherwise the class
	// of its failure (see Observer).
	ErrorType string
	// Retry reports whether another attempt follows, after Wait.
	Retry bool
	Wait  time.Duration
	// Reason says why: "backoff" or "retry_after" (the wait the service
	// asked for) when the SDK retries; when it does not, "not_retryable",
	// "retries_exhausted", "retry_after_too_long" (longer than
	// WithMaxRetryWait), "deadline" (the next attempt would start after the
	// context's deadline) or "canceled". "" after a success.
	Reason string
}

// RateLimiterWait is one wait for the rate limiter.
type RateLimiterWait struct {
	// Attempt is the attempt the limiter held.
	Attempt  int
	Duration time.Duration
	// Refused reports that the limiter did not let the attempt go (it
	// would have waited past the context's deadline, or the context
	// ended): the call ends with an error of class "rate_limiter".
	Refused bool
}

// Poll is one poll of a wait or a watch.
type Poll struct {
	// Poll counts from 1.
	Poll int
	// Status is the notification's status; "" when the poll failed, or
	// when the answer put there what is not a status word (see
	// OperationEnd.NotificationStatus).
	Status NotificationStatus
	// ErrorType is "" when the poll succeeded, and otherwise the class of
	// its failure (see Observer).
	ErrorType string
}

// WithObserver makes the client call o's hooks (see Observer). A later
// WithObserver replaces an earlier one; to feed two, give one whose hooks
// call both.
func WithObserver(o Observer) Option {
	return func(c *config) {
		if o.OperationStart == nil && o.OperationEnd == nil && o.AttemptStart == nil &&
			o.AttemptEnd == nil && o.RateLimiterWait == nil && o.Poll == nil {
			c.observer = nil // nothing to call: the client stays as fast as without
			return
		}
		c.observer = &o
	}
}
