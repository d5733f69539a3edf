package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scratchRepo makes a git repository released as v0.1.0: a root module
// with package m (A, B) and package m/p (T with method M), and a module
// sub. It returns the repository's directory, at the release's commit.
func scratchRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"go.mod":       "module example.com/m\n\ngo 1.23.0\n",
		"m.go":         "package m\n\nfunc A() {}\n\nfunc B() {}\n",
		"p/p.go":       "package p\n\ntype T struct{}\n\nfunc (T) M() {}\n",
		"sub/go.mod":   "module example.com/m/sub\n\ngo 1.23.0\n",
		"sub/sub.go":   "package sub\n\nfunc S() {}\n",
		"CHANGELOG.md": "# Changelog\n\n## [0.1.0] - 2026-01-01\n- First.\n",
	})
	gitT(t, dir, "init", "-q")
	gitT(t, dir, "add", ".")
	gitT(t, dir, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "v0.1.0")
	head := strings.TrimSpace(gitT(t, dir, "rev-parse", "HEAD"))
	write(t, dir, map[string]string{".ci/release-base": "# the last release\nv0.1.0 " + head + "\n"})
	return dir
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func gitT(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := git(dir, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func changelog(version, breaks string) string {
	s := "# Changelog\n\n## [" + version + "] - unreleased\n"
	if breaks != "" {
		s += "\n### Incompatible changes\n" + breaks + "\n### Added\n- Not a statement: `B` `p.T.M` `example.com/m/sub`.\n"
	}
	return s + "\n## [0.1.0] - 2026-01-01\n- First.\n"
}

// TestGate is the gate's dry run: an exported name removed, a method
// removed, a module renamed, each without and with its statement in
// CHANGELOG.md, and in a version that may or may not break.
func TestGate(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git: ", err)
	}
	t.Parallel()
	renamed := map[string]string{"sub/go.mod": "module example.com/m/sub2\n\ngo 1.23.0\n"}
	tests := []struct {
		name    string
		files   map[string]string
		remove  string
		wantErr []string // each in the error; none: the gate passes
	}{
		{name: "addition needs no statement",
			files: map[string]string{"m.go": "package m\n\nfunc A() {}\n\nfunc B() {}\n\nfunc C() {}\n", "CHANGELOG.md": changelog("0.1.1", "")}},
		{name: "removed func, not stated",
			files:   map[string]string{"m.go": "package m\n\nfunc A() {}\n", "CHANGELOG.md": changelog("0.2.0", "")},
			wantErr: []string{`"### Incompatible changes" for 0.2.0`, "missing: B"}},
		{name: "removed func, stated under another heading only",
			files:   map[string]string{"m.go": "package m\n\nfunc A() {}\n", "CHANGELOG.md": changelog("0.2.0", "- `A` is faster.\n")},
			wantErr: []string{"missing: B"}},
		{name: "removed func, only inside a word",
			files:   map[string]string{"m.go": "package m\n\nfunc A() {}\n", "CHANGELOG.md": changelog("0.2.0", "- Both are gone; see `A.B`.\n")},
			wantErr: []string{"missing: B"}},
		{name: "removed func, stated",
			files: map[string]string{"m.go": "package m\n\nfunc A() {}\n", "CHANGELOG.md": changelog("0.2.0", "- `B` is gone: call `A`.\n")}},
		{name: "removed func, stated, but a patch release",
			files:   map[string]string{"m.go": "package m\n\nfunc A() {}\n", "CHANGELOG.md": changelog("0.1.1", "- `B` is gone.\n")},
			wantErr: []string{"v0.1.1 after v0.1.0 may not make incompatible changes"}},
		{name: "removed method in a package, not stated",
			files:   map[string]string{"p/p.go": "package p\n\ntype T struct{}\n", "CHANGELOG.md": changelog("0.2.0", "- `B` is gone.\n")},
			wantErr: []string{"missing: p.T.M"}},
		{name: "removed method in a package, stated",
			files: map[string]string{"p/p.go": "package p\n\ntype T struct{}\n", "CHANGELOG.md": changelog("0.2.0", "- `p.T.M` is gone.\n")}},
		{name: "module renamed, not stated",
			files:   merge(renamed, map[string]string{"CHANGELOG.md": changelog("0.2.0", "- `B` is gone.\n")}),
			wantErr: []string{"missing: example.com/m/sub"}},
		{name: "module renamed, stated",
			files: merge(renamed, map[string]string{"CHANGELOG.md": changelog("0.2.0", "- `example.com/m/sub` is `example.com/m/sub2`.\n")})},
		{name: "no version prepared",
			files:   map[string]string{"m.go": "package m\n\nfunc A() {}\n"},
			wantErr: []string{"v0.1.0 after v0.1.0 may not make incompatible changes", "missing: B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := scratchRepo(t)
			write(t, dir, tt.files)
			r, err := OpenRepo(dir)
			if err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			err = r.Gate(&out)
			t.Log(out.String())
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("gate failed: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("gate passed")
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

func merge(a, b map[string]string) map[string]string {
	m := map[string]string{}
	for k, v := range a {
		m[k] = v
	}
	for k, v := range b {
		m[k] = v
	}
	return m
}

func TestMentions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text, name string
		want       bool
	}{
		{"- `B` is gone.", "B", true},
		{"B", "B", true},
		{"- Both are gone.", "B", false},
		{"- `A.B` is gone.", "B", false},
		{"- `Client.Send` takes a context.", "Client.Send", true},
		{"- `Client.SendBatch` is gone.", "Client.Send", false},
		{"- `sendivent.Client.Send`.", "Client.Send", false},
		{"- `github.com/x/m/sub` is `github.com/x/m/sub2`.", "github.com/x/m/sub", true},
		{"- `github.com/x/m/sub2` is new.", "github.com/x/m/sub", false},
	}
	for _, tt := range tests {
		if got := Mentions(tt.text, tt.name); got != tt.want {
			t.Errorf("Mentions(%q, %q) = %v, want %v", tt.text, tt.name, got, tt.want)
		}
	}
}

func TestMayBreak(t *testing.T) {
	t.Parallel()
	tests := []struct {
		base, prepared string
		want           bool
	}{
		{"v0.2.0", "v0.3.0", true},
		{"v0.2.3", "v0.3.0", true},
		{"v0.2.0", "v0.2.1", false},
		{"v0.2.0", "v0.2.0", false},
		{"v0.3.0", "v0.2.9", false},
		{"v0.9.0", "v1.0.0", true},
		{"v1.2.0", "v1.3.0", false},
		{"v1.2.0", "v2.0.0", true},
	}
	for _, tt := range tests {
		if got := MayBreak(tt.base, tt.prepared); got != tt.want {
			t.Errorf("MayBreak(%s, %s) = %v, want %v", tt.base, tt.prepared, got, tt.want)
		}
	}
}
