package main

import (
	"bytes"
	"context"
	"errors"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go"
)

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startFake runs "sendivent fake ARGS" in this process on a free loopback
// port and returns its URL, its output, and a stop that cancels it (as
// SIGINT or SIGTERM do) and returns its exit code.
func startFake(t *testing.T, args ...string) (url string, out *syncBuffer, stop func() int) {
	t.Helper()
	out = &syncBuffer{}
	ctx, cancel := context.WithCancelCause(context.Background())
	a := &app{stdin: strings.NewReader(""), stdout: out, stderr: out, getenv: func(string) string { return "" }}
	done := make(chan int, 1)
	go func() { done <- run(ctx, a, append([]string{"fake", "--addr", "127.0.0.1:0"}, args...)) }()
	re := regexp.MustCompile(`listening on (http://\S+)`)
	deadline := time.Now().Add(bound)
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case code := <-done:
			t.Fatalf("fake exited with %d before listening: %s", code, out.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel(errSignal)
			t.Fatalf("fake not listening after %v: %s", bound, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	var once sync.Once
	code := -1
	stop = func() int {
		once.Do(func() {
			cancel(errSignal)
			select {
			case code = <-done:
			case <-time.After(bound):
				t.Fatalf("fake did not stop within %v", bound)
			}
		})
		return code
	}
	t.Cleanup(func() { stop() })
	return url, out, stop
}

// The fake serves the API on its port, then a cancelled context (what
// SIGINT and SIGTERM do) stops it cleanly, with exit code 0, even while a
// client keeps a connection open.
func TestFakeServesAndStops(t *testing.T) {
	t.Parallel()
	url, out, stop := startFake(t, "--event", "welcome")

	sendWelcome(t, url)
	resp, err := http.Get(url + "/_fake/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %d %s", resp.StatusCode, body)
	}

	if code := stop(); code != exitOK {
		t.Fatalf("exit code %d, want 0; output:\n%s", code, out.String())
	}
	if !regexp.MustCompile(`sendivent fake: stopped after \d+ requests\n$`).MatchString(out.String()) {
		t.Errorf("output does not end with the stop line:\n%s", out.String())
	}
	if _, err := http.Get(url + "/_fake/health"); err == nil {
		t.Errorf("still answering after stop")
	}
}

// sendWelcome sends event welcome to alice@example.com through the fake at
// url, as an application would, and waits until it has completed.
func sendWelcome(t *testing.T, url string) {
	t.Helper()
	c, err := sendivent.NewClient(defaultFakeKey, sendivent.WithBaseURL(url))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	res, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(ctx)
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	n, err := c.Wait(ctx, res.ID, sendivent.PollEvery(10*time.Millisecond, 10*time.Millisecond))
	if err != nil || n.Status != sendivent.StatusCompleted {
		t.Fatalf("wait: %v, %+v", err, n)
	}
}

func TestFakeBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
		code int
	}{
		{[]string{"fake", "--event", "=email"}, "no name before '='", exitUsage},
		{[]string{"fake", "--event", "drip=email,fax"}, `step "fax": unknown channel`, exitUsage},
		{[]string{"fake", "--event", "drip=wait:soon"}, `invalid duration "soon"`, exitUsage},
		{[]string{"fake", "--event", "drip=wait:-1h"}, "must be positive", exitUsage},
		{[]string{"fake", "--step-delay", "-1s"}, "--step-delay must be 0 or more", exitUsage},
		{[]string{"fake", "--time-scale", "0"}, "--time-scale more than 0", exitUsage},
		{[]string{"fake", "--config", "/nonexistent/fake.json"}, "/nonexistent/fake.json", exitUsage},
		{[]string{"fake", "--api-key", "has space"}, "without white space", exitUsage},
		{[]string{"fake", "extra"}, "too many arguments", exitUsage},
		{[]string{"fake", "--addr", "127.0.0.1:notaport"}, "--addr 127.0.0.1:notaport: listen tcp", exitOther},
		{[]string{"fake", "--webhook-secret", "whsec_x"}, "--webhook-secret needs --webhook URL", exitUsage},
		{[]string{"fake", "--webhook", "/hook"}, "--webhook: want an absolute http or https URL", exitUsage},
		{[]string{"fake", "--webhook", "ftp://127.0.0.1/hook"}, "want an absolute http or https URL", exitUsage},
		{[]string{"fake", "--retention", "-1"}, "--retention must be 0 (keep all) or more", exitUsage},
		{[]string{"fake", "--api-key", "live_0123456789abcdef"}, "--api-key: the fake prints and records its key", exitUsage},
		{[]string{"fake", "--config", "."}, "--config .: is a directory, not a file", exitUsage},
		{[]string{"fake", "--webhook", "http://"}, "want an absolute http or https URL", exitUsage},
		{[]string{"fake", "--webhook", "http://127.0.0.1:1/hook", "--webhook-secret", "whsec x"}, "--webhook-secret: want a secret without white space", exitUsage},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var stderr bytes.Buffer
			a := &app{stdout: io.Discard, stderr: &stderr, getenv: func(string) string { return "" }}
			code := run(context.Background(), a, tt.args)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.want)
			}
		})
	}
}

