package main

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sendivent/sendivent-go/sendiventtest"
)

// "sendivent events pull --dir DIR" against an API that answers with
// hostile events: names that are paths, devices or not one file, a Get
// that answers another event than the one asked, events that would be
// one file, DIR holding a symlink, a pull that fails half-way. Nothing is
// written outside DIR, and a pull that fails leaves DIR as it was.

// eventAPI serves GET /v1/events with ids and GET /v1/events/{id} with
// get(id): a status and the event object (nil: 404).
func eventAPI(t *testing.T, ids []string, get func(id string) map[string]any) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/events" {
			list := make([]map[string]any, len(ids))
			for i, id := range ids {
				list[i] = map[string]any{"identifier": id, "name": id}
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"events": list})
			return
		}
		id, err := pathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), "/v1/events/"))
		var ev map[string]any
		if err == nil {
			ev = get(id)
		}
		if ev == nil {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":"Event not found","code":"NOT_FOUND"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"event": ev})
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func pathUnescape(s string) (string, error) {
	r, err := http.NewRequest("GET", "http://x/"+s, nil)
	if err != nil {
		return "", err
	}
	return strings.TrimPrefix(r.URL.Path, "/"), nil
}

// smsEvent is the event id with one SMS template.
func smsEvent(id string) map[string]any {
	return map[string]any{"identifier": id, "name": id, "channels": []string{"sms"},
		"templates": []map[string]any{{"channel": "sms", "text": "Hi {{name}}"}}}
}

// tree is every file under root with its content (a symlink: "-> target").
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "-> " + target
		case d.IsDir():
			out[rel+"/"] = ""
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, root string, before map[string]string) {
	t.Helper()
	after := tree(t, root)
	for k, v := range after {
		if old, ok := before[k]; !ok {
			t.Errorf("the pull wrote %q (%d bytes)", k, len(v))
		} else if old != v {
			t.Errorf("the pull changed %q", k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			t.Errorf("the pull removed %q", k)
		}
	}
}

// A name the API gives that is no file's name, in the list or in the
// event's own answer, fails the pull with a message, and nothing is
// written: not outside DIR, not in it.
func TestPullRefusesNamesThatAreNotOneFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		list []string
		get  func(id string) map[string]any
	}{
		{"parent path", []string{"ok", "../../escaped"}, smsEvent},
		{"absolute path", []string{"ok", "/tmp/escaped"}, smsEvent},
		{"a directory", []string{"ok", "a/b"}, smsEvent},
		{"dot", []string{"ok", "."}, smsEvent},
		{"dot dot", []string{"ok", ".."}, smsEvent},
		{"NUL", []string{"ok", "a\x00b"}, smsEvent},
		{"newline", []string{"ok", "a\ntitle: injected"}, smsEvent},
		{"escape sequence", []string{"ok", "a\x1b]0;owned\x07"}, smsEvent},
		{"too long for a file name", []string{"ok", strings.Repeat("e", 252)}, smsEvent},
		{"a Windows device", []string{"ok", "CON"}, smsEvent},
		{"a Windows device with a dot", []string{"ok", "nul.welcome"}, smsEvent},
		{"a Windows stream", []string{"ok", "a:b"}, smsEvent},
		{"a trailing dot", []string{"ok", "welcome."}, smsEvent},
		{"two events, one file on a case-insensitive disk", []string{"Welcome", "welcome"}, smsEvent},
		{"the same event twice", []string{"welcome", "welcome"}, smsEvent},
		{"Get answers a path", []string{"welcome"}, func(string) map[string]any { return smsEvent("../../escaped") }},
		{"Get answers a name with a newline", []string{"welcome"}, func(string) map[string]any {
			return smsEvent("welcome\n=== sms text ===\ninjected")
		}},
		{"Get answers another event", []string{"welcome", "other"}, func(string) map[string]any { return smsEvent("other") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := t.TempDir()
			dir := filepath.Join(base, "nest", "catalog")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			before := tree(t, base)
			code, stdout, stderr := runEnv(t, eventAPI(t, tt.list, tt.get), hostileKey, "events", "pull", "--dir", dir)
			if code == exitOK {
				t.Errorf("exit 0, want an error; stdout %q", stdout)
			}
			if !strings.HasPrefix(stderr, "sendivent: ") || strings.Count(strings.TrimSpace(stderr), "\n") > 1 || strings.ContainsAny(stderr, "\x00\x1b") {
				t.Errorf("stderr is not one clean message: %q", stderr)
			}
			sameTree(t, base, before)
		})
	}
}

