package sendivent

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// Fields the SDK does not model. SendRequest, Overrides, EmailOverrides,
// SMSOverrides, BrandOverrides and Contact each have an Extra map: JSON
// fields sent as they are, beside the modelled ones. It is for what the
// service accepts and the SDK does not type: overrides for push, Slack,
// Telegram, WhatsApp or Discord, an email attachment, a field the service
// adds next month. A key that names a modelled field (or another spelling
// of one) is refused with a *ValidationError, since the request would say
// the same thing twice; so is an empty key.

// modelled lists the JSON names of a type's fields, and the other
// spellings the service accepts for them.
type modelled map[string]bool

// jsonNames are the JSON names of t's fields, plus aliases.
func jsonNames(t reflect.Type, aliases ...string) modelled {
	m := modelled{}
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "-" && name != "" {
			m[name] = true
		}
	}
	for _, a := range aliases {
		m[a] = true
	}
	return m
}

var (
	sendFields     = jsonNames(reflect.TypeOf(sendBody{}))
	overrideFields = jsonNames(reflect.TypeOf(Overrides{}))
	emailFields    = jsonNames(reflect.TypeOf(EmailOverrides{}))
	smsFields      = jsonNames(reflect.TypeOf(SMSOverrides{}))
	brandFields    = jsonNames(reflect.TypeOf(BrandOverrides{}))
	// The service reads a contact's user id as id, external_id or
	// externalId, its Slack id as slack_id or slack, and one push token as
	// push_token.
	contactFields = jsonNames(reflect.TypeOf(Contact{}), "external_id", "externalId", "slack", "push_token")
)

// checkExtra refuses an Extra key that is empty or names a modelled field.
// Keys are checked in sorted order, so the error is the same every time.
func checkExtra(extra map[string]any, known modelled, field string) error {
	if len(extra) == 0 {
		return nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		switch {
		case k == "":
			return invalid(field+".extra", "empty key")
		case known[k]:
			return invalid(field+".extra", "key "+strconv.Quote(k)+" is a field the SDK models: set the field instead")
		}
	}
	return nil
}

// withExtra returns obj, the JSON encoding of an object, with extra's
// fields after its own. Keys come out sorted (encoding/json sorts a map's),
// so the same value always encodes to the same bytes.
func withExtra(obj []byte, extra map[string]any, known modelled, field string) ([]byte, error) {
	if len(extra) == 0 {
		return obj, nil
	}
	if err := checkExtra(extra, known, field); err != nil {
		return nil, err
	}
	e, err := json.Marshal(extra)
	if err != nil {
		return nil, err
	}
	switch {
	case len(e) == 2: // {}
		return obj, nil
	case len(obj) == 2:
		return e, nil
	}
	out := make([]byte, 0, len(obj)+len(e))
	out = append(out, obj[:len(obj)-1]...)
	out = append(out, ',')
	return append(out, e[1:]...), nil
}

// MarshalJSON encodes the overrides with their Extra fields.
func (o Overrides) MarshalJSON() ([]byte, error) {
	type plain Overrides
	return marshalExtra(plain(o), o.Extra, overrideFields, "overrides")
}

// MarshalJSON encodes the email overrides with their Extra fields.
func (o EmailOverrides) MarshalJSON() ([]byte, error) {
	type plain EmailOverrides
	return marshalExtra(plain(o), o.Extra, emailFields, "overrides.email")
}

// MarshalJSON encodes the SMS overrides with their Extra fields.
func (o SMSOverrides) MarshalJSON() ([]byte, error) {
	type plain SMSOverrides
	return marshalExtra(plain(o), o.Extra, smsFields, "overrides.sms")
}

// MarshalJSON encodes the brand overrides with their Extra fields.
func (o BrandOverrides) MarshalJSON() ([]byte, error) {
	type plain BrandOverrides
	return marshalExtra(plain(o), o.Extra, brandFields, "overrides.brand")
}

// MarshalJSON encodes the contact with its Extra fields. One push token
// goes as push_token, the spelling the service documents; several as
// push_tokens (see Contact.PushTokens).
func (c Contact) MarshalJSON() ([]byte, error) {
	type plain Contact
	w := struct {
		plain
		PushToken string `json:"push_token,omitempty"`
	}{plain: plain(c)}
	if len(c.PushTokens) == 1 {
		w.PushToken, w.PushTokens = c.PushTokens[0], nil
	}
	return marshalExtra(w, c.Extra, contactFields, "contact")
}

// marshalExtra encodes v (a type without a MarshalJSON method) with extra's
// fields after its own.
func marshalExtra(v any, extra map[string]any, known modelled, field string) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return withExtra(b, extra, known, field)
}

// UnmarshalJSON decodes overrides, keeping the fields the SDK does not
// model in Extra (the fake server reads sends with it).
func (o *Overrides) UnmarshalJSON(b []byte) error {
	type plain Overrides
	return unmarshalExtra(b, (*plain)(o), &o.Extra, overrideFields)
}

// UnmarshalJSON decodes email overrides, keeping the fields the SDK does
// not model in Extra.
func (o *EmailOverrides) UnmarshalJSON(b []byte) error {
	type plain EmailOverrides
	return unmarshalExtra(b, (*plain)(o), &o.Extra, emailFields)
}

// UnmarshalJSON decodes SMS overrides, keeping the fields the SDK does not
// model in Extra.
func (o *SMSOverrides) UnmarshalJSON(b []byte) error {
	type plain SMSOverrides
	return unmarshalExtra(b, (*plain)(o), &o.Extra, smsFields)
}

// UnmarshalJSON decodes brand overrides, keeping the fields the SDK does
// not model in Extra.
func (o *BrandOverrides) UnmarshalJSON(b []byte) error {
	type plain BrandOverrides
	return unmarshalExtra(b, (*plain)(o), &o.Extra, brandFields)
}

// unmarshalExtra decodes b into v (a type without this method), and the
// fields of b that known does not list into *extra.
func unmarshalExtra(b []byte, v any, extra *map[string]any, known modelled) error {
	if err := json.Unmarshal(b, v); err != nil {
		return err
	}
	var all map[string]any
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	*extra = nil
	for k, val := range all {
		if known[k] {
			continue
		}
		if *extra == nil {
			*extra = map[string]any{}
		}
		(*extra)[k] = val
	}
	return nil
}

// checkOverrides checks the Extra fields of o and of its parts.
func checkOverrides(o *Overrides) error {
	if o == nil {
		return nil
	}
	if err := checkExtra(o.Extra, overrideFields, "overrides"); err != nil {
		return err
	}
	if o.Email != nil {
		if err := checkExtra(o.Email.Extra, emailFields, "overrides.email"); err != nil {
			return err
		}
	}
	if o.SMS != nil {
		if err := checkExtra(o.SMS.Extra, smsFields, "overrides.sms"); err != nil {
			return err
		}
	}
	if o.Brand != nil {
		return checkExtra(o.Brand.Extra, brandFields, "overrides.brand")
	}
	return nil
}
