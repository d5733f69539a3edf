package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sendivent/sendivent-go/sendiventtest"
)

// Hostile argv: huge values, control characters and invalid UTF-8 where
// values go, repeated flags. The command exits with a documented code and
// says what is wrong on one line, which holds no control character and no
// piece of the key. (Flag order and the key: key_scrubbed_in_every_argv_form.txtar.)
func TestHostileArgv(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	t.Cleanup(srv.Close)
	const esc = "\x1b]0;x\x07\x1b[2J"
	huge := strings.Repeat("e", 200<<10)
	manyPayload := []string{"send", "welcome", "--to", "a@example.com"}
	for i := range 2000 {
		manyPayload = append(manyPayload, "--payload", fmt.Sprintf("k%d=%s", i, huge[:100]))
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr; "" for none
	}{
		{"escape in the event", []string{"send", "wel" + esc, "--to", "a@example.com"}, exitUsage, "control character"},
		{"NUL in the event", []string{"send", "wel\x00come", "--to", "a@example.com"}, exitUsage, "control character"},
		{"invalid UTF-8 event", []string{"send", "wel\xffcome", "--to", "a@example.com"}, exitUsage, "invalid UTF-8"},
		{"huge event", []string{"send", huge, "--to", "a@example.com"}, exitUsage, "longer than 255 bytes"},
		{"escape in --to", []string{"send", "welcome", "--to", "a" + esc + "@example.com"}, exitUsage, ""},
		{"escape in a contact", []string{"send", "welcome", "--to", "email=a@example.com,name=" + esc}, exitOK, ""},
		{"huge --to", []string{"send", "welcome", "--to", huge + "@example.com"}, exitOK, ""},
		{"escape in the key of --idempotency-key", []string{"send", "welcome", "--to", "a@example.com", "--idempotency-key", "k" + esc}, exitUsage, "idempotency"},
		{"huge idempotency key", []string{"send", "welcome", "--to", "a@example.com", "--idempotency-key", huge}, exitUsage, "idempotency"},
		{"escape in --channel", []string{"send", "welcome", "--to", "a@example.com", "--channel", "sms" + esc}, exitUsage, "channel"},
		{"2000 payload values", manyPayload, exitOK, ""},
		{"repeated --channel", []string{"send", "welcome", "--to", "+46701234567", "--channel", "email", "--channel", "sms"}, exitOK, ""},
		{"repeated --json", []string{"status", "x", "--json", "--json=false", "--json"}, exitAPI, `"kind":"api"`},
		{"escape in an id", []string{"status", "n" + esc}, exitUsage, "control character"},
		{"escape in a contact identifier", []string{"contacts", "get", "a" + esc}, exitUsage, "control character"},
		{"escape in an unknown command", []string{"frob" + esc}, exitUsage, "unknown command"},
		{"escape in an unknown flag", []string{"status", "x", "--fr" + esc}, exitUsage, "unknown flag"},
		{"escape in --timeout", []string{"status", "x", "--timeout", "1s" + esc}, exitUsage, "invalid argument"},
		{"escape in --api-url", []string{"status", "x", "--api-url", "http://x" + esc}, exitUsage, "base URL"},
		{"a URL with credentials", []string{"status", "x", "--api-url", "http://user:hunter2hunter2@127.0.0.1:1"}, exitUsage, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runIn(t, srv, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %.300q", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %.300q lacks %q", stderr, tt.want)
			}
			if code != exitOK && !strings.Contains(tt.want, `"kind"`) && strings.Count(stderr, "\n") > 2 {
				t.Errorf("stderr is not a message and a hint: %.300q", stderr)
			}
			for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
				if strings.ContainsAny(out, "\x1b\x07\x00\r") {
					t.Errorf("%s holds control characters: %.300q", name, out)
				}
			}
			noKeyIn(t, stdout, stderr, srv.APIKey(), "hunter2hunter2")
		})
	}
}
