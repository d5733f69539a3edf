package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestContract runs testdata/contract/*.txtar: an application of its own
// module, built and tested with the go command against this checkout,
// that shows the templates as the contract between its code and the
// catalogue. It needs the go command and a module cache that holds the
// dependencies (it runs with GOPROXY=off); skipped with -short.
func TestContract(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests a module with the go command; skipped with -short")
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
	goEnv := map[string]string{}
	out, err := exec.Command(goBin, "env", "GOCACHE", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	goEnv["GOCACHE"], goEnv["GOMODCACHE"] = lines[0], lines[1]
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/contract",
		RequireExplicitExec: true,
		Cmds:                map[string]func(*testscript.TestScript, bool, []string){"exitcode": cmdExitCode},
		Setup: func(env *testscript.Env) error {
			env.Setenv("REPO", filepath.ToSlash(root))
			env.Setenv("GOCACHE", goEnv["GOCACHE"])
			env.Setenv("GOMODCACHE", goEnv["GOMODCACHE"])
			env.Setenv("GOPROXY", "off")
			env.Setenv("GOSUMDB", "off")
			env.Setenv("GOFLAGS", "-mod=mod")
			env.Setenv("GOWORK", "off")
			env.Setenv("GOTOOLCHAIN", "local")
			env.Setenv("PATH", filepath.Dir(goBin)+string(os.PathListSeparator)+env.Getenv("PATH"))
			return nil
		},
	})
}
