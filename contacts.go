package sendivent

import (
	"log/slog"
	"strconv"

	"github.com/sendivent/sendivent-go/internal/redact"
)

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

func (c Contact) validate(field string) error {
	if c.ID == "" && c.Email == "" && c.Phone == "" && c.Slack == "" &&
		c.Telegram == "" && c.Discord == "" && len(c.PushTokens) == 0 {
		return invalid(field, "contact has no identifier (ID, Email, Phone, Slack, Telegram, Discord or PushTokens)")
	}
	if c.Email != "" {
		if err := checkEmail(c.Email); err != "" {
			return invalid(field+".email", err)
		}
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
