package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/sendivent/sendivent-go/sendiventtest"
)

// defaultFakeKey is the key the fake accepts unless --api-key says another.
// A fake's key guards nothing; it is fixed so that a test stack can write it
// in its configuration.
const defaultFakeKey = "test_sendivent_fake"

type fakeFlags struct {
	addr, apiKey, config   string
	catalog                string
	strict                 bool
	webhook, webhookSecret string
	events                 []string
	manual, json           bool
	stepDelay              time.Duration
	timeScale              float64
	retention              int
}

// fakeConfig is the --config file: {"events": [{"name": "drip", "steps":
// ["email", "wait:1h", "sms"]}]}.
type fakeConfig struct {
	Events []sendiventtest.EventConfig `json:"events"`
}

const fakeLong = `Serve the fake Sendivent of package sendiventtest on a port until SIGINT or
SIGTERM, then stop cleanly (exit 0). Point an application's Sendivent URL at
it, with the key it prints: it is a fake's key, not a secret.

The fake checks the key, validates requests with the service's error
answers, routes by the recipient's identifiers, moves each notification
through its lifecycle (queued, sent, delivered, completed), cancels, and
replays idempotent sends. With no event declared every event name exists;
once one is (--event, --config), others answer 404 EVENT_NOT_FOUND.

An event is NAME, or NAME=STEP,STEP… where a step is a channel (email, sms,
whatsapp, slack, telegram, discord, push) or wait:DURATION. --config reads
{"events": [{"name": "drip", "steps": ["email", "wait:1h", "sms"]}]}.

With --webhook URL the fake plays the service's webhooks: as a message moves
it POSTs a signed event (delivery.sent, delivery.delivered, delivery.failed,
delivery.bounced) to URL, as the service would to an application's
endpoint, so that the application's signature check runs as in production.
It signs with --webhook-secret, or a fresh whsec_… secret, printed at start
(a fake's secret, not a real one). An event not answered 2xx is tried again,
4 times in all (after 1s, 5s and 25s, shortened by --time-scale).

It keeps the newest --retention (10000) requests, notifications, contacts,
idempotent answers and webhook attempts, and at most 32 MiB of request
bodies and of payloads; older ones are dropped (the API then answers 404 for
a dropped notification), while its counts go on. A request body is at most
1 MiB (413 beyond), its header 64 KiB; a connection idle for 60s closes.

The fake's root is an inbox, a web page (http://127.0.0.1:8787/ by default):
every notification, newest first, each message as its channel shows it (an
email, an SMS on a phone, a push card, a chat message), live, with its
timeline, the request that made it and its webhook deliveries, and buttons
for the controls below. Nothing a payload or a template holds runs in it,
and it shows neither the API key nor the webhook secret. On loopback the
page and the controls answer only to a loopback Host (localhost, 127.0.0.1,
[::1]: against DNS rebinding), and refuse what another site's page in the
browser sends (an Origin or Sec-Fetch-Site of another origin, 403; a POST
body that is not application/json, 415).

Control endpoints, plain JSON under /_fake/ and without the key (so listen on
loopback, or inside a test network only):
  GET  /_fake/health                       GET  /_fake/notifications[?event=E]
  GET  /_fake/notifications/{id}           POST /_fake/notifications/{id}/advance
  POST /_fake/notifications/{id}/deliver   POST /_fake/notifications/{id}/complete
  POST /_fake/notifications/{id}/fail      {"error":"mailbox full"}, and
                                           "status":"suppressed" to suppress it
  POST /_fake/advance                      GET  /_fake/requests[?endpoint=send]
  GET  /_fake/faults                       POST /_fake/faults  {"kind":"status","status":503,
                                             "count":2,"retry_after":"1","endpoint":"send"}
  POST /_fake/reset                        GET  /_fake/webhooks/deliveries[?type=T]
  POST /_fake/webhooks/wait  {"timeout":"5s"}: until no webhook is in flight
An error answers {"error","code"}: 400 INVALID_REQUEST, 403 FORBIDDEN,
404 NOT_FOUND, 405 METHOD_NOT_ALLOWED, 409 TERMINAL, NO_MESSAGE_IN_FLIGHT or
TOO_MANY_FAULTS, 413 TOO_LARGE, 415 UNSUPPORTED_MEDIA_TYPE, 504 TIMEOUT;
500 INTERNAL is a bug in the fake.

Exit codes: 0 stopped by SIGINT or SIGTERM, 1 cannot listen on --addr,
2 bad flag or --config.`

