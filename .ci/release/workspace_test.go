package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckBumpSync: the 0.2.0 layout (a zero-version requirement with a
// replace, no go.work) fails the check on each count; bump, sync and the
// replace removed make it pass, and a sub-module builds against the
// checkout through its go.work before any tag exists.
func TestCheckBumpSync(t *testing.T) {
	t.Parallel()
	dir := scratchRepo(t)
	write(t, dir, map[string]string{
		"CHANGELOG.md": changelog("0.2.0", ""),
		"sub/go.mod": "module example.com/m/sub\n\ngo 1.23.0\n\nrequire example.com/m v0.0.0-00010101000000-000000000000\n\n" +
			"replace example.com/m => ../\n",
		"sub/sub.go": "package sub\n\nimport \"example.com/m\"\n\nfunc S() { m.A() }\n",
	})
	open := func() *Repo {
		t.Helper()
		r, err := OpenRepo(dir)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	err := open().Check()
	for _, want := range []string{
		"sub/go.mod: replace example.com/m",
		"sub/go.mod: requires example.com/m v0.0.0-00010101000000-000000000000",
		"v0.2.0 (CHANGELOG.md)",
		"sub/go.work: open",
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check() = %v; want it to say %q", err, want)
		}
	}

	if err := open().Bump(); err != nil {
		t.Fatal(err)
	}
	if _, err := goCmd(filepath.Join(dir, "sub"), "mod", "edit", "-dropreplace=example.com/m"); err != nil {
		t.Fatal(err)
	}
	if err := open().Check(); err != nil {
		t.Fatalf("after bump, sync and the replace dropped: %v", err)
	}
	work, err := os.ReadFile(filepath.Join(dir, "sub", "go.work"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(work), "example.com/m => ..\n") {
		t.Errorf("sub/go.work:\n%s", work)
	}
	// go.work is found from the module's directory: no v0.2.0 exists anywhere.
	if out, err := goCmdWork(filepath.Join(dir, "sub"), "build", "./..."); err != nil {
		t.Fatalf("go build in sub with its go.work: %v\n%s", err, out)
	}

	write(t, dir, map[string]string{"sub/go.work": strings.Replace(string(work), "=> ..", "=> ../elsewhere", 1)})
	if err := open().Check(); err == nil || !strings.Contains(err.Error(), "sub/go.work is out of date") {
		t.Errorf("Check() with an edited go.work = %v", err)
	}
}

func goCmdWork(dir string, args ...string) (string, error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOPROXY=off")
	out, err := cmd.CombinedOutput()
	return string(out), err
}
