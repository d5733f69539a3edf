package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/sendivent/sendivent-go"
)

func TestParseRecipient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    sendivent.Recipient
		wantErr string
	}{
		{in: "alice@example.com", want: sendivent.Address("alice@example.com")},
		{in: "  +46701234567 ", want: sendivent.Address("+46701234567")},
		{in: "U123ABC", want: sendivent.Address("U123ABC")},
		{in: "550e8400-e29b-41d4-a716-446655440000", want: sendivent.Address("550e8400-e29b-41d4-a716-446655440000")},
		{in: "#general", want: sendivent.Address("#general")},
		// An "=" in an email's local part does not make a contact.
		{in: "a=b@example.com", want: sendivent.Address("a=b@example.com")},
		{in: "email=a@example.com", want: sendivent.Contact{Email: "a@example.com"}},
		{in: "id=user-42, name=Ann Lee ,language=sv", want: sendivent.Contact{ID: "user-42", Name: "Ann Lee", Language: "sv"}},
		{in: "phone=+46701234567,slack=U1,telegram=7,discord=9", want: sendivent.Contact{Phone: "+46701234567", Slack: "U1", Telegram: "7", Discord: "9"}},
		{in: "push=t1,push=t2", want: sendivent.Contact{PushTokens: []string{"t1", "t2"}}},
		{in: `{"email":"a@example.com","slack_id":"U1","meta":{"n":1}}`, want: sendivent.Contact{Email: "a@example.com", Slack: "U1", Meta: map[string]any{"n": json.Number("1")}}},
		{in: "", wantErr: "--to is empty"},
		{in: "   ", wantErr: "--to is empty"},
		{in: `{"emial":"a@example.com"}`, wantErr: `--to: line 1, column 2: unknown field (it takes id, email, phone, name, avatar, username, slack_id, telegram, discord, push_tokens, language, meta)`},
		{in: `{"email":"a@example.com"`, wantErr: "--to: line 1, column 25: not valid JSON: it ends too soon"},
		{in: `{"email":"a@example.com"} x`, wantErr: "--to: line 1, column 27: more after the JSON value ends"},
		{in: `{"email" "a@example.com"}`, wantErr: "--to: line 1, column 10: not valid JSON: unexpected character after object key"},
		{in: "email=a@example.com,nmae=A", wantErr: `--to: pair 2: unknown contact key (contact keys: id, email,`},
		{in: "email=a@example.com,nokey", wantErr: `--to: pair 2 is not key=value`},
		{in: "email=", wantErr: "--to: email has no value"},
		{in: "email=a@example.com,email=b@example.com", wantErr: "--to: email given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := parseRecipient(tt.in)
			checkUsageErr(t, err, tt.wantErr)
			if tt.wantErr == "" && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseRecipient(%q) = %#v, want %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParsePairs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []string
		want    map[string]any
		wantErr string
	}{
		{name: "none", in: nil, want: map[string]any{}},
		// Values stay strings, whatever they look like; keys stay flat.
		{name: "strings", in: []string{"n=42", "ok=true", "user.name=Ann"}, want: map[string]any{"n": "42", "ok": "true", "user.name": "Ann"}},
		{name: "first = splits", in: []string{"q=a=b,c"}, want: map[string]any{"q": "a=b,c"}},
		{name: "empty value", in: []string{"note="}, want: map[string]any{"note": ""}},
		{name: "no =", in: []string{"a=1", "flag"}, wantErr: `--payload value 2: want key=value`},
		{name: "empty key", in: []string{"=v"}, wantErr: "--payload value 1: empty key"},
		{name: "duplicate", in: []string{"a=1", "b=1", "a=2"}, wantErr: `--payload: values 1 and 3 set the same key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parsePairs("--payload", tt.in)
			checkUsageErr(t, err, tt.wantErr)
			if tt.wantErr == "" && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestParseObjectArg(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "p.json")
	if err := os.WriteFile(file, []byte(`{"order":{"id":42}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"a":"`+strings.Repeat("x", maxJSONInput)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, arg, stdin string
		want             map[string]any
		wantErr          string
	}{
		{name: "inline", arg: `{"n":12345678901234567890,"l":[1,"a"],"b":true}`,
			want: map[string]any{"n": json.Number("12345678901234567890"), "l": []any{json.Number("1"), "a"}, "b": true}},
		{name: "empty object", arg: `{}`, want: map[string]any{}},
		{name: "file", arg: "@" + file, want: map[string]any{"order": map[string]any{"id": json.Number("42")}}},
		{name: "stdin", arg: "@-", stdin: `{"a":"b"}`, want: map[string]any{"a": "b"}},
		{name: "null", arg: `null`, wantErr: "--payload-json: want a JSON object, got null"},
		{name: "array", arg: `[1]`, wantErr: "--payload-json: line 1, column 1: want a JSON object, got an array"},
		{name: "string", arg: `"s"`, wantErr: "--payload-json: line 1, column 3: want a JSON object, got a string"},
		{name: "broken", arg: `{"a":`, wantErr: "--payload-json: line 1, column 6: not valid JSON: it ends too soon"},
		{name: "two values", arg: `{}{}`, wantErr: "--payload-json: line 1, column 3: more after the JSON value ends"},
		{name: "empty", arg: ``, wantErr: "--payload-json: empty, where a JSON value belongs"},
		{name: "empty stdin", arg: "@-", wantErr: "--payload-json @-: empty, where a JSON value belongs"},
		{name: "bare @", arg: "@", wantErr: "--payload-json @: want @FILE, or @- for stdin"},
		{name: "missing file", arg: "@" + filepath.Join(dir, "nope.json"), wantErr: "nope.json: no such file or directory"},
		{name: "directory", arg: "@" + dir, wantErr: "is a directory, not a file"},
		{name: "too big", arg: "@" + big, wantErr: "big.json: larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseObjectArg(context.Background(), "--payload-json", tt.arg, &stdinReader{r: strings.NewReader(tt.stdin)})
			checkUsageErr(t, err, tt.wantErr)
			if tt.wantErr == "" && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// checkUsageErr checks that err is nil when want is "", and otherwise a
// *usageError (exit code 2) whose message contains want.
func checkUsageErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var ue *usageError
	if !errors.As(err, &ue) {
		t.Fatalf("error %v (%T), want a usage error containing %q", err, err, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	if exitCode(err) != exitUsage {
		t.Fatalf("exit code %d, want %d", exitCode(err), exitUsage)
	}
}