const fakeExample = `  sendivent fake
  sendivent fake --addr 127.0.0.1:9000 --event welcome --event otp=sms
  sendivent fake --manual --event drip=email,wait:1h,sms
  sendivent fake --config fake.json --addr 0.0.0.0:8787     # in a container
  sendivent fake --webhook http://127.0.0.1:3000/webhooks --webhook-secret whsec_test
  curl -s -X POST localhost:8787/_fake/notifications/$ID/advance`

func newFakeCmd(a *app) *cobra.Command {
	var f fakeFlags
	cmd := &cobra.Command{
		Use:     "fake",
		Short:   "Serve a fake Sendivent on a port, for tests in any language",
		Long:    fakeLong + "\n" + fakeTemplatesHelp,
		Example: fakeExample,
		Args:    exactArgs(),
	}
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", "127.0.0.1:8787", "listen on `ADDRESS` (0.0.0.0:8787 inside a container)")
	fs.StringVar(&f.apiKey, "api-key", defaultFakeKey, "accept `KEY` as the API key (a fake's key, not a secret)")
	fs.StringArrayVar(&f.events, "event", nil, "declare `EVENT`: NAME or NAME=STEP,STEP… (repeatable)")
	fs.StringVar(&f.config, "config", "", "read events from a JSON `FILE`")
	fs.StringVar(&f.catalog, "catalog", "", "declare the events of the catalogue in `DIR` (sendivent events pull), and render their templates")
	fs.BoolVar(&f.strict, "strict", false, "answer 422 to a send whose message a template cannot render (a variable missing): the fake's own behaviour, not the service's")
	fs.BoolVar(&f.manual, "manual", false, "manual lifecycle: notifications stay at their first step until moved through /_fake/")
	fs.DurationVar(&f.stepDelay, "step-delay", sendiventtest.DefaultStepDelay, "real time one automatic lifecycle step takes (queued→sent, sent→delivered)")
	fs.Float64Var(&f.timeScale, "time-scale", 1, "how many times faster than real time wait:DURATION steps and webhook retries pass")
	fs.StringVar(&f.webhook, "webhook", "", "POST signed webhook events to `URL`, the application's endpoint")
	fs.StringVar(&f.webhookSecret, "webhook-secret", "", "sign webhooks with `SECRET` (default: a fresh whsec_… one, printed)")
	fs.IntVar(&f.retention, "retention", sendiventtest.DefaultRetention, "keep the newest `N` requests, notifications, contacts and webhook attempts (0: keep all, unbounded)")
	fs.BoolVar(&f.json, "json", false, `print {"url", "api_key"} (and "webhook_url", "webhook_secret") as one JSON line at start`)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		a.ran = true
		if strings.HasPrefix(f.apiKey, "live_") {
			return usagef("--api-key: the fake prints and records its key: give it a key that is not a live_ one")
		}
		a.scrub.allow(f.apiKey)        // printed on purpose: the key that the fake accepts
		a.scrub.allow(f.webhookSecret) // and the secret it signs with
		return a.serveFake(cmd.Context(), f)
	}
	return cmd
}

