package sendivent

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/sendivent/sendivent-go/internal/redact"
)

// Contact describes a person: inline as a recipient (the service creates
// the contact, or updates the one that matches any of its identifiers), or
// as the body of Contacts.Upsert and Contacts.Update. As a recipient it
// needs at least one identifier (ID, Email, Phone, Slack, Telegram, Discord
// or a push token).
type Contact struct {
	ID       string `json:"id,omitempty"`    // your own user id (the service's external_id)
	Email    string `json:"email,omitempty"` // used by email
	Phone    string `json:"phone,omitempty"` // E.164; used by SMS and WhatsApp
	Name     string `json:"name,omitempty"`  // full name; the service splits it
	Avatar   string `json:"avatar,omitempty"`
	Username string `json:"username,omitempty"`
	// Slack is a Slack member id ("U…"). It is sent as slack_id, the name in
	// the contacts API and the newest official SDK types.
	Slack    string `json:"slack_id,omitempty"`
	Telegram string `json:"telegram,omitempty"`
	Discord  string `json:"discord,omitempty"` // user or channel snowflake
	// PushTokens are the contact's devices' push tokens. One is sent as
	// push_token, the spelling the service's docs use (the push channel
	// page, the API guide); several as push_tokens, the official SDKs'
	// field and the only spelling the sources give for more than one. The
	// SDK reads either in an answer (StoredContact).
	PushTokens []string `json:"push_tokens,omitempty"`
	Language   string   `json:"language,omitempty"` // ISO 639-1, used when the send has none
	// Meta is your own data, available to templates as {{contact.meta.…}}.
	Meta map[string]any `json:"meta,omitempty"`
	// Extra holds fields the SDK does not model, sent as they are beside
	// the ones above. The service stores unknown fields in meta (with
	// snake_case keys turned to camelCase). A key that names a field above,
	// or another spelling of one (external_id, externalId, slack,
	// push_token), is a *ValidationError.
	Extra map[string]any `json:"-"`
}

func (c Contact) validate(field string) error {
	if c.ID == "" && c.Email == "" && c.Phone == "" && c.Slack == "" &&
		c.Telegram == "" && c.Discord == "" && len(c.PushTokens) == 0 {
		return invalid(field, "contact has no identifier (ID, Email, Phone, Slack, Telegram, Discord or PushTokens)")
	}
	return c.check(field)
}

// check checks the fields that are set.
func (c Contact) check(field string) error {
	if c.Email != "" {
		if err := checkEmail(c.Email); err != "" {
			return invalid(field+".email", err)
		}
	}
	if c.Phone != "" && !isE164(c.Phone) {
		return invalid(field+".phone", "phone number must be E.164, such as +46701234567")
	}
	for i, t := range c.PushTokens {
		if err := checkToken(t); err != "" {
			return invalid(field+".push_tokens["+strconv.Itoa(i)+"]", err)
		}
	}
	return checkExtra(c.Extra, contactFields, field)
}

// checkToken says what is wrong with a push token, or "".
func checkToken(t string) string {
	switch {
	case strings.TrimSpace(t) == "":
		return "empty push token"
	case strings.TrimSpace(t) != t:
		return "push token has leading or trailing space"
	}
	for i := 0; i < len(t); i++ {
		if c := t[i]; c < 0x20 || c == 0x7f {
			return "push token contains a control character"
		}
	}
	return ""
}

// LogValue masks the contact's identifiers in structured logs and leaves out
// its name and meta.
func (c Contact) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 3)
	if c.ID != "" {
		attrs = append(attrs, slog.String("id", redact.Recipient(c.ID)))
	}
	if c.Email != "" {
		attrs = append(attrs, slog.String("email", redact.Email(c.Email)))
	}
	if c.Phone != "" {
		attrs = append(attrs, slog.String("phone", redact.Phone(c.Phone)))
	}
	return slog.GroupValue(attrs...)
}

func (c Contact) logValue() slog.Value { return c.LogValue() }

// StoredContact is a contact as the service stores it: the answer of the
// Contacts service. The service's format is documented only in part, so it
// is read leniently: each field under any name the sources show (snake_case
// or camelCase), ids given as numbers read as text, a field of an
// unexpected type left empty; Raw keeps the object as received.
type StoredContact struct {
	UUID       string         `json:"uuid"`                  // the service's id for the contact
	ExternalID string         `json:"external_id,omitempty"` // your own user id (Contact.ID)
	Email      string         `json:"email,omitempty"`
	Phone      string         `json:"phone,omitempty"`
	Name       string         `json:"name,omitempty"`
	FirstName  string         `json:"first_name,omitempty"` // split from Name by the service
	LastName   string         `json:"last_name,omitempty"`
	Avatar     string         `json:"avatar,omitempty"`
	Username   string         `json:"username,omitempty"`
	Slack      string         `json:"slack_id,omitempty"`
	Telegram   string         `json:"telegram,omitempty"`
	Discord    string         `json:"discord,omitempty"`
	PushTokens []string       `json:"push_tokens,omitempty"`
	Language   string         `json:"language,omitempty"`
	Meta       map[string]any `json:"meta,omitempty"`
	CreatedAt  time.Time      `json:"created_at"` // zero when the service does not say
	UpdatedAt  time.Time      `json:"updated_at"`
	// Raw is the contact's JSON object as received.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes a contact leniently (see StoredContact).
func (s *StoredContact) UnmarshalJSON(b []byte) error {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	str := func(keys ...string) string {
		for _, k := range keys {
			if v := lenientString(f[k]); v != "" {
				return v
			}
		}
		return ""
	}
	*s = StoredContact{
		UUID:       str("uuid"),
		ExternalID: str("external_id", "externalId"),
		Email:      str("email"),
		Phone:      str("phone"),
		Name:       str("name"),
		FirstName:  str("first_name", "firstName"),
		LastName:   str("last_name", "lastName"),
		Avatar:     str("avatar"),
		Username:   str("username"),
		Slack:      str("slack_id", "slack"),
		Telegram:   str("telegram"),
		Discord:    str("discord"),
		Language:   str("language"),
		CreatedAt:  lenientTimeOf(f, "created_at", "createdAt"),
		UpdatedAt:  lenientTimeOf(f, "updated_at", "updatedAt"),
		Raw:        append(json.RawMessage(nil), b...),
	}
	if s.UUID == "" {
		s.UUID = jsonString(f["id"]) // a string id is the contact's; a number is a row id
	}
	for _, k := range []string{"push_tokens", "pushTokens"} {
		if json.Unmarshal(f[k], &s.PushTokens) == nil && len(s.PushTokens) > 0 {
			break
		}
		s.PushTokens = nil
	}
	if t := str("push_token"); t != "" && len(s.PushTokens) == 0 {
		s.PushTokens = []string{t}
	}
	if json.Unmarshal(f["meta"], &s.Meta) != nil {
		s.Meta = nil
	}
	return nil
}

// lenientTimeOf is the first of keys that f holds as a readable timestamp.
func lenientTimeOf(f map[string]json.RawMessage, keys ...string) time.Time {
	for _, k := range keys {
		var l lenientTime
		if raw, ok := f[k]; ok && l.UnmarshalJSON(raw) == nil && !l.t.IsZero() {
			return l.t
		}
	}
	return time.Time{}
}

// listKey names the contact in a listing: its UUID, or its JSON.
func (s *StoredContact) listKey() string { return uuidOrRaw(s.UUID, s.Raw) }
