package sendivent

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/sendivent/sendivent-go/internal/redact"
)

// What a server echoes is kept and printed only without the API key (any
// run of 8 or more of its characters) and without webhook signing secrets.
// The tests are the key-never-leaks suite: secrets_test.go and
// secrets_internal_test.go.

// scrub removes any piece of the key, and every webhook signing secret
// (a 409 may echo the existing endpoint's), from what the server echoed
// into an error. The text fields are cut to a readable length and lose
// control characters, so that a hostile answer can neither flood nor forge
// a log line.
func (c *Client) scrub(e *APIError) {
	e.Body = c.scrubBytes(e.Body)
	if s := redact.SigningSecrets(string(e.Body)); s != string(e.Body) {
		e.Body = []byte(s)
	}
	e.Message = c.scrubText(e.Message, 1024)
	for _, s := range []*string{&e.Code, &e.Field, &e.Channel, &e.RequestID} {
		*s = c.scrubText(*s, 256)
	}
}

// scrubText is s as the SDK keeps a server's words: printable, at most
// max bytes, without any piece of the key or a signing secret.
func (c *Client) scrubText(s string, max int) string {
	if s == "" {
		return s
	}
	return redact.SigningSecrets(redact.Secret(printable(s, max), c.cred.key))
}

// requestID is the answer's X-Request-Id, scrubbed as an error's is.
func (a *answer) requestID() string { return a.c.scrubText(a.header.Get("X-Request-Id"), 256) }

// scrubBytes is b without any piece of the key.
func (c *Client) scrubBytes(b []byte) []byte {
	if s := redact.Secret(string(b), c.cred.key); s != string(b) {
		return []byte(s)
	}
	return b
}

// printable is s as valid UTF-8 without control characters, cut to at most
// max bytes.
func printable(s string, max int) string {
	s = strings.Map(dropControl, strings.ToValidUTF8(s, "\uFFFD"))
	if len(s) > max {
		s = strings.ToValidUTF8(s[:max], "") + "…"
	}
	return s
}

// scrubErr returns err, or, when its message holds a piece of the key (a
// redirect's Location that carried it), an error with that piece removed.
// Nothing it wraps holds the key: the URL of a *url.Error is scrubbed too,
// and a cause that cannot be cleaned is dropped, though the result still
// matches the context's errors when the cause did.
func (c *Client) scrubErr(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := redact.Secret(msg, c.cred.key)
	if clean == msg {
		return err
	}
	e := &scrubbedError{msg: clean, is: contextErrs(err)}
	var ue *url.Error
	if errors.As(err, &ue) {
		e.err = &url.Error{Op: ue.Op, URL: redact.Secret(ue.URL, c.cred.key), Err: c.scrubErr(ue.Err)}
	}
	return e
}

// contextErrs are the context errors err matches, for an error that
// replaces it but cannot wrap it.
func contextErrs(err error) []error {
	var is []error
	for _, target := range []error{context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, target) {
			is = append(is, target)
		}
	}
	return is
}

// scrubbedError is an error whose message had a piece of the key, or a
// request's path, removed.
type scrubbedError struct {
	msg string
	err error   // the cleaned cause, if it could be cleaned
	is  []error // the context errors the cause matched
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }
func (e *scrubbedError) Is(target error) bool {
	for _, t := range e.is {
		if t == target {
			return true
		}
	}
	return false
}
