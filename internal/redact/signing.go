package redact

import "strings"

// SigningPrefix starts every webhook signing secret, as the service
// documents them ("whsec_…").
const SigningPrefix = "whsec_"

// MaskedSigning is what a signing secret becomes once masked.
const MaskedSigning = SigningPrefix + "****"

// SigningSecrets masks every webhook signing secret in s: each
// SigningPrefix and what follows it up to a delimiter (a quote, white
// space, a control character or one of ,;:)]}<>&) becomes MaskedSigning.
// A JSON escape inside the token (\/, \u0061) is part of it, and an escaped
// quote ends it, so that JSON stays JSON. s comes back as it is, without a
// copy, when it holds no prefix.
func SigningSecrets(s string) string {
	i := strings.Index(s, SigningPrefix)
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		b.WriteString(MaskedSigning)
		s = s[i+len(SigningPrefix):]
		s = s[tokenEnd(s):]
		i = strings.Index(s, SigningPrefix)
	}
	b.WriteString(s)
	return b.String()
}

// tokenEnd is the length of the secret's token at the start of s.
func tokenEnd(s string) int {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && s[i+1] != '"':
			i++ // an escape: both bytes belong to the token
		case c <= ' ' || c == 0x7f || strings.IndexByte(`"'\,;:)]}<>&`, c) >= 0:
			return i
		}
	}
	return len(s)
}
