package main

import (
	"strings"

	"github.com/sendivent/sendivent-go"
)

// contactField is a contact field given as text: a key of the key=value
// contact form (send --to, contacts --contact) and a flag of contacts upsert
// and update, so that the two stay the same.
type contactField struct {
	key   string
	usage string // the flag's help; a `NAME` in it names the value
	// str points at the field in c; nil for "push", which adds a token
	// (and may repeat) rather than setting a value once.
	str func(c *sendivent.Contact) *string
}

// contactFieldList is every contact field in the order help lists them.
var contactFieldList = []contactField{
	{"id", "your own user `ID` for the contact (the service's external_id)", func(c *sendivent.Contact) *string { return &c.ID }},
	{"email", "email `ADDRESS` (the email channel)", func(c *sendivent.Contact) *string { return &c.Email }},
	{"phone", "phone `NUMBER` in E.164, such as +46701234567 (SMS and WhatsApp)", func(c *sendivent.Contact) *string { return &c.Phone }},
	{"name", "full `NAME`; the service splits it into first and last name", func(c *sendivent.Contact) *string { return &c.Name }},
	{"avatar", "avatar image `URL`", func(c *sendivent.Contact) *string { return &c.Avatar }},
	{"username", "the contact's `USERNAME`, such as a handle in your application", func(c *sendivent.Contact) *string { return &c.Username }},
	{"slack", "Slack member `ID`, such as U123ABC", func(c *sendivent.Contact) *string { return &c.Slack }},
	{"telegram", "Telegram user `ID`", func(c *sendivent.Contact) *string { return &c.Telegram }},
	{"discord", "Discord user `ID`", func(c *sendivent.Contact) *string { return &c.Discord }},
	{"push", "device push `TOKEN` (repeatable; tokens add up, one per device)", nil},
	{"language", "template `LANGUAGE` for sends that name none: ISO 639-1, such as sv", func(c *sendivent.Contact) *string { return &c.Language }},
}

func lookupContactField(key string) (contactField, bool) {
	for _, f := range contactFieldList {
		if f.key == key {
			return f, true
		}
	}
	return contactField{}, false
}

func contactKeyList() string {
	keys := make([]string, len(contactFieldList))
	for i, f := range contactFieldList {
		keys[i] = f.key
	}
	return strings.Join(keys, ", ")
}

// set sets the field in c to v, or adds the push token v. label names the
// field in errors ("--to: email", "--email"): a field given no value, or a
// value when it has one already, is an error rather than an overwrite.
func (f contactField) set(c *sendivent.Contact, v, label string) error {
	if v == "" {
		return usagef("%s has no value", label)
	}
	if f.str == nil {
		c.PushTokens = append(c.PushTokens, v)
		return nil
	}
	p := f.str(c)
	if *p != "" {
		return usagef("%s given twice", label)
	}
	*p = v
	return nil
}
