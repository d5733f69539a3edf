package sendivent

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsE164(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want bool
	}{
		{"+46701234567", true},
		{"+12", true},
		{"+123456789012345", true},
		{"+1234567890123456", false}, // 16 digits
		{"+1", false},
		{"+", false},
		{"", false},
		{"46701234567", false},
		{"0701234567", false},
		{"+0701234567", false},
		{"+12ab", false},
		{"+46 70 123", false},
		{"+46-701234567", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, isE164(tt.in), tt.in)
	}
}

func TestAddressValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    Address
		field string // "" means valid
	}{
		{"alice@example.com", ""},
		{"+46701234567", ""},
		{"0701234567", ""}, // not a phone by its look: an id the service resolves
		{"U123ABC", ""},
		{"#general", ""},
		{"", "to"},
		{"+12ab", "to"},
		{"+", "to"},
		{"a\tb", "to"},
		{"a\x7f", "to"},
	}
	for _, tt := range tests {
		err := tt.in.validate("to")
		if tt.field == "" {
			assert.NoError(t, err, tt.in)
			continue
		}
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, tt.in)
		assert.Equal(t, tt.field, ve.Field)
	}
}

func TestRecipientLogValues(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	log.Debug("x",
		"a", Address("alice@example.com"),
		"p", Address("+46701234567"),
		"u", Address("user-12345"),
		"c", Contact{ID: "user-12345", Email: "bob@example.org", Phone: "+46701234567", Name: "Bob Secret", Meta: map[string]any{"ssn": "19800101"}},
		"many", recipientsLog{Address("carol@example.net"), nil, Contact{Email: "dave@example.com"}},
		"one", recipientsLog{Address("erin@example.com")},
		"nil", recipientsLog{nil},
	)
	out := buf.String()
	for _, secret := range []string{"alice@", "bob@", "carol@", "dave@", "erin@", "+46701234567", "user-12345", "Bob Secret", "19800101", "ssn"} {
		assert.NotContains(t, out, secret)
	}
	for _, masked := range []string{"a=a***@example.com", "p=+46*******67", "u=us********", "c.email=b***@example.org",
		"c.phone=+46*******67", "c.id=us********", "many.0=c***@example.net", "many.2.email=d***@example.com", "one=e***@example.com"} {
		assert.Contains(t, out, masked)
	}
}
