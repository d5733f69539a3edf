package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/sendivent/sendivent-go"
)

// maxJSONInput caps a --payload-json or --to JSON document read from a file
// or standard input.
const maxJSONInput = 1 << 20

// parseRecipient reads one --to value. Three forms:
//
//   - a JSON object ({"email":"a@example.com","name":"Ann"}): a Contact,
//     decoded strictly so that a misspelt field is an error;
//   - key=value pairs joined by commas (email=a@example.com,name=Ann), with
//     the keys of contactFieldList: a Contact;
//   - anything else: an Address (email, E.164 phone, contact UUID, your own
//     user id, Slack member id), which the service resolves.
//
// The SDK validates the result (E.164, at least one identifier) when it sends.
func parseRecipient(s string) (sendivent.Recipient, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, usagef("--to is empty")
	}
	if c, ok, err := parseContact("--to", t); ok {
		return c, err
	}
	return sendivent.Address(t), nil
}

// parseContact reads the contact forms of parseRecipient, a JSON object or
// key=value pairs, from the value of flag (named in errors). ok is false
// when s is neither form.
func parseContact(flag, s string) (c sendivent.Contact, ok bool, err error) {
	t := strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(t, "{"):
		if err := decodeStrict([]byte(t), &c); err != nil {
			return c, true, usagef("%s %s: not a contact object: %v", flag, quoteShort(t), err)
		}
		return c, true, nil
	case isContactPairs(t):
		return c, true, parseContactPairs(flag, t, &c)
	}
	return c, false, nil
}

// isContactPairs reports whether s starts with a known key and "=": an
// address never does (an email's local part may hold "=", but not after a
// bare "email" or "phone").
func isContactPairs(s string) bool {
	k, _, ok := strings.Cut(s, "=")
	_, known := lookupContactField(strings.TrimSpace(k))
	return ok && known
}

// parseContactPairs sets the fields of c that s names as key=value pairs
// joined by commas.
func parseContactPairs(flag, s string, c *sendivent.Contact) error {
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		f, known := lookupContactField(k)
		switch {
		case !ok:
			return usagef("%s: %q is not key=value (contact keys: %s)", flag, pair, contactKeyList())
		case !known:
			return usagef("%s: unknown contact key %q (contact keys: %s)", flag, k, contactKeyList())
		}
		if err := f.set(c, v, flag+": "+k); err != nil {
			return err
		}
	}
	return nil
}

// parsePairs reads the key=value values of a repeatable flag (--payload,
// --meta). Values are strings, as typed; keys are flat (a dot is part of
// the key). A key given twice is an error rather than a silent overwrite.
func parsePairs(flag string, pairs []string) (map[string]any, error) {
	p := make(map[string]any, len(pairs))
	for _, pair := range pairs {
		k, v, ok := strings.Cut(pair, "=")
		switch {
		case !ok:
			return nil, usagef("%s %q: want key=value", flag, pair)
		case k == "":
			return nil, usagef("%s %q: empty key", flag, pair)
		}
		if _, dup := p[k]; dup {
			return nil, usagef("%s: key %q given twice", flag, k)
		}
		p[k] = v
	}
	return p, nil
}

// parseObjectArg reads the value of a JSON-object flag (--payload-json,
// --extra-json): the object given inline, or @FILE to read it from a file,
// or @- from stdin. Numbers keep their exact digits.
func parseObjectArg(flag, arg string, stdin io.Reader) (map[string]any, error) {
	data, err := readArg(arg, stdin)
	if err != nil {
		return nil, err
	}
	var p map[string]any
	if err := decodeStrict(data, &p); err != nil {
		return nil, usagef("%s: %v", flag, err)
	}
	if p == nil {
		return nil, usagef("%s: want a JSON object, got null", flag)
	}
	return p, nil
}

// readArg returns arg, or the content of the file it names after "@" ("@-"
// is stdin), up to maxJSONInput bytes.
func readArg(arg string, stdin io.Reader) ([]byte, error) {
	name, isFile := strings.CutPrefix(arg, "@")
	if !isFile {
		return []byte(arg), nil
	}
	var r io.Reader
	switch name {
	case "":
		return nil, usagef("%q: want @FILE or @- for stdin", arg)
	case "-":
		r = stdin
	default:
		f, err := os.Open(name)
		if err != nil {
			return nil, usagef("%v", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxJSONInput+1))
	if err != nil {
		return nil, usagef("reading %s: %v", arg, err)
	}
	if len(data) > maxJSONInput {
		return nil, usagef("%s is larger than %d bytes", arg, maxJSONInput)
	}
	return data, nil
}

// decodeStrict decodes one JSON value into v: unknown fields of a struct
// are errors, numbers stay json.Number, and anything after the value is an
// error.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty input")
		}
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// quoteShort quotes s for an error message, cut to 40 bytes.
func quoteShort(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q…", s[:40])
	}
	return fmt.Sprintf("%q", s)
}
