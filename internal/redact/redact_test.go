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
		"@example.com":            "@e**********",
		"very.long.name@corp.com": "v***@corp.com",
		"a@b@example.com":         "a***@example.com",
		"noatsign":                "no******",
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
		"sk_abc":          "****",
		"abcdefg_secret":  "****",
		"nounderscore":    "****",
		"_leading":        "****",
		"verylongprefix_": "****",
		"":                "****",
	}
	for in, want := range tests {
		assert.Equal(t, want, Key(in), in)
	}
}

func TestSecret(t *testing.T) {
	t.Parallel()
	const key = "live_0123456789abcdefghijklmnopqrst"
	tests := []struct{ name, in, want string }{
		{"whole key", "Bearer " + key + " was refused", "Bearer [redacted] was refused"},
		{"cut at the end", "Authorization: Bearer " + key[:29], "Authorization: Bearer [redacted]"},
		{"cut at the start", key[6:] + " tail", "[redacted] tail"},
		{"eight characters", "x 456789ab y", "x [redacted] y"},
		{"seven characters stay", "x 456789a y", "x 456789a y"},
		{"two pieces", "a " + key[:10] + " b " + key[20:] + " c", "a [redacted] b [redacted] c"},
		{"in a URL", "https://evil.test/?k=" + key + "&x=1", "https://evil.test/?k=[redacted]&x=1"},
		{"nothing", "plain message", "plain message"},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Secret(tt.in, key)
			assert.Equal(t, tt.want, got)
			for i := 0; i+MinRun <= len(key); i++ {
				assert.NotContains(t, got, key[i:i+MinRun])
			}
		})
	}
	assert.Equal(t, "[redacted]", Secret("short", "short"), "a secret shorter than the run is removed whole")
	assert.Equal(t, "abc", Secret("abc", ""))
}

func TestEmailHandles(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"@handle":  "@h*****",
		"alice@":   "al****",
		"a@b.test": "***@b.test",
		"#general": "#g******",
		"@":        "***",
	} {
		assert.Equal(t, want, Recipient(in), in)
		assert.NotContains(t, Recipient(in), "handle")
	}
}

func TestSigningSecrets(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":                                     "",
		"nothing here":                         "nothing here",
		"whsec_abc123":                         "whsec_****",
		`{"signing_secret":"whsec_ab+/=_-.9"}`: `{"signing_secret":"whsec_****"}`,
		`{"s":"whsec_ab\/cd\u0065f","t":1}`:    `{"s":"whsec_****","t":1}`,
		`{"s":"whsec_ab\"x"}`:                  `{"s":"whsec_****\"x"}`,
		`{"s":"whsec_ab\\"}`:                   `{"s":"whsec_****"}`,
		"key whsec_a, and whsec_b; whsec_":     "key whsec_****, and whsec_****; whsec_****",
		"<p>whsec_x</p>":                       "<p>whsec_****</p>",
		"a=whsec_1&b=whsec_2":                  "a=whsec_****&b=whsec_****",
		"whsec_x\nwhsec_y":                     "whsec_****\nwhsec_****",
		"whsec_whsec_abc":                      "whsec_****",
	} {
		assert.Equal(t, want, SigningSecrets(in), "%q", in)
	}
}
