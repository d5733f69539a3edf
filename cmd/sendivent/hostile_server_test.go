package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// The command against a hostile SENDIVENT_API_URL: a server that echoes
// the key (whole, cut, encoded; in bodies, headers and fields the command
// prints), answers 1xx, never answers, drips, or sends a huge body or
// escape sequences. The command never prints a piece of the key, says what
// happened on one clean line, and exits with the documented code.

const hostileKey = "test_HOSTILEkey0a1b2c3d4e5f"

// echoes is text a hostile server hides the key in: whole, cut, hex,
// base64 and percent-encoded.
func echoes(key string) string {
	return fmt.Sprintf("k=%s cut=%s hex=%s b64=%s url=%s", key, key[3:17], hex.EncodeToString([]byte(key)),
		base64.StdEncoding.EncodeToString([]byte(key)), url.QueryEscape("/"+key))
}

// keyOf is the key a request carried.
func keyOf(r *http.Request) string {
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func TestHostileServerNeverGetsTheKeyPrinted(t *testing.T) {
	t.Parallel()
	notification := func(key string) string {
		e := echoes(key)
		return fmt.Sprintf(`{"id":%q,"event":%q,"contact":{"email":%q,"name":%q},"status":"failed","started_at":"2026-04-01T12:00:00.000Z",`+
			`"completed_at":"2026-04-01T12:00:01.000Z","messages":[{"id":%q,"channel":"email","status":"failed","sent_at":null,"delivered_at":null,"error":%q}]}`,
			key, e, key+"@example.com", e, key, e)
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		args    []string
		code    int
	}{
		{"error body and headers", func(w http.ResponseWriter, r *http.Request) {
			k := keyOf(r)
			w.Header().Set("X-Request-Id", k)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error":%q,"code":%q,"field":%q}`, echoes(k), k, k)
		}, []string{"status", "x"}, exitAPI},
		{"error body, --json --debug", func(w http.ResponseWriter, r *http.Request) {
			k := keyOf(r)
			w.Header().Set("X-Request-Id", k)
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, k, echoes(k))
		}, []string{"status", "x", "--json", "--debug", "--retries", "1"}, exitAPI},
		{"HTML 502", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprintf(w, "<html><title>%s</title><body>%s</body></html>", keyOf(r), echoes(keyOf(r)))
		}, []string{"status", "x", "--retries", "0"}, exitAPI},
		{"a notification made of the key", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, notification(keyOf(r)))
		}, []string{"status", "x"}, exitOK},
		{"the same, --json", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, notification(keyOf(r)))
		}, []string{"status", "x", "--json"}, exitOK},
		{"wait ends failed with the key as the reason", func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, notification(keyOf(r)))
		}, []string{"wait", "x"}, exitNotComplete},
		{"a send answered with the key", func(w http.ResponseWriter, r *http.Request) {
			k := keyOf(r)
			fmt.Fprintf(w, `[{"id":%q,"event":%q,"status":"accepted"},{"id":%q,"status":"accepted"}]`, k, echoes(k), k)
		}, []string{"send", "welcome", "--to", "a@example.com", "--to", "b@example.com"}, exitOK},
		{"a contact made of the key", func(w http.ResponseWriter, r *http.Request) {
			k := keyOf(r)
			fmt.Fprintf(w, `{"success":true,"data":{"contacts":[{"uuid":%q,"external_id":%q,"email":%q,"name":%q,"meta":{"k":%q}}],"total":1,"limit":50,"offset":0}}`,
				k, k, k+"@example.com", echoes(k), k)
		}, []string{"contacts", "list"}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tt.handler)
			defer srv.Close()
			code, stdout, stderr := runEnv(t, srv.URL, hostileKey, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr)
			}
			noKeyIn(t, stdout, stderr)
		})
	}
}

// Servers that never answer well: the command ends by its --timeout (exit
// 5) or with a transport error (exit 4), on one clean line, promptly.
func TestHostileServerThatNeverAnswersWell(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		serve func(c net.Conn, key string)
		args  []string
		code  int
		want  string // in stderr
	}{
		{"never answers", func(c net.Conn, _ string) { hold(c) }, []string{"--timeout", "300ms"}, exitTimeout, "deadline exceeded"},
		{"endless 103s", func(c net.Conn, key string) {
			for {
				if _, err := fmt.Fprintf(c, "HTTP/1.1 103 Early Hints\r\nLink: </%s>\r\n\r\n", key); err != nil {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		}, []string{"--timeout", "300ms", "--retries", "0"}, exitTimeout, "deadline exceeded"},
		{"100 Continue then nothing", func(c net.Conn, _ string) {
			io.WriteString(c, "HTTP/1.1 100 Continue\r\n\r\n")
			hold(c)
		}, []string{"--timeout", "300ms"}, exitTimeout, "deadline exceeded"},
		{"101 Switching Protocols", func(c net.Conn, key string) {
			fmt.Fprintf(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: %s\r\nConnection: Upgrade\r\n\r\n%s", key, key)
			hold(c)
		}, []string{"--timeout", "2s", "--retries", "0"}, exitTransport, ""},
		{"drips its body", func(c net.Conn, key string) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"id\":\"")
			for {
				if _, err := io.WriteString(c, key[:1]); err != nil {
					return
				}
				time.Sleep(20 * time.Millisecond)
			}
		}, []string{"--timeout", "500ms"}, exitTimeout, "deadline exceeded"},
		{"a huge body", func(c net.Conn, key string) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"id\":\"")
			chunk := []byte(strings.Repeat(key, 1000))
			for {
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}, []string{"--timeout", "20s", "--retries", "0"}, exitTransport, "larger than the limit"},
		{"a 200 with the status the key", func(c net.Conn, key string) {
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(key)+2, fmt.Sprintf("%q", key))
		}, []string{"--retries", "0"}, exitTransport, ""},
		{"a status line with the key", func(c net.Conn, key string) {
			fmt.Fprintf(c, "HTTP/1.1 418 %s %s\r\nContent-Length: 0\r\n\r\n", key, echoes(key))
		}, []string{"--retries", "0"}, exitAPI, "418"},
		{"not HTTP", func(c net.Conn, key string) { fmt.Fprintf(c, "SSH-2.0-%s\r\n", key) }, []string{"--retries", "0"}, exitTransport, "malformed HTTP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			url := rawServer(t, tt.serve)
			start := time.Now()
			code, stdout, stderr := runEnv(t, url, hostileKey, append([]string{"status", "x"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q: want one line with %q", stderr, tt.want)
			}
			if d := time.Since(start); d > bound {
				t.Errorf("the command took %v", d)
			}
			noKeyIn(t, stdout, stderr)
		})
	}
}

