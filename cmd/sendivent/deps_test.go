package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// TestSDKGainsNoCommandDependencies checks that an application importing the
// SDK (and its fake, for the application's tests) gets none of the
// command's dependencies: a fresh module is tidied before and after the
// import, and the go.sum after must name none of them. It needs the go
// command and the module proxy (or a warm module cache).
func TestSDKGainsNoCommandDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go mod tidy; skipped with -short")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH: ", err)
	}
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goCmd := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(goBin, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local")
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return string(out)
	}
	tidy := func() map[string]bool {
		t.Helper()
		goCmd("mod", "tidy")
		return sumModules(t, filepath.Join(dir, "go.sum"))
	}

	write("go.mod", "module example.com/app\n\ngo 1.23.0\n")
	write("main.go", "package main\n\nfunc main() {}\n")
	before := tidy()

	write("go.mod", "module example.com/app\n\ngo 1.23.0\n\n"+
		"require github.com/sendivent/sendivent-go v0.0.0-00010101000000-000000000000\n\n"+
		"replace github.com/sendivent/sendivent-go => "+filepath.ToSlash(root)+"\n")
	write("main.go", `package main

import (
	"fmt"

	"github.com/sendivent/sendivent-go"
)

func main() { fmt.Println(sendivent.Version) }
`)
	write("main_test.go", `package main

import (
	"testing"

	"github.com/sendivent/sendivent-go/sendiventtest"
)

func TestFake(t *testing.T) { sendiventtest.NewServer().Close() }
`)
	after := tidy()

	var added []string
	for m := range after {
		if !before[m] {
			added = append(added, m)
		}
	}
	sort.Strings(added)
	t.Logf("go.sum: %d modules before the import, %d after; added: %s", len(before), len(after), strings.Join(added, ", "))
	checkNone(t, "go.sum", added)

	// go.sum lists only what the build needs checksums for; the module
	// graph would also show a requirement no SDK package imports.
	graph := strings.Fields(goCmd("list", "-m", "-f", "{{.Path}}", "all"))
	t.Logf("module graph: %s", strings.Join(graph, ", "))
	checkNone(t, "the module graph", graph)
}

// commandOnly are module path prefixes that the SDK's importers must not get:
// the command's dependencies, sendiventredis's, the template engine's (the
// module templates, raymond and what raymond requires), sendiventotel's,
// and the inbox's browser tests' (chromedp, in the module
// cmd/sendivent/internal/inboxtest).
var commandOnly = []string{
	"github.com/spf13/cobra", "github.com/spf13/pflag", "github.com/inconshreveable/mousetrap",
	"github.com/rogpeppe/go-internal", "github.com/redis/", "github.com/go-redis/",
	"github.com/sendivent/sendivent-go/templates", "github.com/mailgun/raymond",
	"github.com/sirupsen/logrus", "gopkg.in/yaml.v2", "go.opentelemetry.io/",
	"github.com/chromedp/", "github.com/go-json-experiment/",
}

func checkNone(t *testing.T, where string, mods []string) {
	t.Helper()
	for _, m := range mods {
		for _, banned := range commandOnly {
			if strings.HasPrefix(m, banned) {
				t.Errorf("importing the SDK adds %s to %s: a dependency of the command, of sendiventredis, of the template engine, of sendiventotel or of the browser tests leaked into the SDK's module", m, where)
			}
		}
	}
}

// sumModules returns the module paths that a go.sum names (none if it does
// not exist).
func sumModules(t *testing.T, path string) map[string]bool {
	t.Helper()
	mods := map[string]bool{}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return mods
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) == 3 {
			mods[f[0]] = true
		}
	}
	return mods
}
