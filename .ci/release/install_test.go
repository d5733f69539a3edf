package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"
)

// smokePrograms are what a user writes first with a module: each is run in
// a fresh module that has the module at the version being released, from
// the proxy, and must print want. A module without one is still fetched,
// built whole and its commands installed. {{.Path}} is the module's path,
// {{.Name}} its last element, {{.Version}} the version without "v".
var smokePrograms = map[string]struct{ program, want string }{
	".": {`package main

import (
	"context"
	"fmt"
	"log"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

func main() {
	srv := sendiventtest.NewServer()
	defer srv.Close()
	res, err := srv.Client().Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sendivent.Version, res.Event, res.Status)
}
`, "{{.Version}} welcome accepted"},
	"sendiventredis": {redisProgram, "{{.Version}} *sendiventredis.Limiter"},
	"sendiventotel": {`package main

import (
	"context"
	"fmt"
	"log"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventotel"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

func main() {
	srv := sendiventtest.NewServer()
	defer srv.Close()
	res, err := srv.Client(sendiventotel.Observe()).Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sendivent.Version, res.Status)
}
`, "{{.Version}} accepted"},
	"templates": {`package main

import (
	"context"
	"fmt"
	"log"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

func main() {
	srv := sendiventtest.NewServer(sendiventtest.WithTemplateEngine(templates.Handlebars()),
		sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "welcome",
			Steps: []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelEmail)},
			Templates: []sendiventtest.Template{ {Channel: sendivent.ChannelEmail, Subject: "Hi {" + "{contact.firstName}" + "}"} }}))
	defer srv.Close()
	res, err := srv.Client().Event("welcome").To(sendivent.Contact{Email: "ada@example.com", Name: "Ada L"}).Send(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	n, _ := srv.Notification(res.ID)
	fmt.Println(sendivent.Version, n.Rendered[0].Subject)
}
`, "{{.Version}} Hi Ada"},
}

// redisProgram builds a limiter on a client that never dials: New does
// not reach Redis.
const redisProgram = `package main

import (
	"fmt"
	"log"

	"github.com/redis/go-redis/v9"
	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventredis"
)

func main() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	lim, err := sendiventredis.NewLimiter(rdb, sendiventredis.KeyFor("test_key"), 100, 10)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %T\n", sendivent.Version, lim)
}
`

// TestInstallAsAUser releases the checkout to a module proxy on disk, at
// the version being prepared, and uses every module from it as a user
// would: in a fresh module with no replace and no go.work, go get, build
// every package, run a first program, and go install each command. The
// other modules come from the machine's module cache or its GOPROXY, and
// are checked against the checksum database as usual; only the
// repository's own modules are exempt (GONOSUMDB), being unpublished.
func TestInstallAsAUser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every module as a user would; skipped with -short")
	}
	r, err := OpenRepo(".")
	if err != nil {
		t.Fatal(err)
	}
	version, err := r.PreparedVersion()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	proxy := filepath.Join(tmp, "proxy")
	if err := r.BuildProxy(proxy, version); err != nil {
		t.Fatal(err)
	}
	env := userEnv(t, r, tmp, proxy)
	t.Cleanup(func() { // the module cache is read-only; go clean empties it
		_, _ = runOut(t, tmp, env, "go", "clean", "-modcache")
	})

	for _, m := range r.Modules {
		t.Run(m.Dir, func(t *testing.T) {
			dir := filepath.Join(tmp, "user-"+strings.ReplaceAll(m.Dir, "/", "-"))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			write(t, dir, map[string]string{"go.mod": "module example.com/user\n\ngo 1.23.0\n"})
			mustRun(t, dir, env, "go", "get", m.Path+"@"+version)
			gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(gomod), m.Path+" "+version) {
				t.Fatalf("go.mod after go get:\n%s", gomod)
			}
			pkgs := strings.Fields(mustRun(t, dir, env, "go", "list", "-f", "{{.Name}}:{{.ImportPath}}", m.Path+"/..."))
			mustRun(t, dir, env, "go", "build", m.Path+"/...")

			if s, ok := smokePrograms[path.Base(m.Dir)]; ok {
				data := struct{ Path, Name, Version string }{m.Path, path.Base(m.Path), strings.TrimPrefix(version, "v")}
				write(t, dir, map[string]string{"main.go": expand(t, s.program, data)})
				got := strings.TrimSpace(mustRun(t, dir, env, "go", "run", "."))
				if want := expand(t, s.want, data); got != want {
					t.Errorf("first program printed %q, want %q", got, want)
				}
			}

			commands := 0
			for _, p := range pkgs {
				name, imp, _ := strings.Cut(p, ":")
				if name != "main" || strings.Contains(imp, "/examples/") {
					continue
				}
				commands++
				installEnv := append(env[:len(env):len(env)], "GOFLAGS=-trimpath") // go install pkg@version runs outside any module
				mustRun(t, tmp, installEnv, "go", "install", imp+"@"+version)
				if path.Base(imp) == "sendivent" {
					checkCommand(t, filepath.Join(tmp, "bin", "sendivent"), version)
				}
			}
			if _, ok := smokePrograms[path.Base(m.Dir)]; !ok && commands == 0 {
				t.Logf("no first program for module %s in smokePrograms: fetched and built only", m.Dir)
			}
		})
	}
}