// options turns the flags into the fake's options.
func (f *fakeFlags) options(ctx context.Context) ([]sendiventtest.Option, error) {
	if f.apiKey == "" || strings.ContainsAny(f.apiKey, " \t\r\n") {
		return nil, usagef("--api-key: want a key without white space")
	}
	if f.stepDelay < 0 || f.timeScale <= 0 {
		return nil, usagef("--step-delay must be 0 or more and --time-scale more than 0")
	}
	if f.retention < 0 {
		return nil, usagef("--retention must be 0 (keep all) or more")
	}
	opts := []sendiventtest.Option{
		sendiventtest.WithAPIKey(f.apiKey),
		sendiventtest.WithStepDelay(f.stepDelay),
		sendiventtest.WithTimeScale(f.timeScale),
		sendiventtest.WithRetention(f.retention),
	}
	if f.manual {
		opts = append(opts, sendiventtest.WithManualLifecycle())
	}
	switch {
	case f.webhook != "":
		if msg := checkWebhookFlags(f.webhook, f.webhookSecret); msg != "" {
			return nil, usagef("%s", msg)
		}
		opts = append(opts, sendiventtest.WithWebhook(f.webhook, f.webhookSecret))
	case f.webhookSecret != "":
		return nil, usagef("--webhook-secret needs --webhook URL")
	}
	// Every fake renders the templates its events have (fake_templates.go).
	topts, err := f.templateOptions()
	if err != nil {
		return nil, err
	}
	opts = append(opts, topts...)
	var events []sendiventtest.EventConfig
	if f.config != "" {
		in, err := readFile(ctx, "--config", f.config)
		if err != nil {
			return nil, err
		}
		var cfg fakeConfig
		if err := decodeStrict(in, &cfg); err != nil {
			return nil, err
		}
		events = append(events, cfg.Events...)
	}
	for _, s := range f.events {
		e, err := sendiventtest.ParseEvent(s)
		if err != nil {
			return nil, usagef("--event: %s", strings.TrimPrefix(err.Error(), "sendiventtest: "))
		}
		events = append(events, e)
	}
	if len(events) > 0 {
		opts = append(opts, sendiventtest.WithEvents(events...))
	}
	return opts, nil
}

// serveFake runs the fake on f.addr until ctx ends, then closes it: the
// listener closes, requests in flight finish, and it returns nil.
func (a *app) serveFake(ctx context.Context, f fakeFlags) error {
	opts, err := f.options(ctx)
	if err != nil {
		return err
	}
	srv, err := listenFake(f.addr, opts)
	if err != nil {
		return err
	}
	hook, hasHook := srv.Webhook()
	if f.json {
		start := map[string]string{"url": srv.URL, "api_key": f.apiKey}
		if hasHook {
			start["webhook_url"], start["webhook_secret"] = hook.URL, string(hook.SigningSecret)
		}
		writeJSON(a.stdout, start)
	} else {
		fmt.Fprintf(a.stdout, "sendivent fake: listening on %s\n", srv.URL)
		fmt.Fprintf(a.stdout, "API key: %s (a fake's key, not a secret)\n", f.apiKey)
		fmt.Fprintf(a.stdout, "  export SENDIVENT_API_URL=%s SENDIVENT_API_KEY=%s\n", srv.URL, f.apiKey)
		if hasHook {
			fmt.Fprintf(a.stdout, "Webhooks: POST to %s, signed with %s (a fake's secret, not a real one)\n",
				hook.URL, string(hook.SigningSecret))
		}
		fmt.Fprintf(a.stdout, "Control endpoints under %s/_fake/ (see --help). Stop with Ctrl-C.\n", srv.URL)
	}
	<-ctx.Done()
	srv.Close()
	if !f.json {
		fmt.Fprintf(a.stdout, "sendivent fake: stopped after %d requests\n", srv.Stats().Requests)
	}
	return nil
}

// checkWebhookFlags says what is wrong with --webhook and --webhook-secret,
// or "", before the fake is made (whose own check panics).
func checkWebhookFlags(raw, secret string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "--webhook: want an absolute http or https URL, such as http://127.0.0.1:3000/webhooks"
	}
	if strings.ContainsFunc(secret, unicode.IsSpace) || strings.ContainsFunc(secret, unicode.IsControl) {
		return "--webhook-secret: want a secret without white space or control characters"
	}
	return ""
}

// listenFake starts the fake. NewServer panics when it cannot listen (a
// test wants that); a command wants an error.
func listenFake(addr string, opts []sendiventtest.Option) (srv *sendiventtest.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("--addr %s: %s", addr, strings.TrimPrefix(fmt.Sprint(r), "sendiventtest: "))
		}
	}()
	return sendiventtest.NewServer(append(opts, sendiventtest.WithAddr(addr))...), nil
}
