package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// runIn runs the command against srv and returns its exit code, stdout and
// stderr.
func runIn(t *testing.T, srv *sendiventtest.Server, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{stdout: &stdout, stderr: &stderr, getenv: env{
		"SENDIVENT_API_KEY": srv.APIKey(), "SENDIVENT_API_URL": srv.URL,
	}.get}
	code := run(context.Background(), a, args)
	return code, stdout.String(), stderr.String()
}

// "wait --timeout" polls until its timeout is nearly over, and ends then:
// the last poll goes as late as it can (it gave up after 1 s of a 2 s
// timeout, as the SDK kept a whole poll interval for the last poll). Time
// is what this test proves: the bounds are the timeout's, with room for a
// slow machine above.
func TestWaitUsesItsWholeTimeout(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle(), sendiventtest.WithTimeScale(1))
	defer srv.Close()
	res, err := srv.Client().Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 3 * time.Second
	start := time.Now()
	code, _, stderr := runIn(t, srv, "wait", res.ID, "--timeout", timeout.String(), "--poll", "1s")
	elapsed := time.Since(start)
	if code != exitTimeout {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitTimeout, stderr)
	}
	polls := srv.Requests(sendiventtest.EndpointNotification)
	span := polls[len(polls)-1].Time.Sub(polls[0].Time)
	// It polled at 0 and about 1 s, then kept a whole poll interval for
	// its last poll, at 2 s, and ended there. Now the last poll's room is
	// twice the slowest poll: half a second leaves room for a slow machine.
	if span < timeout-500*time.Millisecond || elapsed < timeout-500*time.Millisecond {
		t.Errorf("the last poll came %v after the first and the command ended after %v: it gave up early on a %v timeout",
			span, elapsed, timeout)
	}
	if elapsed > timeout+10*time.Second {
		t.Errorf("the command ran %v, well past its %v timeout", elapsed, timeout)
	}
}

// The command's --json notification has the shape of the service's own
// answer, as the fake's /_fake/ endpoint shows it: the same keys, and a
// message's "error" null when it has none, the reason when it failed.
func TestNotificationJSONHasTheServiceShape(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	defer srv.Close()
	c := srv.Client()
	ok, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	failed, err := c.Event("welcome").To(sendivent.Address("bob@example.com")).Send(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.FailMessage(failed.ID, "mailbox full"); err != nil {
		t.Fatal(err)
	}
	for id, wantErr := range map[string]any{ok.ID: nil, failed.ID: "mailbox full"} {
		code, stdout, stderr := runIn(t, srv, "status", id, "--json")
		if code != exitOK {
			t.Fatalf("status: exit %d: %s", code, stderr)
		}
		var cmd, fake map[string]any
		if err := json.Unmarshal([]byte(stdout), &cmd); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(srv.URL + "/_fake/notifications/" + id)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := json.Unmarshal(body, &fake); err != nil {
			t.Fatal(err)
		}
		cm, fm := cmd["messages"].([]any)[0].(map[string]any), fake["messages"].([]any)[0].(map[string]any)
		if got, want := keys(cm), keys(fm); !reflect.DeepEqual(got, want) {
			t.Errorf("message keys: command %v, fake %v", got, want)
		}
		if cm["error"] != wantErr || fm["error"] != wantErr {
			t.Errorf("error: command %#v, fake %#v, want %#v", cm["error"], fm["error"], wantErr)
		}
		for _, k := range keys(cmd) {
			if _, in := fake[k]; !in {
				t.Errorf("the command prints %q, which the fake's view lacks", k)
			}
		}
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