// Escape sequences and other control characters in what the server says
// do not reach a terminal from the text output; --json escapes them.
func TestHostileServerControlCharacters(t *testing.T) {
	t.Parallel()
	const evil = "\x1b]0;owned\x07\x1b[2J\r\nFAKE LINE\x00\xff"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/send/") {
			fmt.Fprintf(w, `{"id":%q,"event":%q,"status":%q}`, "n1"+evil, evil, "accepted"+evil)
			return
		}
		fmt.Fprintf(w, `{"id":"n1","event":%q,"contact":{"name":%q},"status":"failed","started_at":"2026-04-01T12:00:00.000Z","completed_at":null,`+
			`"messages":[{"id":"m1","channel":%q,"status":%q,"error":%q}]}`, evil, evil, "email"+evil, "failed"+evil, evil)
	}))
	defer srv.Close()
	for _, args := range [][]string{
		{"status", "n1"}, {"wait", "n1"}, {"send", "welcome", "--to", "a@example.com"},
		{"status", "n1", "--json"}, {"wait", "n1", "--json"},
	} {
		_, stdout, stderr := runEnv(t, srv.URL, hostileKey, args...)
		for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
			if strings.ContainsAny(out, "\x1b\x07\x00\r") || strings.Contains(out, "\nFAKE LINE") {
				t.Errorf("%v: %s holds control characters: %q", args, name, out)
			}
		}
	}
}

// Odd keys from the environment: refused with a clear message and exit 2,
// or used; never printed; a short one does not garble the output.
func TestOddKeysFromTheEnvironment(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"Invalid API key %s"}`, keyOf(r))
	}))
	defer srv.Close()
	tests := []struct {
		key  string
		code int
		want string
	}{
		{"", exitUsage, "no API key"},
		{"test_ with space", exitUsage, "white space"},
		{"test_tab\tkey0000", exitUsage, "white space"},
		{"test_ctrl\x1bkey000", exitUsage, "control character"},
		{"test_\xff\xfeutf8key", exitUsage, "non-ASCII"},
		{"test_" + strings.Repeat("k", 5000), exitUsage, "longer than 1024 bytes"},
		{"ab", exitAPI, "401 Unauthorized: Invalid API key [redacted]"},
		{"test_ok00000000", exitAPI, "401 Unauthorized"},
	}
	for _, tt := range tests {
		code, stdout, stderr := runEnv(t, srv.URL, tt.key, "status", "x", "--retries", "0")
		if code != tt.code || !strings.Contains(stderr, tt.want) {
			t.Errorf("key %.20q: exit %d, stderr %q; want %d and %q", tt.key, code, stderr, tt.code, tt.want)
		}
		if len(tt.key) >= 8 {
			noKeyIn(t, stdout, stderr, tt.key)
		}
		if strings.Contains(stderr, "\x1b") {
			t.Errorf("key %.20q: stderr holds an escape: %q", tt.key, stderr)
		}
	}
}

// runEnv runs the command with SENDIVENT_API_URL and SENDIVENT_API_KEY.
func runEnv(t *testing.T, apiURL, key string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, getenv: env{"SENDIVENT_API_KEY": key, "SENDIVENT_API_URL": apiURL}.get}
	code := run(context.Background(), a, args)
	return code, stdout.String(), stderr.String()
}

func noKeyIn(t *testing.T, stdout, stderr string, keys ...string) {
	t.Helper()
	if len(keys) == 0 {
		keys = []string{hostileKey}
	}
	for _, k := range keys {
		for name, out := range map[string]string{"stdout": stdout, "stderr": stderr} {
			if p := secretPiece(out, k); p != "" {
				t.Errorf("%s holds %q of the key:\n%s", name, p, out)
			}
		}
	}
}

// rawServer serves each connection with serve, after reading the request's
// header, and returns its URL; it stops at the end of the test.
func rawServer(t *testing.T, serve func(c net.Conn, key string)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				serve(c, keyOf(req))
			}()
		}
	}()
	return "http://" + l.Addr().String()
}

// hold keeps c open, silent, until it closes.
func hold(c net.Conn) { _, _ = io.Copy(io.Discard, c) }
