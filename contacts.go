package sendivent

import (
	"log/slog"
	"strconv"

	"github.com/sendivent/sendivent-go/internal/redact"
)

// Recipient is who a notification goes to: an [Address] or a [Contact].
// The interface is closed; those two types are its only implementations.
type Recipient interface {
	validate(field string) error
	logValue() slog.Value
}

// Address is one identifier the service resolves to a contact: an email
// address, an E.164 phone number ("+46701234567"), a contact's UUID, your own
// user id (if you set one on the contact before), or a Slack member id
// ("U123ABC"). With ChannelSlack forced it can also be a Slack channel
// ("#general"). It goes on the wire as a JSON string.
type Address string

// Contact describes a person inline. The service creates the contact, or
// updates the one that matches any of its identifiers. At least one
// identifier (ID, Email, Phone, Slack, Telegram, Discord or a push token) is
// required.
type Contact struct {
	ID         string         `json:"id,omitempty"`    // your own user id (the service's external_id)
	Email      string         `json:"email,omitempty"` // used by email
	Phone      string         `json:"phone,omitempty"` // E.164; used by SMS and WhatsApp
	Name       string         `json:"name,omitempty"`  // full name; the service splits it
	Slack      string         `json:"slack_id,omitempty"`
	Telegram   string         `json:"telegram,omitempty"`
	Discord    string         `json:"discord,omitempty"` // user or channel snowflake
	PushTokens []string       `json:"push_tokens,omitempty"`
	Language   string         `json:"language,omitempty"` // ISO 639-1, used when the send has none
	Meta       map[string]any `json:"meta,omitempty"`     // your own data, available to templates
}

func (a Address) validate(field string) error {
	if a == "" {
		return invalid(field, "empty address")
	}
	if a[0] == '+' && !isE164(string(a)) {
		return invalid(field, "phone number must be E.164, such as +46701234567")
	}
	for i := 0; i < len(a); i++ {
		if c := a[i]; c < 0x20 || c == 0x7f {
			return invalid(field, "contains a control character")
		}
	}
	return nil
}

func (c Contact) validate(field string) error {
	if c.ID == "" && c.Email == "" && c.Phone == "" && c.Slack == "" &&
		c.Telegram == "" && c.Discord == "" && len(c.PushTokens) == 0 {
		return invalid(field, "contact has no identifier (ID, Email, Phone, Slack, Telegram, Discord or PushTokens)")
	}
	if c.Phone != "" && !isE164(c.Phone) {
		return invalid(field+".phone", "phone number must be E.164, such as +46701234567")
	}
	for i, t := range c.PushTokens {
		if t == "" {
			return invalid(field+".push_tokens["+strconv.Itoa(i)+"]", "empty push token")
		}
	}
	return nil
}

// isE164 checks "+" then 2 to 15 digits, the first not 0.
func isE164(s string) bool {
	if len(s) < 3 || len(s) > 16 || s[0] != '+' || s[1] < '1' || s[1] > '9' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// LogValue masks the address in structured logs.
func (a Address) LogValue() slog.Value { return slog.StringValue(redact.Recipient(string(a))) }

func (a Address) logValue() slog.Value { return a.LogValue() }

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
