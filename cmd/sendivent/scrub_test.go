package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/url"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// nosecret SECRET... checks that the last command's stdout and stderr hold
// no piece of any SECRET: no run of 8 of its characters, and not its hex,
// base64 or percent-encoded forms.
func cmdNoSecret(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: nosecret SECRET...")
	}
	for _, stream := range []string{"stdout", "stderr"} {
		out := ts.ReadFile(stream)
		for _, secret := range args {
			if piece := secretPiece(out, secret); piece != "" {
				ts.Fatalf("%s holds %q, a piece of the secret:\n%s", stream, piece, out)
			}
		}
	}
}

// secretPiece returns a piece of secret that s holds, or "".
func secretPiece(s, secret string) string {
	n := min(8, len(secret))
	var forms []string
	for i := 0; i+n <= len(secret); i++ {
		run := secret[i : i+n]
		forms = append(forms, run, hex.EncodeToString([]byte(run)), strings.ToUpper(hex.EncodeToString([]byte(run))))
	}
	for i := range min(3, len(secret)) {
		// Each alignment of the secret in a base64 stream, less the last
		// characters, which depend on what follows.
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			e := enc.EncodeToString([]byte(secret[i:]))
			if len(e) > 12 {
				forms = append(forms, e[:len(e)-2])
			}
		}
	}
	forms = append(forms, url.QueryEscape(secret), url.PathEscape(secret))
	for _, f := range forms {
		if f != "" && strings.Contains(s, f) {
			return f
		}
	}
	return ""
}

func TestArgvKeys(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"send", "x", "--api-key", "K1"}, []string{"K1"}},
		{[]string{"--api-key", "K1", "send"}, []string{"K1"}},
		{[]string{"--api-key=K1=x", "send"}, []string{"K1=x"}},
		{[]string{"-api-key", "K1", "---api-key=K2", "--API-KEY=K3", "--api_key", "K4", "--apikey=K5"}, []string{"K1", "K2", "K3", "K4", "K5"}},
		{[]string{"send", "--", "--api-key", "K1"}, []string{"K1"}},
		{[]string{"send", "--api-key"}, nil},
		{[]string{"send", "api-key", "K1", "--api-keys", "K2", "--payload", "api-key=K3"}, nil},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			if got := argvKeys(tt.args); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("argvKeys(%q) = %q, want %q", tt.args, got, tt.want)
			}
		})
	}
}

// The writer scrubs a key however the output is cut into writes: split
// across two writes, one byte a write, in a line longer than what it holds
// back; and what does not end a line comes out at Flush.
func TestScrubWriterSplitWrites(t *testing.T) {
	t.Parallel()
	const key = "live_0123456789abcdefSECRET"
	line := "error: Bearer " + key + " refused\n"
	long := strings.Repeat("word ", maxPending/5+100) + key + " end\n"
	tests := []struct {
		name   string
		writes []string
	}{
		{"one write", []string{line}},
		{"split in the key", []string{line[:20], line[20:]}},
		{"a byte a write", strings.Split(line, "")},
		{"no line end", []string{"x " + key}},
		{"carriage returns", []string{"\r" + key[:10], key[10:] + "\r"}},
		{"a line over the cap", []string{long[:maxPending+10], long[maxPending+10:]}},
		{"long line in small writes", chunks(long, 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			w := newScrubber(key).writer(&out)
			for _, s := range tt.writes {
				n, err := w.Write([]byte(s))
				if err != nil || n != len(s) {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if p := secretPiece(out.String(), key); p != "" {
				t.Errorf("output holds %q", p)
			}
			want := strings.ReplaceAll(strings.Join(tt.writes, ""), key, "[redacted]")
			if out.String() != want {
				t.Errorf("output changed beyond the key:\n got %.200q\nwant %.200q", out.String(), want)
			}
		})
	}
}

func chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// The fake's own default key is public (its help prints it): scrubbing it
// would cut "sendiven" out of every message. Another key the fake is given
// is let through by allow, and only that one.
func TestScrubberPublicAndAllowedKeys(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	s := newScrubber(defaultFakeKey, "test_mine12345678", "test_other9876543")
	s.allow("test_mine12345678")
	w := s.writer(&out)
	fmt.Fprintf(w, "sendivent: %s test_mine12345678 test_other9876543\n", defaultFakeKey)
	if got, want := out.String(), "sendivent: test_sendivent_fake test_mine12345678 [redacted]\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A key shorter than 8 characters is removed where it stands as a word of
// its own, not inside others: a key "ab" would otherwise garble "about".
func TestScrubberShortKey(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	w := newScrubber("ab").writer(&out)
	fmt.Fprintf(w, "ab about tab ab,ab \"ab\" key=ab ab\n")
	w.Flush()
	if got, want := out.String(), "[redacted] about tab [redacted],[redacted] \"[redacted]\" key=[redacted] [redacted]\n"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// What libraries log (net/http's server in "fake") goes to the scrubbing
// stderr: run hands it to logTo, which realMain sets to log.SetOutput.
func TestLibraryLogsAreScrubbed(t *testing.T) {
	t.Parallel()
	var stderr bytes.Buffer
	var logOut io.Writer
	a := &app{stdout: io.Discard, stderr: &stderr, getenv: env{"SENDIVENT_API_KEY": "test_LOGKEY0a1b2c3d"}.get,
		logTo: func(w io.Writer) { logOut = w }}
	run(context.Background(), a, []string{"--version"})
	if logOut == nil {
		t.Fatal("run did not set the log's output")
	}
	log.New(logOut, "", 0).Print("http: panic serving 1.2.3.4: Bearer test_LOGKEY0a1b2c3d")
	logOut.(*scrubWriter).Flush()
	if p := secretPiece(stderr.String(), "test_LOGKEY0a1b2c3d"); p != "" || !strings.Contains(stderr.String(), "panic serving") {
		t.Errorf("stderr %q", stderr.String())
	}
}
