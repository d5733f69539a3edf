package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sendivent/sendivent-go"
)

// Exit codes. Scripts tell the failures apart by these, so they are part of
// the command's interface: change them only with a CHANGELOG entry.
const (
	exitOK          = 0
	exitOther       = 1   // anything not below
	exitUsage       = 2   // bad flags or arguments, invalid input, no key: nothing was sent
	exitAPI         = 3   // the service answered with an error
	exitTransport   = 4   // no usable answer: connection failed, timed out per attempt, bad body
	exitTimeout     = 5   // --timeout or the wait's bound ran out
	exitNotComplete = 6   // a waited notification ended failed or stopped
	exitInterrupted = 130 // SIGINT or SIGTERM (128 + SIGINT, as shells do)
)

// exitCodesHelp is appended to the help of the root and of each API command.
const exitCodesHelp = `Exit codes:
  0    success
  1    other error
  2    usage or validation error (bad flag, argument or input; no API key); nothing was sent
  3    API error: the service answered with an error (401, 404, 422, 429, 5xx…)
  4    transport error: no usable answer (connection refused, per-attempt timeout, bad body)
  5    timeout: --timeout, or the wait's own bound, ran out
  6    the notification ended failed or stopped (wait, send --wait)
  130  interrupted (SIGINT or SIGTERM)`

// usageError is bad input found by the command itself.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// timeoutError and interruptedError mark an error that came after the
// command's own context ended: by --timeout, or by a signal.
type timeoutError struct{ err error }

func (e *timeoutError) Error() string { return e.err.Error() }
func (e *timeoutError) Unwrap() error { return e.err }

type interruptedError struct{ err error }

func (e *interruptedError) Error() string { return "interrupted: " + e.err.Error() }
func (e *interruptedError) Unwrap() error { return e.err }

// notCompleteError is a waited notification that ended failed or stopped.
type notCompleteError struct{ n *sendivent.Notification }

func (e *notCompleteError) Error() string {
	s := fmt.Sprintf("notification %s ended %s", e.n.ID, e.n.Status)
	if m := e.n.FailedMessage(); m != nil {
		s += fmt.Sprintf(" (%s: %s)", m.Channel, m.Error)
	}
	return s
}

// markContextEnd wraps err when ctx ended, so that its exit code says why.
// An error while ctx is alive is left alone: a per-attempt timeout of the
// SDK matches context.DeadlineExceeded too, but it is a transport error.
func markContextEnd(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	if errors.Is(context.Cause(ctx), errSignal) {
		return &interruptedError{err}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return &timeoutError{err}
	}
	return err
}

// errSignal is the cause of the context a signal cancels.
var errSignal = errors.New("signal received")

// exitCode maps an error to the command's exit code.
func exitCode(err error) int {
	var (
		usage      *usageError
		validation *sendivent.ValidationError
		api        *sendivent.APIError
		transport  *sendivent.TransportError
		waitOut    *sendivent.WaitTimeoutError
		timeout    *timeoutError
		interrupt  *interruptedError
		notDone    *notCompleteError
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &interrupt):
		return exitInterrupted
	case errors.As(err, &usage), errors.As(err, &validation):
		return exitUsage
	case errors.As(err, &notDone):
		return exitNotComplete
	case errors.As(err, &timeout), errors.As(err, &waitOut):
		return exitTimeout
	case errors.As(err, &api):
		return exitAPI
	case errors.As(err, &transport):
		return exitTransport
	}
	return exitOther
}

// errorKind names the exit code's class in JSON error output.
func errorKind(code int) string {
	switch code {
	case exitUsage:
		return "usage"
	case exitAPI:
		return "api"
	case exitTransport:
		return "transport"
	case exitTimeout:
		return "timeout"
	case exitNotComplete:
		return "not_completed"
	case exitInterrupted:
		return "interrupted"
	}
	return "other"
}

// jsonError is the shape of an error on stderr under --json.
type jsonError struct {
	Kind           string            `json:"kind"`
	ExitCode       int               `json:"exit_code"`
	Message        string            `json:"message"`
	Status         int               `json:"status,omitempty"`
	Code           string            `json:"code,omitempty"`
	Field          string            `json:"field,omitempty"`
	RequestID      string            `json:"request_id,omitempty"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
	RetryAfter     float64           `json:"retry_after_seconds,omitempty"`
	Notification   *notificationJSON `json:"notification,omitempty"` // last state seen, for a wait
}

// writeError prints err to w: one line of text, or {"error": …} under
// --json. w is run's scrubbing writer, which removes the key.
func writeError(w io.Writer, err error, code int, asJSON bool, cmdPath string) {
	msg := err.Error()
	if !strings.HasPrefix(msg, "sendivent: ") {
		msg = "sendivent: " + msg
	}
	if !asJSON {
		fmt.Fprintln(w, clean(msg)) // one line, which drives no terminal
		if code == exitUsage && cmdPath != "" {
			fmt.Fprintf(w, "Run '%s --help' for usage.\n", cmdPath)
		}
		return
	}
	je := jsonError{Kind: errorKind(code), ExitCode: code, Message: msg}
	var (
		api        *sendivent.APIError
		validation *sendivent.ValidationError
		transport  *sendivent.TransportError
		waitOut    *sendivent.WaitTimeoutError
		notDone    *notCompleteError
	)
	switch {
	case errors.As(err, &api):
		je.Status, je.Code, je.Field = api.StatusCode, api.Code, api.Field
		je.RequestID, je.IdempotencyKey = api.RequestID, api.IdempotencyKey
		je.RetryAfter = api.RetryAfter.Seconds()
	case errors.As(err, &validation):
		je.Field = validation.Field
	case errors.As(err, &transport):
		je.Status, je.IdempotencyKey = transport.StatusCode, transport.IdempotencyKey
	case errors.As(err, &waitOut):
		je.Notification = notificationView(waitOut.Last)
	case errors.As(err, &notDone):
		je.Notification = notificationView(notDone.n)
	}
	writeJSON(w, map[string]any{"error": je})
}

// writeJSON writes v as one line of JSON.
func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // only fails on a broken pipe; nothing left to tell
}
