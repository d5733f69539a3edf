package main

import (
	"strings"
	"testing"
)

// TestWebhookSecretScrubbedInArgv: a signing secret given on the command
// line is scrubbed as the API key is, from every message about a
// misplaced or misspelt flag or a stray argument: "sendivent --json
// --webhook-secret whsec_… fake" printed it as an unknown command, and a
// secret given without its flag's name was quoted as an argument. The
// fake still prints the secret it signs with, on purpose.
func TestWebhookSecretScrubbedInArgv(t *testing.T) {
	t.Parallel()
	const secret = "whsec_S1GNsecret0a1b2c3d4e5f"
	tests := [][]string{
		{"--json", "--webhook-secret", secret, "fake"},
		{"--debug", "--webhook-secret", secret, "fake", "--webhook", "http://127.0.0.1:1/h"},
		{"--webhook-secret=" + secret, "fake"},
		{"--webhook_secret", secret, "fake"},
		{"fake", "--webhook-secre", secret},
		{"fake", "--Webhook-Secret", secret},
		{"fake", "--webhook", "http://127.0.0.1:1/h", secret},
		{"send", "welcome", "--to", "a@example.com", secret},
		{secret},
		{"--json", secret, "status", "x"},
	}
	for _, args := range tests {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runEnv(t, "http://127.0.0.1:1", hostileKey, args...)
			if code != exitUsage {
				t.Errorf("exit %d, want %d: %s", code, exitUsage, stderr)
			}
			noKeyIn(t, stdout, stderr, secret)
		})
	}
}
