package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// TestMain makes the test binary double as the sendivent command: the
// scripts run it as a separate process, by name, from $PATH.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"sendivent": func() { os.Exit(realMain()) },
	})
}

// TestScripts runs testdata/script/*.txtar. Each script gets its own fake
// Sendivent, in this test process, with SENDIVENT_API_URL and
// SENDIVENT_API_KEY pointing at it; the commands in scriptCmds drive it.
// fake_process.txtar also runs "sendivent fake" as a process of its own.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			h := &fakeHolder{}
			h.start(nil)
			env.Defer(h.close)
			env.Values[fakeKey{}] = h
			env.Values[hookKey{}] = &hookHolder{}
			env.Setenv("SENDIVENT_API_URL", h.srv.URL)
			env.Setenv("SENDIVENT_API_KEY", h.srv.APIKey())
			return nil
		},
		Cmds: scriptCmds,
	})
}

// fakeKey keys the script's *fakeHolder in testscript's values.
type fakeKey struct{}

// fakeHolder is the in-process fake of one script; "fake restart" replaces it.
type fakeHolder struct {
	srv  *sendiventtest.Server
	seen map[string]int // GET count of an id when "fake advance" last moved it
}

func (h *fakeHolder) start(opts []sendiventtest.Option) {
	// A recognisable key, so that scripts can check it is never printed.
	opts = append([]sendiventtest.Option{sendiventtest.WithAPIKey("test_K3YSECRET0f8e2a")}, opts...)
	h.srv = sendiventtest.NewServer(opts...)
	h.seen = map[string]int{}
}

func (h *fakeHolder) close() {
	if h.srv != nil {
		h.srv.Close()
	}
}

// env is a fake environment for app.getenv.
type env map[string]string

func (e env) get(k string) string { return e[k] }
