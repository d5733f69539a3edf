package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// defaultFakeKey is the key the fake accepts unless --api-key says another.
// A fake's key guards nothing; it is fixed so that a test stack can write it
// in its configuration.
const defaultFakeKey = "test_sendivent_fake"

type fakeFlags struct {
	addr, apiKey string
	events       []string
	manual, json bool
}

func newFakeCmd(a *app) *cobra.Command {
	var f fakeFlags
	cmd := &cobra.Command{
		Use:   "fake",
		Short: "Serve a fake Sendivent on a port, for tests in any language",
		Long: `Serve the fake Sendivent of package sendiventtest on a port until SIGINT or
SIGTERM, then stop cleanly (exit 0). Point an application's Sendivent URL at
it, with the key it prints.

The fake checks the key, validates requests with the service's error
answers, routes by the recipient's identifiers, moves each notification
through its lifecycle (queued, sent, delivered, completed), cancels, and
replays idempotent sends. With no --event every event name exists; with
--event, others answer 404 EVENT_NOT_FOUND.

The key it accepts is printed at start: it is a fake's key, not a secret.`,
		Example: `  sendivent fake
  sendivent fake --addr 127.0.0.1:9000 --event welcome --event otp=sms
  sendivent fake --event drip=email,wait:1h,sms --manual
  SENDIVENT_API_URL=http://127.0.0.1:8787 SENDIVENT_API_KEY=test_sendivent_fake \
    sendivent send welcome --to alice@example.com --wait`,
		Args: exactArgs(),
	}
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8787", "`ADDRESS` to listen on (use 0.0.0.0:8787 inside a container)")
	fs.StringVar(&f.apiKey, "api-key", defaultFakeKey, "the `KEY` the fake accepts (a fake's key, not a secret)")
	fs.StringArrayVar(&f.events, "event", nil, "declare an `EVENT`: NAME or NAME=STEP,STEP… with steps CHANNEL or wait:DURATION (repeatable)")
	fs.BoolVar(&f.manual, "manual", false, "manual lifecycle: notifications stay queued until moved through the control endpoints")
	fs.BoolVar(&f.json, "json", false, "print the URL and key as one JSON line at start")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		a.ran = true
		return a.serveFake(cmd.Context(), f)
	}
	return cmd
}

// fakeOptions turns the flags into the fake's options.
func (f *fakeFlags) options() ([]sendiventtest.Option, error) {
	opts := []sendiventtest.Option{sendiventtest.WithAPIKey(f.apiKey)}
	if f.manual {
		opts = append(opts, sendiventtest.WithManualLifecycle())
	}
	for _, e := range f.events {
		name, steps, err := parseEventFlag(e)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sendiventtest.WithEvent(name, steps...))
	}
	return opts, nil
}

// parseEventFlag reads --event NAME or NAME=STEP,STEP… where a step is a
// channel name or wait:DURATION.
func parseEventFlag(s string) (string, []sendiventtest.Step, error) {
	name, list, hasSteps := strings.Cut(s, "=")
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, usagef("--event %q: empty event name", s)
	}
	if !hasSteps {
		return name, nil, nil
	}
	var steps []sendiventtest.Step
	for _, st := range strings.Split(list, ",") {
		st = strings.TrimSpace(st)
		if d, ok := strings.CutPrefix(st, "wait:"); ok {
			dur, err := time.ParseDuration(d)
			if err != nil || dur <= 0 {
				return "", nil, usagef("--event %s: %q: want wait:DURATION, such as wait:1h", name, st)
			}
			steps = append(steps, sendiventtest.Wait(dur))
			continue
		}
		ch := sendivent.Channel(st)
		if !ch.Valid() {
			return "", nil, usagef("--event %s: %q is neither a channel (email, sms, slack, push, telegram, whatsapp, discord) nor wait:DURATION", name, st)
		}
		steps = append(steps, sendiventtest.Send(ch))
	}
	return name, steps, nil
}

// serveFake runs the fake on f.addr until ctx ends, then shuts down: the
// listener closes, requests in flight finish (up to 5 s), and it returns nil.
func (a *app) serveFake(ctx context.Context, f fakeFlags) error {
	if strings.ContainsAny(f.apiKey, " \t\r\n") || f.apiKey == "" {
		return usagef("--api-key: want a key without white space")
	}
	opts, err := f.options()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	srv := sendiventtest.NewServer(opts...)
	defer srv.Close()
	target, err := url.Parse(srv.URL)
	if err != nil {
		ln.Close()
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_fake/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintln(w, `{"ok":true}`)
	})
	mux.Handle("/", httputil.NewSingleHostReverseProxy(target))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	u := "http://" + ln.Addr().String()
	if f.json {
		writeJSON(a.stdout, map[string]string{"url": u, "api_key": f.apiKey})
	} else {
		fmt.Fprintf(a.stdout, "sendivent fake: listening on %s\n", u)
		fmt.Fprintf(a.stdout, "API key: %s (a fake's key, not a secret)\n", f.apiKey)
		fmt.Fprintf(a.stdout, "  export SENDIVENT_API_URL=%s SENDIVENT_API_KEY=%s\n", u, f.apiKey)
	}
	select {
	case err := <-served:
		return fmt.Errorf("fake server: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("fake server shutdown: %w", err)
	}
	if !f.json {
		fmt.Fprintln(a.stdout, "sendivent fake: stopped")
	}
	return nil
}
