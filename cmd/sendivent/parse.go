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

// contactFields are the keys of the key=value form of --to, and where each
// goes in a sendivent.Contact. "push" may repeat; the others may not.
var contactFields = map[string]func(c *sendivent.Contact, v string){
	"id":       func(c *sendivent.Contact, v string) { c.ID = v },
	"email":    func(c *sendivent.Contact, v string) { c.Email = v },
	"phone":    func(c *sendivent.Contact, v string) { c.Phone = v },
	"name":     func(c *sendivent.Contact, v string) { c.Name = v },
	"slack":    func(c *sendivent.Contact, v string) { c.Slack = v },
	"telegram": func(c *sendivent.Contact, v string) { c.Telegram = v },
	"discord":  func(c *sendivent.Contact, v string) { c.Discord = v },
	"push":     func(c *sendivent.Contact, v string) { c.PushTokens = append(c.PushTokens, v) },
	"language": func(c *sendivent.Contact, v string) { c.Language = v },
}

// parseRecipient reads one --to value. Three forms:
//
//   - a JSON object ({"email":"a@example.com","name":"Ann"}): a Contact,
//     decoded strictly so that a misspelt field is an error;
//   - key=value pairs joined by commas (email=a@example.com,name=Ann), with
//     the keys of contactFields: a Contact;
//   - anything else: an Address (email, E.164 phone, contact UUID, your own
//     user id, Slack member id), which the service resolves.
//
// The SDK validates the result (E.164, at least one identifier) when it sends.
func parseRecipient(s string) (sendivent.Recipient, error) {
	t := strings.TrimSpace(s)
	switch {
	case t == "":
		return nil, usagef("--to is empty")
	case strings.HasPrefix(t, "{"):
		var c sendivent.Contact
		if err := decodeStrict([]byte(t), &c); err != nil {
			return nil, usagef("--to %s: not a contact object: %v", quoteShort(t), err)
		}
		return c, nil
	case isContactPairs(t):
		return parseContactPairs(t)
	}
	return sendivent.Address(t), nil
}

// isContactPairs reports whether s starts with a known key and "=": an
// address never does (an email's local part may hold "=", but not after a
// bare "email" or "phone").
func isContactPairs(s string) bool {
	k, _, ok := strings.Cut(s, "=")
	_, known := contactFields[strings.TrimSpace(k)]
	return ok && known
}

func parseContactPairs(s string) (sendivent.Contact, error) {
	var c sendivent.Contact
	seen := map[string]bool{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		set, known := contactFields[k]
		switch {
		case !ok:
			return c, usagef("--to: %q is not key=value (contact keys: %s)", pair, contactKeyList())
		case !known:
			return c, usagef("--to: unknown contact key %q (contact keys: %s)", k, contactKeyList())
		case v == "":
			return c, usagef("--to: %s has no value", k)
		case seen[k] && k != "push":
			return c, usagef("--to: %s given twice", k)
		}
		seen[k] = true
		set(&c, v)
	}
	return c, nil
}

func contactKeyList() string {
	return "id, email, phone, name, slack, telegram, discord, push, language"
}

// parsePayloadPairs reads --payload key=value flags. Values are strings, as
// typed; keys are flat (a dot is part of the key). Use --payload-json for
// numbers, booleans, lists and nested objects. A key given twice is an error
// rather than a silent overwrite.
func parsePayloadPairs(pairs []string) (sendivent.Payload, error) {
	p := make(sendivent.Payload, len(pairs))
	for _, pair := range pairs {
		k, v, ok := strings.Cut(pair, "=")
		switch {
		case !ok:
			return nil, usagef("--payload %q: want key=value", pair)
		case k == "":
			return nil, usagef("--payload %q: empty key", pair)
		}
		if _, dup := p[k]; dup {
			return nil, usagef("--payload: key %q given twice", k)
		}
		p[k] = v
	}
	return p, nil
}

// parsePayloadJSON reads --payload-json: a JSON object given inline, or
// @FILE to read it from a file, or @- from stdin. Numbers keep their exact
// digits.
func parsePayloadJSON(arg string, stdin io.Reader) (sendivent.Payload, error) {
	data, err := readArg(arg, stdin)
	if err != nil {
		return nil, err
	}
	var p map[string]any
	if err := decodeStrict(data, &p); err != nil {
		return nil, usagef("--payload-json: %v", err)
	}
	if p == nil {
		return nil, usagef("--payload-json: want a JSON object, got null")
	}
	return sendivent.Payload(p), nil
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
