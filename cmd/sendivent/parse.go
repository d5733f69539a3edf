package main

import (
	"bytes"
	"context"
	"strings"

	"github.com/sendivent/sendivent-go"
)

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
	if c, ok, err := parseContact(input{flag: "--to", arg: s, data: []byte(t)}); ok {
		return c, err
	}
	return sendivent.Address(t), nil
}

// parseContact reads the contact forms of parseRecipient, a JSON object or
// key=value pairs, from in. ok is false when in is neither form.
func parseContact(in input) (c sendivent.Contact, ok bool, err error) {
	t := bytes.TrimSpace(in.data)
	switch {
	case bytes.HasPrefix(t, []byte("{")):
		return c, true, decodeStrict(in, &c)
	case isContactPairs(string(t)):
		return c, true, parseContactPairs(in, string(t), &c)
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

// parseContactPairs sets the fields of c that s (in's data, trimmed) names
// as key=value pairs joined by commas. Errors name a pair by its number.
func parseContactPairs(in input, s string, c *sendivent.Contact) error {
	for i, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		f, known := lookupContactField(k)
		switch {
		case !ok:
			return in.errorf("pair %d is not key=value (contact keys: %s)", i+1, contactKeyList())
		case !known:
			return in.errorf("pair %d: unknown contact key (contact keys: %s)", i+1, contactKeyList())
		}
		if err := f.set(c, v, in.name()+": "+k); err != nil {
			return err
		}
	}
	return nil
}

// parsePairs reads the key=value values of a repeatable flag (--payload,
// --meta). Values are strings, as typed; keys are flat (a dot is part of
// the key). A key given twice is an error rather than a silent overwrite.
// Errors name a value by its place among the flag's values, and never
// quote it: a value may be a secret.
func parsePairs(flag string, pairs []string) (map[string]any, error) {
	p := make(map[string]any, len(pairs))
	first := make(map[string]int, len(pairs))
	for i, pair := range pairs {
		k, v, ok := strings.Cut(pair, "=")
		switch {
		case !ok:
			return nil, usagef("%s value %d: want key=value", flag, i+1)
		case k == "":
			return nil, usagef("%s value %d: empty key", flag, i+1)
		}
		if j, dup := first[k]; dup {
			return nil, usagef("%s: values %d and %d set the same key", flag, j+1, i+1)
		}
		first[k] = i
		p[k] = v
	}
	return p, nil
}

// parseObjectArg reads the value of a JSON-object flag (--payload-json,
// --extra-json): the object given inline, or @FILE to read it from a file,
// or @- from stdin. Numbers keep their exact digits.
func parseObjectArg(ctx context.Context, flag, arg string, stdin *stdinReader) (map[string]any, error) {
	in, err := readArg(ctx, flag, arg, stdin)
	if err != nil {
		return nil, err
	}
	var p map[string]any
	if err := decodeStrict(in, &p); err != nil {
		return nil, err
	}
	if p == nil {
		return nil, in.errorf("want a JSON object, got null")
	}
	return p, nil
}