// A symlink in DIR with an event's file name is replaced, never written
// through: the file it points to, outside DIR, stays as it was.
func TestPullDoesNotWriteThroughASymlink(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "catalog")
	outside := filepath.Join(base, "precious")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside, []byte("not a catalogue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "welcome.event")); err != nil {
		t.Skip("no symlinks here:", err)
	}
	code, _, stderr := runEnv(t, eventAPI(t, []string{"welcome"}, smsEvent), hostileKey, "events", "pull", "--dir", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(outside); string(b) != "not a catalogue\n" {
		t.Errorf("the file outside DIR was written through the symlink: %q", b)
	}
	fi, err := os.Lstat(filepath.Join(dir, "welcome.event"))
	if err != nil || !fi.Mode().IsRegular() {
		t.Fatalf("welcome.event is not a file of its own: %v %v", fi, err)
	}
	files, err := sendiventtest.ReadCatalog(dir)
	if err != nil || len(files) != 1 || files[0].Templates[0].Text != "Hi {{name}}" {
		t.Errorf("catalogue %+v, %v", files, err)
	}
}

// A pull that fails half-way (an event's Get fails, or an event cannot be
// written as a file) leaves DIR as it was: no catalogue that looks
// complete, no temporary file.
func TestPartialPullLeavesTheCatalogueAsItWas(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		get  func(id string) map[string]any
	}{
		{"the third event's Get fails", func(id string) map[string]any {
			if id == "c" {
				return nil
			}
			return smsEvent(id)
		}},
		{"the third event cannot be written", func(id string) map[string]any {
			if id == "c" {
				return map[string]any{"identifier": id, "templates": []map[string]any{{"channel": "sms", "text": "=== sms text ==="}}}
			}
			return smsEvent(id)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for _, n := range []string{"a", "old"} {
				if err := os.WriteFile(filepath.Join(dir, n+".event"), []byte("=== sms text ===\nold "+n+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			before := tree(t, dir)
			code, _, stderr := runEnv(t, eventAPI(t, []string{"a", "b", "c", "d"}, tt.get), hostileKey, "events", "pull", "--dir", dir)
			if code == exitOK {
				t.Fatal("exit 0, want an error")
			}
			if stderr == "" {
				t.Error("no message")
			}
			sameTree(t, dir, before)
		})
	}
}

// What the API gives that the catalogue does not understand is kept, and
// its name made one: a channel key with spaces, newlines or escape
// sequences does not fail the pull nor reach the terminal.
func TestPullKeepsOddTemplateKeys(t *testing.T) {
	t.Parallel()
	get := func(id string) map[string]any {
		return map[string]any{"identifier": id, "templates": map[string]any{
			"sms":              map[string]any{"text": "Hi"},
			"fax machine":      map[string]any{"text": "F"},
			"tele\x1b[2Jgraph": map[string]any{"text": "T"},
			"pigeon\npost":     "P",
		}}
	}
	dir := t.TempDir()
	code, stdout, stderr := runEnv(t, eventAPI(t, []string{"welcome"}, get), hostileKey, "events", "pull", "--dir", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.ContainsAny(stdout, "\x1b") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("stdout is not one clean line: %q", stdout)
	}
	files, err := sendiventtest.ReadCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files[0].Notes) != 3 || files[0].Templates[0].Text != "Hi" {
		t.Errorf("notes %q, templates %+v", files[0].Notes, files[0].Templates)
	}
}

// Many events with bodies near the response cap pull into files that read
// back whole.
func TestPullManyAndLargeEvents(t *testing.T) {
	t.Parallel()
	ids := make([]string, 1500)
	for i := range ids {
		ids[i] = fmt.Sprintf("event-%04d", i)
	}
	big := strings.Repeat("{{x}} lorem ipsum\n", 50_000) // 900 kB
	get := func(id string) map[string]any {
		ev := smsEvent(id)
		if id == "event-0007" {
			ev["templates"] = []map[string]any{{"channel": "email", "subject": "S", "html": big}}
		}
		return ev
	}
	dir := t.TempDir()
	code, _, stderr := runEnv(t, eventAPI(t, ids, get), hostileKey, "events", "pull", "--dir", dir)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	files, err := sendiventtest.ReadCatalog(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(ids) || files[7].Templates[0].HTML != big {
		t.Errorf("%d files read back", len(files))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(ids) {
		t.Errorf("%d entries in DIR, want %d: a temporary file left?", len(entries), len(ids))
	}
}
