package redact

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEmail(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"alice@example.com":       "a***@example.com",
		"bo@example.com":          "b***@example.com",
		"a@example.com":           "***@example.com",
		"@example.com":            "***@example.com",
		"very.long.name@corp.com": "v***@corp.com",
		"a@b@example.com":         "a***@example.com",
		"noatsign":                "n*******",
		"":                        "***",
	}
	for in, want := range tests {
		assert.Equal(t, want, Email(in), in)
	}
}

func TestPhone(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"+46701234567": "+46*******67",
		"+1234567":     "+12***67",
		"+12345":       "******",
		"+12":          "***",
		"":             "",
	}
	for in, want := range tests {
		assert.Equal(t, want, Phone(in), in)
	}
}

func TestRecipient(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"alice@example.com": "a***@example.com",
		"+46701234567":      "+46*******67",
		"U123ABC":           "U1*****",
		"#general":          "#g******",
		"ab":                "***",
		"":                  "***",
	}
	for in, want := range tests {
		got := Recipient(in)
		assert.Equal(t, want, got, in)
		if len(in) > 3 {
			assert.NotEqual(t, in, got)
		}
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"live_abcdef123":  "live_****",
		"test_abcdef123":  "test_****",
		"sk_abc":          "sk_****",
		"nounderscore":    "****",
		"_leading":        "****",
		"verylongprefix_": "****",
		"":                "****",
	}
	for in, want := range tests {
		assert.Equal(t, want, Key(in), in)
	}
}
