// Package redact masks personal data and secrets before they reach a log.
package redact

import "strings"

// Recipient masks an address whatever its kind: an email keeps its first
// character and its domain, a phone its country code and last two digits,
// anything else its first two characters.
func Recipient(s string) string {
	switch {
	case strings.Contains(s, "@"):
		return Email(s)
	case strings.HasPrefix(s, "+"):
		return Phone(s)
	default:
		return keep(s, 2, 0)
	}
}

// Email masks the local part: "alice@example.com" → "a***@example.com".
// Something that is not local@domain ("@handle") keeps only two characters.
func Email(s string) string {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return keep(s, 2, 0)
	}
	local := s[:at]
	if len(local) == 1 {
		return "***" + s[at:]
	}
	// A fixed mask: the number of stars does not tell the local part's length.
	return local[:1] + "***" + s[at:]
}

// Phone keeps the leading "+", the first two digits and the last two:
// "+46701234567" → "+46*******67".
func Phone(s string) string {
	if len(s) <= 6 {
		return strings.Repeat("*", len(s))
	}
	return keep(s, 3, 2)
}

// Key shows only a key's environment prefix, when it is one of the
// service's: "live_****", "test_****"; anything else is "****".
func Key(k string) string {
	for _, p := range []string{"live_", "test_"} {
		if strings.HasPrefix(k, p) {
			return p + "****"
		}
	}
	return "****"
}

func keep(s string, head, tail int) string {
	if len(s) <= head+tail {
		return strings.Repeat("*", max(len(s), 3))
	}
	return s[:head] + strings.Repeat("*", max(len(s)-head-tail, 3)) + s[len(s)-tail:]
}

// MinRun is the shortest run of a secret's characters that Secret removes.
const MinRun = 8

// Secret replaces in s every run of MinRun or more characters that also
// appears in secret (the whole secret, or any piece of it, such as what is
// left where a message was cut) with "[redacted]". It is for error paths: it
// takes time in proportion to len(s)·len(secret).
func Secret(s, secret string) string {
	if secret == "" || s == "" {
		return s
	}
	n := min(MinRun, len(secret))
	var hit []bool // hit[i]: s[i] belongs to a run of the secret
	for i := 0; i+n <= len(s); i++ {
		if strings.Contains(secret, s[i:i+n]) {
			if hit == nil {
				hit = make([]bool, len(s))
			}
			for j := i; j < i+n; j++ {
				hit[j] = true
			}
		}
	}
	if hit == nil {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !hit[i] {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString("[redacted]")
		for i < len(s) && hit[i] {
			i++
		}
	}
	return b.String()
}
