package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/sendivent/sendivent-go/webhook"
)

// hookReceiver is an application's webhook endpoint on a real loopback
// port: it checks each delivery with webhook.Verify and keeps the events
// that pass; one that fails is answered 400 and counted.
type hookReceiver struct {
	srv *httptest.Server

	mu       sync.Mutex
	secret   string
	events   []*webhook.Event
	rejected int
	changed  chan struct{} // closed and replaced on every delivery
}

func newHookReceiver(secret string) *hookReceiver {
	h := &hookReceiver{secret: secret, changed: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	return h
}

func (h *hookReceiver) url() string { return h.srv.URL + "/hook" }

func (h *hookReceiver) setSecret(s string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.secret = s
}

func (h *hookReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	h.mu.Lock()
	defer h.mu.Unlock()
	defer func() { close(h.changed); h.changed = make(chan struct{}) }()
	var ev *webhook.Event
	if err == nil && r.URL.Path == "/hook" {
		ev, err = webhook.Verify(body, r.Header, h.secret)
	}
	if err != nil || ev == nil {
		h.rejected++
		http.Error(w, fmt.Sprint(err), http.StatusBadRequest)
		return
	}
	h.events = append(h.events, ev)
}

// wait waits until cond holds of the events verified and the count of
// deliveries rejected, or fails after bound.
func (h *hookReceiver) wait(cond func(events []*webhook.Event, rejected int) bool) ([]*webhook.Event, int, error) {
	deadline := time.After(bound)
	for {
		h.mu.Lock()
		events, rejected, changed := append([]*webhook.Event(nil), h.events...), h.rejected, h.changed
		h.mu.Unlock()
		if cond(events, rejected) {
			return events, rejected, nil
		}
		select {
		case <-changed:
		case <-deadline:
			return events, rejected, fmt.Errorf("after %v: %d events verified, %d rejected", bound, len(events), rejected)
		}
	}
}

// The fake started with --webhook delivers events signed with the secret
// it prints, over the network, to a receiver that checks them as an
// application would; a receiver with another secret rejects every one.
func TestFakeWebhookDelivers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		secretFlag string // "" lets the fake make one
		recvSecret string // "" uses the one the fake printed
		wantOK     bool
	}{
		{name: "given secret", secretFlag: "whsec_x", recvSecret: "whsec_x", wantOK: true},
		{name: "made secret", wantOK: true},
		{name: "wrong secret", secretFlag: "whsec_x", recvSecret: "whsec_other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recv := newHookReceiver(tt.recvSecret)
			defer recv.srv.Close()
			args := []string{"--event", "welcome", "--webhook", recv.url(), "--time-scale", "1000"}
			if tt.secretFlag != "" {
				args = append(args, "--webhook-secret", tt.secretFlag)
			}
			url, out, stop := startFake(t, args...)
			m := regexp.MustCompile(`(?m)^Webhooks: POST to (\S+), signed with (whsec_[0-9a-zA-Z_]+) \(a fake's secret, not a real one\)$`).FindStringSubmatch(out.String())
			if m == nil {
				t.Fatalf("no webhook line at start:\n%s", out.String())
			}
			if m[1] != recv.url() || (tt.secretFlag != "" && m[2] != tt.secretFlag) {
				t.Fatalf("start line names %s, %s; want %s, %q", m[1], m[2], recv.url(), tt.secretFlag)
			}
			if tt.recvSecret == "" {
				recv.setSecret(m[2])
			}

			sendWelcome(t, url)

			if !tt.wantOK {
				// Each event is tried 4 times, and every try is rejected.
				events, rejected, err := recv.wait(func(e []*webhook.Event, r int) bool { return r >= 8 })
				if err != nil || len(events) != 0 {
					t.Fatalf("%v; verified %d events with the wrong secret", err, len(events))
				}
				if n := webhookAttempts(t, url); n != rejected {
					t.Errorf("the fake made %d attempts, the receiver rejected %d", n, rejected)
				}
				return
			}
			events, rejected, err := recv.wait(func(e []*webhook.Event, _ int) bool { return len(e) >= 2 })
			if err != nil {
				t.Fatal(err)
			}
			if rejected != 0 || len(events) != 2 {
				t.Fatalf("%d verified, %d rejected; want 2 and 0", len(events), rejected)
			}
			for i, typ := range []webhook.EventType{webhook.DeliverySent, webhook.DeliveryDelivered} {
				d := events[i].Delivery
				if events[i].Type != typ || d.EventName != "welcome" || d.Channel != "email" || d.UUID == "" || events[i].WebhookID == "" {
					t.Errorf("event %d: %s %+v, want %s of welcome by email", i, events[i].Type, d, typ)
				}
			}
			if code := stop(); code != exitOK {
				t.Errorf("exit %d", code)
			}
		})
	}
}

// webhookAttempts counts the attempts the fake at url lists at
// /_fake/webhooks/deliveries, once none is in flight.
func webhookAttempts(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Post(url+"/_fake/webhooks/wait", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = http.Get(url + "/_fake/webhooks/deliveries")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Deliveries []struct{ Status int } `json:"deliveries"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	for _, d := range list.Deliveries {
		if d.Status != http.StatusBadRequest {
			t.Errorf("attempt answered %d, want 400", d.Status)
		}
	}
	return len(list.Deliveries)
}

// hookKey keys the script's *hookReceiver in testscript's values.
type hookKey struct{}

// hookserver SECRET VAR starts a webhook receiver in the test process, on
// a loopback port, that verifies deliveries with SECRET; $VAR is its URL.
// hookwait N waits until N events passed, and prints "TYPE CHANNEL EVENT"
// for each.
func cmdHookServer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: hookserver SECRET VAR")
	}
	h := newHookReceiver(args[0])
	ts.Defer(h.srv.Close)
	ts.Value(hookKey{}).(*hookHolder).recv = h
	ts.Setenv(args[1], h.url())
}

func cmdHookWait(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: hookwait N")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	h := ts.Value(hookKey{}).(*hookHolder).recv
	if h == nil {
		ts.Fatalf("hookwait: no hookserver")
	}
	events, rejected, err := h.wait(func(e []*webhook.Event, _ int) bool { return len(e) >= n })
	ts.Check(err)
	if rejected > 0 {
		ts.Fatalf("hookwait: %d deliveries failed verification", rejected)
	}
	for _, ev := range events {
		fmt.Fprintf(ts.Stdout(), "%s %s %s\n", ev.Type, ev.Delivery.Channel, ev.Delivery.EventName)
	}
}

// hookHolder holds a script's receiver, once hookserver has started it.
type hookHolder struct{ recv *hookReceiver }
