package inboxtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sendivent/sendivent-go"
)

// bound is how long a test waits for what must happen: generous, for a
// loaded machine with two cores and a browser.
const bound = 60 * time.Second

var (
	// sendiventBin is the command, built once from ../ by TestMain.
	sendiventBin string
	// browser is the headless Chromium that every test opens tabs in;
	// nil, with noBrowser saying why, when there is none.
	browser   context.Context
	noBrowser string
)

// TestMain builds the sendivent command and starts one headless Chromium
// for all the tests. Without Chromium the tests skip, saying why, except
// under CI (CI set), where they fail: CI installs it (.ci/run).
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "inboxtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	sendiventBin = filepath.Join(dir, "sendivent")
	build := exec.Command("go", "build", "-o", sendiventBin, ".")
	build.Dir = filepath.Join("..", "..") // cmd/sendivent
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the sendivent command: %v\n%s", err, out)
		return 1
	}
	path, err := chromiumPath()
	if err != nil {
		noBrowser = err.Error()
		return m.Run()
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("no-default-browser-check", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(filepath.Join(dir, "profile")),
		chromedp.WindowSize(1280, 900),
	)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		fmt.Fprintf(os.Stderr, "starting %s: %v\n", path, err)
		return 1
	}
	browser = ctx
	return m.Run()
}

// chromiumPath finds Debian's Chromium.
func chromiumPath() (string, error) {
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium: install Debian's (apt-get install -y chromium), as .ci/run does")
}

// tab opens a new tab of the browser for the test, or skips the test
// (fails it under CI) when there is no browser.
func tab(t *testing.T) context.Context {
	t.Helper()
	if browser == nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set and the browser tests cannot run: %s", noBrowser)
		}
		t.Skipf("skipped: %s", noBrowser)
	}
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	ctx, cancelT := context.WithTimeout(ctx, 2*bound)
	t.Cleanup(cancelT)
	return ctx
}

// fake is a "sendivent fake" process on a free loopback port.
type fake struct {
	URL, Key string
}

// startFake runs "sendivent fake --addr 127.0.0.1:0 --json ARGS" and stops
// it (SIGINT) when the test ends.
func startFake(t *testing.T, args ...string) fake {
	t.Helper()
	cmd := exec.Command(sendiventBin, append([]string{"fake", "--addr", "127.0.0.1:0", "--json"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGINT)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("sendivent fake: %v\n%s", err, stderr.String())
			}
		case <-time.After(bound):
			_ = cmd.Process.Kill()
			t.Errorf("sendivent fake did not stop on SIGINT")
		}
	})
	first := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			first <- sc.Text()
		}
		close(first)
		for sc.Scan() { // keep reading: the process must not block on its output
		}
	}()
	select {
	case line, ok := <-first:
		if !ok {
			t.Fatalf("sendivent fake printed nothing: %s", stderr.String())
		}
		var start struct {
			URL    string `json:"url"`
			APIKey string `json:"api_key"`
		}
		if err := json.Unmarshal([]byte(line), &start); err != nil {
			t.Fatalf("sendivent fake's first line %q: %v", line, err)
		}
		return fake{URL: start.URL, Key: start.APIKey}
	case <-time.After(bound):
		t.Fatalf("sendivent fake not listening after %v: %s", bound, stderr.String())
	}
	return fake{}
}

// client is an SDK client of the fake, as an application's.
func (f fake) client(t *testing.T, opts ...sendivent.Option) *sendivent.Client {
	t.Helper()
	c, err := sendivent.NewClient(f.Key, append([]sendivent.Option{sendivent.WithBaseURL(f.URL)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