// checkCommand runs the installed sendivent: --version, then a fake on a
// free port, asked for its health, stopped by SIGINT.
func checkCommand(t *testing.T, bin, version string) {
	t.Helper()
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("sendivent --version: %v\n%s", err, out)
	}
	if want := "sendivent version " + strings.TrimPrefix(version, "v"); strings.TrimSpace(string(out)) != want {
		t.Errorf("sendivent --version printed %q, want %q", out, want)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	fake := exec.CommandContext(ctx, bin, "fake", "--addr", "127.0.0.1:0", "--json")
	fake.Stderr = os.Stderr
	stdout, err := fake.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := fake.Start(); err != nil {
		t.Fatal(err)
	}
	defer fake.Process.Kill() // in case of an early return; a no-op after Wait
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("sendivent fake said nothing: %v", err)
	}
	var start struct{ URL string }
	if err := json.Unmarshal([]byte(line), &start); err != nil || start.URL == "" {
		t.Fatalf("sendivent fake --json start line %q: %v", line, err)
	}
	resp, err := http.Get(start.URL + "/_fake/health")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"ok"`)) {
		t.Errorf("/_fake/health: %d %s", resp.StatusCode, body)
	}
	if err := fake.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, stdout)
	if err := fake.Wait(); err != nil {
		t.Errorf("sendivent fake after SIGINT: %v (want exit 0)", err)
	}
}

// userEnv is a user's environment: no workspace, -mod=mod, the proxy on
// disk first, then the machine's module cache and GOPROXY, a module cache
// of its own (so that the unpublished versions never reach the machine's),
// and the checksum database for everything but the repository's modules.
func userEnv(t *testing.T, r *Repo, tmp, proxy string) []string {
	t.Helper()
	goenv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	chain := "file://" + filepath.ToSlash(proxy) +
		",file://" + filepath.ToSlash(filepath.Join(goenv("GOMODCACHE"), "cache", "download"))
	if p := goenv("GOPROXY"); p != "" && p != "off" {
		chain += "," + p
	}
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "GOWORK", "GOFLAGS", "GOPROXY", "GONOSUMDB", "GONOPROXY", "GOPRIVATE", "GOMODCACHE", "GOBIN", "GOTOOLCHAIN":
		default:
			env = append(env, kv)
		}
	}
	return append(env,
		"GOWORK=off",
		// -trimpath: the module cache is new each run, and without it the
		// build cache would miss on every package from it.
		"GOFLAGS=-mod=mod -trimpath",
		"GOTOOLCHAIN=local",
		"GOPROXY="+chain,
		"GONOSUMDB="+r.Modules[0].Path,
		"GOMODCACHE="+filepath.Join(tmp, "modcache"),
		"GOBIN="+filepath.Join(tmp, "bin"),
	)
}

func mustRun(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := runOut(t, dir, env, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runOut(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s (in %s): %v\n%s%s", name, strings.Join(args, " "), dir, err, out, stderr.String())
	}
	return string(out), nil
}

func expand(t *testing.T, text string, data any) string {
	t.Helper()
	var b strings.Builder
	if err := template.Must(template.New("").Parse(text)).Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
