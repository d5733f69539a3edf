package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"
)

// Hostile input to the flags that read JSON, contacts or files: what comes
// back is a usage error (or the command's end) that quotes nothing of the
// input, in bounded time and memory.

const hostileSecret = "tok_Zx81kQ0pLm55qq"

func TestHostileInputQuotesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	binary := write("binary.bin", []byte("\x00\x01\xfe\xff"+hostileSecret+"\x00\x1b[2J"))
	secretFile := write("secret.json", []byte(`{"a": "`+hostileSecret+`" "b"}`))
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(secretFile, link); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, flag, arg string
		want            string // in the error
	}{
		{"binary file", "--payload-json", "@" + binary, "--payload-json @" + binary + ": line 1, column 1: not valid JSON: unexpected character looking for beginning of value"},
		{"symlink to a bad file", "--payload-json", "@" + link, "@" + link + ": line 1, column 28: not valid JSON: unexpected character after object key:value pair"},
		{"escape sequence in a string", "--payload-json", `{"a":"` + hostileSecret + "\x1b[2J\"}", "line 1, column 25: not valid JSON: unexpected character in string"}, // "string literal" before Go 1.27
		{"invalid UTF-8 key", "--contact", "{\"\xff" + hostileSecret + "\":1}", "unknown field (it takes"},
		{"NUL after the value", "--payload-json", "{}\x00" + hostileSecret, "line 1, column 3: more after the JSON value ends"},
		{"deep nesting", "--payload-json", strings.Repeat("[", 100_000) + hostileSecret, "line 1, column 10001: not valid JSON: nested too deeply"},
		{"deep object", "--payload-json", `{"a":` + strings.Repeat(`{"`+hostileSecret+`":`, 20_000), "not valid JSON: nested too deeply"},
		{"huge inline value", "--payload-json", `{"a":"` + strings.Repeat(hostileSecret, 1<<20) + `"`, "it ends too soon"},
		{"number too large for its field", "--contact", `{"push_tokens":[1e999]}`, "field push_tokens wants a string, got a number"},
		{"quote character", "--payload-json", `{"a"'` + hostileSecret + `}`, "unexpected character after object key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var err error
			if tt.flag == "--contact" {
				f := &contactFlags{contact: tt.arg}
				_, err = f.build(context.Background(), nil)
			} else {
				_, err = parseObjectArg(context.Background(), tt.flag, tt.arg, nil)
			}
			checkUsageErr(t, err, tt.want)
			if p := secretPiece(err.Error(), hostileSecret); p != "" {
				t.Errorf("the error quotes %q: %s", p, err)
			}
			if strings.ContainsAny(err.Error(), "\x00\x1b") || !utf8.ValidString(err.Error()) {
				t.Errorf("the error holds control bytes or invalid UTF-8: %q", err)
			}
		})
	}
}

// An "@-" stdin that never ends is cut at the cap; one that never sends
// anything, and a FIFO that no one writes to, end with the command's
// context (--timeout, a signal) instead of blocking for ever.
func TestReadArgEndsWithoutEndOfInput(t *testing.T) {
	t.Parallel()
	t.Run("endless stdin", func(t *testing.T) {
		t.Parallel()
		_, err := readArg(context.Background(), "--payload-json", "@-", &stdinReader{r: endless{}})
		checkUsageErr(t, err, "--payload-json @-: larger than 1048576 bytes")
	})
	t.Run("silent stdin", func(t *testing.T) {
		t.Parallel()
		r, w := io.Pipe()
		defer w.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := readArg(ctx, "--contact", "@-", &stdinReader{r: r})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "--contact @-: still reading when the command ended") {
			t.Fatalf("err = %v", err)
		}
		if exitCode(markContextEnd(ctx, err)) != exitTimeout {
			t.Errorf("exit code %d, want %d", exitCode(markContextEnd(ctx, err)), exitTimeout)
		}
	})
	t.Run("fifo without a writer", func(t *testing.T) {
		t.Parallel()
		if runtime.GOOS == "windows" {
			t.Skip("no FIFOs")
		}
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("mkfifo: ", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := readArg(ctx, "--payload-json", "@"+fifo, nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want the context's end", err)
		}
		// Let the blocked open return, so that the goroutine ends.
		if f, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
	})
}

// endless reads as an infinite stream of spaces.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}