// fake --help lists every control endpoint the package doc of
// sendiventtest lists (its test checks that doc against the routes), the
// same errors, and the keys a program needs: "status":"suppressed" of a
// fail, "endpoint" of a fault.
func TestFakeHelpListsTheControls(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join("..", "..", "sendiventtest", "server.go"), nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	help := strings.Join(strings.Fields(fakeLong), " ")
	routes := regexp.MustCompile(`(?m)^\s*(GET|POST|PUT|PATCH|DELETE)\s+(/_fake/[^\s\[]*)`).FindAllStringSubmatch(doc, -1)
	if len(routes) == 0 {
		t.Fatal("no control endpoint in the package doc")
	}
	for _, m := range routes {
		if !regexp.MustCompile(m[1] + ` +` + regexp.QuoteMeta(m[2]) + `[\s\[]`).MatchString(help + " ") {
			t.Errorf("fake --help lacks %s %s", m[1], m[2])
		}
	}
	for _, key := range []string{`"status":"suppressed"`, `"endpoint":"send"`, `"retry_after"`} {
		if !strings.Contains(help, key) {
			t.Errorf("fake --help lacks %s", key)
		}
	}
	if got, want := errorCodes(t, help), errorCodes(t, doc); !reflect.DeepEqual(got, want) {
		t.Errorf("fake --help lists the errors %q, the package doc %q", got, want)
	}
}

// errorCodes lists "STATUS CODE" from the sentence of doc that starts "An
// error answers".
func errorCodes(t *testing.T, doc string) []string {
	t.Helper()
	i := strings.Index(doc, "An error answers")
	if i < 0 {
		t.Fatal("no sentence lists the errors")
	}
	sentence, _, _ := strings.Cut(strings.Join(strings.Fields(doc[i:]), " "), ". ")
	var out []string
	for _, m := range regexp.MustCompile("(\\d{3}) ((?:`?[A-Z_]{3,}`?(?:, | or )?)+)").FindAllStringSubmatch(sentence, -1) {
		for _, code := range regexp.MustCompile(`[A-Z_]{3,}`).FindAllString(m[2], -1) {
			out = append(out, m[1]+" "+code)
		}
	}
	slices.Sort(out)
	return out
}

// --retention N keeps the newest N notifications: an older one is gone
// (the API says why), while the stop line counts every request.
func TestFakeRetention(t *testing.T) {
	t.Parallel()
	url, out, stop := startFake(t, "--retention", "2", "--manual")
	c, err := sendivent.NewClient(defaultFakeKey, sendivent.WithBaseURL(url))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 3 {
		res, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.ID)
	}
	if _, err := c.GetNotification(context.Background(), ids[0]); !errors.Is(err, sendivent.ErrNotFound) ||
		!strings.Contains(err.Error(), "keeps only its newest notifications") {
		t.Errorf("the dropped notification: %v", err)
	}
	if _, err := c.GetNotification(context.Background(), ids[2]); err != nil {
		t.Errorf("a kept notification: %v", err)
	}
	stop()
	if !strings.Contains(out.String(), "stopped after 5 requests") {
		t.Errorf("output: %s", out.String())
	}
}
