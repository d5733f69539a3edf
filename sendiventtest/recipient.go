package sendiventtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/sendivent/sendivent-go"
)

var (
	e164Re    = regexp.MustCompile(`^\+[1-9]\d{1,14}$`)
	slackIDRe = regexp.MustCompile(`^U[A-Z0-9]{2,}$`)
)

// recipient is one parsed entry of `to`.
type recipient struct {
	field    string // "to" or "to[i]"
	ref      string // a string that names an external id or contact uuid
	ids      identity
	language string         // a contact object's "language"
	meta     map[string]any // a contact object's "meta", as plainly decoded
}

// contact is the recipient as the request named it, in the SDK's type.
func (r recipient) contact() sendivent.Contact {
	id := r.ids
	c := sendivent.Contact{
		ID: id.externalID, Email: id.email, Phone: id.phone, Name: id.name,
		Slack: id.slack, Telegram: id.telegram, Discord: id.discord,
		PushTokens: id.pushTokens, Language: r.language, Meta: r.meta,
	}
	if c.ID == "" {
		c.ID = r.ref
	}
	return c
}

// contactOf reads a contact object (m decoded with UseNumber, plain
// without) leniently: it is a custom sender, which the service checks
// against its verified senders and the fake only records.
func contactOf(m, plain map[string]any) sendivent.Contact {
	r, _ := parseContact(m, plain, recipient{field: "from"})
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
	if len(o.pushTokens) > 0 {
		id.pushTokens = append([]string(nil), o.pushTokens...)
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

// parseContact reads the identifiers of a contact object; plain is the same
// object decoded without UseNumber, for its meta.
func parseContact(m, plain map[string]any, r recipient) (recipient, *apiError) {
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
	id := r.ids
	if id.externalID == "" && id.email == "" && id.phone == "" && id.slack == "" &&
		id.telegram == "" && id.discord == "" && len(id.pushTokens) == 0 {
		e := badTo(r.field, "Contact must have at least one identifier")
		e.Code = "MISSING_IDENTIFIER"
		return r, e
	}
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

// contact is one stored contact.
type contact struct {
	uuid string
	ids  identity
}

// contactStore holds the contacts sends created, indexed by identifiers.
type contactStore struct {
	byKey map[string]*contact // "uuid:…", "ext:…", "email:…", "phone:…", "slack:…", …
}

func (id identity) keys() []string {
	var ks []string
	add := func(prefix, v string) {
		if v != "" {
			ks = append(ks, prefix+v)
		}
	}
	add("ext:", id.externalID)
	add("email:", strings.ToLower(id.email))
	add("phone:", id.phone)
	add("slack:", id.slack)
	add("telegram:", id.telegram)
	add("discord:", id.discord)
	return ks
}

// find returns the stored contact the recipient names, or nil.
func (cs *contactStore) find(r recipient) *contact {
	if r.ref != "" {
		if c := cs.byKey["uuid:"+r.ref]; c != nil {
			return c
		}
		if c := cs.byKey["ext:"+r.ref]; c != nil {
			return c
		}
	}
	for _, k := range r.ids.keys() {
		if c := cs.byKey[k]; c != nil {
			return c
		}
	}
	return nil
}

// resolve returns the recipient's identifiers as the service would see them:
// the stored contact's, updated by what the request says.
func (cs *contactStore) resolve(r recipient) identity {
	var id identity
	if c := cs.find(r); c != nil {
		id = c.ids
		id.pushTokens = append([]string(nil), c.ids.pushTokens...)
	} else if r.ref != "" {
		id.externalID = r.ref
	}
	id.merge(r.ids)
	return id
}

// upsert creates or updates the recipient's contact and returns it.
func (cs *contactStore) upsert(r recipient) *contact {
	if cs.byKey == nil {
		cs.byKey = map[string]*contact{}
	}
	c := cs.find(r)
	if c == nil {
		c = &contact{uuid: newUUID()}
		cs.byKey["uuid:"+c.uuid] = c
	}
	c.ids = cs.resolve(r)
	for _, k := range c.ids.keys() {
		cs.byKey[k] = c
	}
	return c
}
