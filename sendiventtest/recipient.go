package sendiventtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sendivent/sendivent-go"
)

var (
	e164Re    = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)
	slackIDRe = regexp.MustCompile(`^U[A-Z0-9]{2,}$`)
)

// recipient is one parsed entry of `to`, or a contact object of the
// contacts API.
type recipient struct {
	field    string // "to" or "to[i]"
	ref      string // a string that names an external id or contact uuid
	ids      identity
	language string         // a contact object's "language"
	avatar   string         // a contact object's "avatar"
	username string         // a contact object's "username"
	meta     map[string]any // a contact object's "meta", as plainly decoded
	// extra are the contact object's other fields, which the service keeps
	// in meta with camelCase keys.
	extra map[string]any
}

// contact is the recipient as the request named it, in the SDK's type.
func (r recipient) contact() sendivent.Contact {
	id := r.ids
	c := sendivent.Contact{
		ID: id.externalID, Email: id.email, Phone: id.phone, Name: id.name,
		Avatar: r.avatar, Username: r.username,
		Slack: id.slack, Telegram: id.telegram, Discord: id.discord,
		PushTokens: id.pushTokens, Language: r.language, Meta: r.meta, Extra: r.extra,
	}
	if c.ID == "" {
		c.ID = r.ref
	}
	return c
}

// isChannel reports whether the recipient is only a Slack channel
// ("#general"): a destination, not a person.
func (r recipient) isChannel() bool {
	id := r.ids
	return strings.HasPrefix(id.slack, "#") && r.ref == "" && id.externalID == "" && id.email == "" &&
		id.phone == "" && id.telegram == "" && id.discord == "" && len(id.pushTokens) == 0
}

// contactOf reads a contact object (m decoded with UseNumber, plain
// without) leniently: it is a custom sender, which the service checks
// against its verified senders and the fake only records.
func contactOf(m, plain map[string]any) sendivent.Contact {
	r, _ := parseFields(m, plain, recipient{field: "from"})
	return r.contact()
}

// identity holds a contact's identifiers and display name.
type identity struct {
	externalID, email, phone, slack, telegram, discord, name string
	pushTokens                                               []string
}

// has reports whether the identity can receive on channel ch.
func (id identity) has(ch sendivent.Channel) bool {
	switch ch {
	case sendivent.ChannelEmail:
		return id.email != ""
	case sendivent.ChannelSMS, sendivent.ChannelWhatsApp:
		return id.phone != ""
	case sendivent.ChannelSlack:
		return id.slack != ""
	case sendivent.ChannelTelegram:
		return id.telegram != ""
	case sendivent.ChannelDiscord:
		return id.discord != ""
	case sendivent.ChannelPush:
		return len(id.pushTokens) > 0
	}
	return false
}

// merge overlays the non-empty fields of o on id.
func (id *identity) merge(o identity) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&id.externalID, o.externalID)
	set(&id.email, o.email)
	set(&id.phone, o.phone)
	set(&id.slack, o.slack)
	set(&id.telegram, o.telegram)
	set(&id.discord, o.discord)
	set(&id.name, o.name)
	for _, t := range o.pushTokens { // tokens add up: one per device
		if !slices.Contains(id.pushTokens, t) {
			id.pushTokens = append(id.pushTokens, t)
		}
	}
}

func badTo(field, msg string) *apiError {
	return &apiError{status: 400, Error: msg, Field: field}
}

// parseTo parses the `to` field: a string, a contact object or a non-empty
// array of those. The value comes from a json.Decoder with UseNumber; plain
// is the same value decoded without it, kept as each recipient's raw form.
func parseTo(v, plain any, allowArray bool) ([]recipient, bool, *apiError) {
	arr, isArr := v.([]any)
	if !isArr {
		r, err := parseRecipient(v, plain, "to")
		if err != nil {
			return nil, false, err
		}
		return []recipient{r}, false, nil
	}
	if !allowArray {
		return nil, true, badTo("to", "Recipient must be a string or a contact object")
	}
	if len(arr) == 0 {
		return nil, true, badTo("to", "Recipient list must not be empty")
	}
	plainArr, _ := plain.([]any)
	out := make([]recipient, 0, len(arr))
	for i, e := range arr {
		var pe any
		if i < len(plainArr) {
			pe = plainArr[i]
		}
		r, err := parseRecipient(e, pe, fmt.Sprintf("to[%d]", i))
		if err != nil {
			return nil, true, err
		}
		out = append(out, r)
	}
	return out, true, nil
}

