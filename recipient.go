package sendivent

import (
	"log/slog"
	"strconv"
	"strings"

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

func (a Address) validate(field string) error {
	s := string(a)
	switch {
	case strings.TrimSpace(s) == "":
		return invalid(field, "empty address")
	case strings.TrimSpace(s) != s:
		return invalid(field, "address "+strconv.Quote(s)+" has leading or trailing space")
	case s[0] == '+' && !isE164(s):
		return invalid(field, "phone number must be E.164, such as +46701234567")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return invalid(field, "contains a control character")
		}
	}
	if strings.IndexByte(s, '@') > 0 { // "@handle" is a handle, not an email
		if err := checkEmail(s); err != "" {
			return invalid(field, err)
		}
	}
	return nil
}

// checkEmail checks an email address's basic shape, local@domain with no
// space, and says what is wrong, or "". The service checks the rest.
func checkEmail(s string) string {
	at := strings.LastIndexByte(s, '@')
	switch {
	case at <= 0 || at == len(s)-1:
		return "email address must look like name@example.com"
	case strings.ContainsAny(s, " \t\r\n<>,;"):
		return "email address contains a space or a character that separates addresses"
	case strings.HasPrefix(s[at+1:], ".") || strings.HasSuffix(s, "."):
		return "email address has an empty part in its domain"
	}
	return ""
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

// checkRecipient validates r, whatever its type, nil included.
func checkRecipient(r Recipient, field string) error {
	switch v := r.(type) {
	case nil:
		return invalid(field, "nil recipient")
	case *Contact:
		if v == nil {
			return invalid(field, "nil contact")
		}
	case *Address:
		if v == nil {
			return invalid(field, "nil address")
		}
	}
	return r.validate(field)
}

// recipientsLog masks recipients for a log line.
type recipientsLog []Recipient

func (rs recipientsLog) LogValue() slog.Value {
	if len(rs) == 1 && rs[0] != nil {
		return rs[0].logValue()
	}
	attrs := make([]slog.Attr, 0, len(rs))
	for i, r := range rs {
		if r != nil {
			attrs = append(attrs, slog.Attr{Key: strconv.Itoa(i), Value: r.logValue()})
		}
	}
	return slog.GroupValue(attrs...)
}