func parseRecipient(v, plain any, field string) (recipient, *apiError) {
	r := recipient{field: field}
	switch t := v.(type) {
	case string:
		s := strings.TrimSpace(t)
		switch {
		case s == "":
			return r, badTo(field, "Recipient must not be empty")
		case strings.Contains(s, "@"):
			r.ids.email = s
		case strings.HasPrefix(s, "+"):
			if !e164Re.MatchString(s) {
				return r, badTo(field, "Phone number must be in E.164 format")
			}
			r.ids.phone = s
		case strings.HasPrefix(s, "#") || slackIDRe.MatchString(s):
			r.ids.slack = s
		default:
			r.ref = s
		}
		return r, nil
	case map[string]any:
		pm, _ := plain.(map[string]any)
		return parseContact(t, pm, r)
	}
	return r, badTo(field, "Recipient must be a string or a contact object")
}

// parseContact reads a contact object that must hold an identifier (a
// recipient); plain is the same object decoded without UseNumber, for its
// meta.
func parseContact(m, plain map[string]any, r recipient) (recipient, *apiError) {
	r, err := parseFields(m, plain, r)
	if err != nil {
		return r, err
	}
	id := r.ids
	if id.externalID == "" && id.email == "" && id.phone == "" && id.slack == "" &&
		id.telegram == "" && id.discord == "" && len(id.pushTokens) == 0 {
		e := badTo(r.field, "Contact must have at least one identifier")
		e.Code = "MISSING_IDENTIFIER"
		return r, e
	}
	return r, nil
}

// contactKeys are the fields of a contact object the service models; the
// others go to its meta.
var contactKeys = map[string]bool{
	"id": true, "external_id": true, "externalId": true, "email": true, "phone": true,
	"name": true, "avatar": true, "username": true, "slack": true, "slack_id": true,
	"telegram": true, "discord": true, "push_token": true, "push_tokens": true,
	"language": true, "meta": true,
}

// parseFields reads the fields of a contact object and checks the form of
// those that are set.
func parseFields(m, plain map[string]any, r recipient) (recipient, *apiError) {
	str := func(key string, numOK bool) (string, *apiError) {
		v, ok := m[key]
		if !ok || v == nil {
			return "", nil
		}
		switch t := v.(type) {
		case string:
			return strings.TrimSpace(t), nil
		case json.Number:
			if numOK {
				return t.String(), nil
			}
		}
		return "", badTo(r.field, fmt.Sprintf("Invalid value for %s.%s", r.field, key))
	}
	var err *apiError
	get := func(dst *string, key string, numOK bool) {
		if err != nil || *dst != "" {
			return
		}
		*dst, err = str(key, numOK)
	}
	get(&r.ids.externalID, "id", true)
	get(&r.ids.externalID, "external_id", true)
	get(&r.ids.externalID, "externalId", true)
	get(&r.ids.email, "email", false)
	get(&r.ids.phone, "phone", false)
	get(&r.ids.slack, "slack", false)
	get(&r.ids.slack, "slack_id", false)
	get(&r.ids.telegram, "telegram", true)
	get(&r.ids.discord, "discord", true)
	get(&r.ids.name, "name", false)
	get(&r.language, "language", false)
	get(&r.avatar, "avatar", false)
	get(&r.username, "username", false)
	var tok string
	get(&tok, "push_token", false)
	if err != nil {
		return r, err
	}
	if v, ok := plain["meta"]; ok && v != nil {
		if r.meta, ok = v.(map[string]any); !ok {
			return r, badTo(r.field, fmt.Sprintf("Invalid value for %s.meta", r.field))
		}
	}
	if tok != "" {
		r.ids.pushTokens = append(r.ids.pushTokens, tok)
	}
	if v, ok := m["push_tokens"]; ok && v != nil {
		arr, ok := v.([]any)
		if !ok {
			return r, badTo(r.field, fmt.Sprintf("Invalid value for %s.push_tokens", r.field))
		}
		for _, e := range arr {
			s, ok := e.(string)
			if !ok || strings.TrimSpace(s) == "" {
				return r, badTo(r.field, fmt.Sprintf("Invalid value for %s.push_tokens", r.field))
			}
			r.ids.pushTokens = append(r.ids.pushTokens, s)
		}
	}
	for k, v := range plain {
		if !contactKeys[k] {
			if r.extra == nil {
				r.extra = map[string]any{}
			}
			r.extra[k] = v
		}
	}
	id := r.ids
	if id.email != "" && !strings.Contains(id.email, "@") {
		e := badTo(r.field, "Invalid email address")
		e.Code = "INVALID_EMAIL"
		return r, e
	}
	if id.phone != "" && !e164Re.MatchString(id.phone) {
		return r, badTo(r.field, "Phone number must be in E.164 format")
	}
	return r, nil
}
