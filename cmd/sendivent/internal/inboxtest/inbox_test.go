package inboxtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sendivent/sendivent-go"
)

// do runs actions in the tab, failing the test on an error.
func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// eval evaluates expr in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// until waits, up to d, for expr to be true in the page.
func until(t *testing.T, ctx context.Context, d time.Duration, expr, what string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(d))); err != nil {
		t.Fatalf("%s, within %v: %v", what, d, err)
	}
}

// card is the CSS selector of a notification's card.
func card(id string) string { return `article.notif[data-id="` + id + `"]` }

// openInbox loads the inbox and waits until its event stream is live.
func openInbox(t *testing.T, ctx context.Context, f fake) {
	t.Helper()
	do(t, ctx, chromedp.Navigate(f.URL+"/"))
	until(t, ctx, bound, `document.querySelector('#live.on') !== null`, "the inbox is live")
}

func send(t *testing.T, c *sendivent.Client, event string, to sendivent.Recipient, payload sendivent.Payload) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	res, err := c.Event(event).To(to).Payload(payload).Send(ctx)
	if err != nil {
		t.Fatalf("send %s: %v", event, err)
	}
	return res.ID
}

// The page lists a notification sent through the SDK; a second send
// appears without a reload, on top, within a second; and a change of
// status made elsewhere shows.
func TestInboxShowsSendsLive(t *testing.T) {
	t.Parallel()
	f := startFake(t, "--event", "welcome", "--step-delay", "300ms")
	ctx := tab(t)
	openInbox(t, ctx, f)
	eval[chromedp.Void](t, ctx, `window.__sameLoad = 'yes'`)
	c := f.client(t)

	first := send(t, c, "welcome", sendivent.Contact{Email: "alice@example.com", Name: "Alice Example"}, sendivent.Payload{"company": "ACME"})
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(card(first))))
	text := eval[string](t, ctx, `document.querySelector('`+card(first)+`').innerText`)
	for _, want := range []string{"welcome", "Alice Example <alice@example.com>", "Example App <noreply@example.com>", "company", "ACME"} {
		if !strings.Contains(text, want) {
			t.Errorf("the card lacks %q:\n%s", want, text)
		}
	}

	start := time.Now()
	second := send(t, c, "welcome", sendivent.Address("bob@example.com"), nil)
	until(t, ctx, 10*time.Second, `document.querySelector('#list > article').dataset.id === '`+second+`'`, "the second send on top")
	took := time.Since(start)
	t.Logf("the second send appeared after %v", took)
	if took > 5*time.Second { // a second on an idle machine; generous on a loaded one
		t.Errorf("the second send appeared after %v", took)
	}
	if got := eval[string](t, ctx, `String(window.__sameLoad)`); got != "yes" {
		t.Errorf("the page was reloaded")
	}
	// The automatic lifecycle moves each message: the page follows.
	until(t, ctx, bound, `document.querySelector('`+card(first)+`').dataset.status === 'completed'`, "the first completed, live")
	if n := eval[int](t, ctx, `document.querySelectorAll('#list > article').length`); n != 2 {
		t.Errorf("%d cards, want 2", n)
	}
}

// Pressing "fail" on a message moves its status on the page and in GET
// /v1/notifications/{id}; a change made by another program through the
// controls shows at once.
func TestInboxFailButton(t *testing.T) {
	t.Parallel()
	f := startFake(t, "--manual", "--event", "welcome")
	ctx := tab(t)
	openInbox(t, ctx, f)
	c := f.client(t)
	id := send(t, c, "welcome", sendivent.Address("alice@example.com"), nil)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(card(id))))
	msg := `document.querySelector('` + card(id) + ` .message')`

	controlPOST(t, f, "/_fake/notifications/"+id+"/advance", "")
	until(t, ctx, 10*time.Second, msg+`.dataset.status === 'sent'`, "a change made elsewhere shows")

	do(t, ctx, chromedp.Click(chromedp.CSS(card(id)+` .message button[data-action="fail"]`)))
	until(t, ctx, 10*time.Second, `document.querySelector('`+card(id)+`').dataset.status === 'failed' && `+msg+`.dataset.status === 'failed'`,
		"failed on the page")
	gctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	n, err := c.GetNotification(gctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != sendivent.StatusFailed || n.Messages[0].Status != sendivent.MessageFailed || n.Messages[0].Error != "failed from the inbox" {
		t.Errorf("GET /v1/notifications/%s: %s, message %s %q", id, n.Status, n.Messages[0].Status, n.Messages[0].Error)
	}
	if eval[bool](t, ctx, `document.querySelector('`+card(id)+` button[data-action]:not([data-action="details"])') !== null`) {
		t.Errorf("a failed notification still has controls")
	}

	// "Suppress" is the same control with "status":"suppressed".
	other := send(t, c, "welcome", sendivent.Address("bob@example.com"), nil)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(card(other))))
	do(t, ctx, chromedp.Click(chromedp.CSS(card(other)+` .message button[data-action="suppress"]`)))
	until(t, ctx, 10*time.Second, `document.querySelector('`+card(other)+` .message').dataset.status === 'suppressed'`, "suppressed on the page")
	n, err = c.GetNotification(gctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if n.Status != sendivent.StatusFailed || n.Messages[0].Status != sendivent.MessageSuppressed {
		t.Errorf("GET /v1/notifications/%s: %s, message %s", other, n.Status, n.Messages[0].Status)
	}
}

// controlPOST calls a control endpoint as a program does.
func controlPOST(t *testing.T, f fake, path, body string) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: bound}).Post(f.URL+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// The other buttons: advance, deliver and complete a notification; the
// next send's fault (503, 429 with Retry-After, a dropped connection);
// reset.
func TestInboxControls(t *testing.T) {
	t.Parallel()
	f := startFake(t, "--manual", "--event", "drip=email,wait:1h,sms")
	ctx := tab(t)
	openInbox(t, ctx, f)
	c := f.client(t, sendivent.WithMaxRetries(0))
	id := send(t, c, "drip", sendivent.Contact{Email: "a@example.com", Phone: "+46701234567"}, nil)
	do(t, ctx, chromedp.WaitVisible(chromedp.CSS(card(id))))
	click := func(action string) {
		t.Helper()
		do(t, ctx, chromedp.Click(chromedp.CSS(card(id)+` button[data-action="`+action+`"]`)))
	}
	status := func(want string) {
		t.Helper()
		until(t, ctx, 10*time.Second, `document.querySelector('`+card(id)+`').dataset.status === '`+want+`'`, "status "+want)
	}
	click("advance")
	until(t, ctx, 10*time.Second, `document.querySelector('`+card(id)+` .message').dataset.status === 'sent'`, "advanced")
	click("deliver")
	status("waiting")
	click("advance")
	until(t, ctx, 10*time.Second, `document.querySelectorAll('`+card(id)+` .message').length === 2`, "the SMS step")
	click("complete")
	status("completed")

	for i, fault := range []string{"503", "429", "drop"} {
		do(t, ctx, chromedp.Click(chromedp.CSS(`button[data-fault="`+fault+`"]`)))
		// One at a time: the page's POSTs are not ordered among themselves.
		until(t, ctx, 10*time.Second, fmt.Sprintf(`document.querySelectorAll('#faults .fault').length === %d`, i+1), "the fault queued, shown")
	}
	sctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	var apiErr *sendivent.APIError
	_, err := c.Event("drip").To(sendivent.Address("b@example.com")).Send(sctx)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Errorf("the next send after 503: %v", err)
	}
	_, err = c.Event("drip").To(sendivent.Address("b@example.com")).Send(sctx)
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 429 || apiErr.RetryAfter != 5*time.Second {
		t.Errorf("the next send after 429: %v", err)
	}
	// The drop commits the send, then cuts the connection: the send is
	// made once (Go's transport resends an idempotent request on a cut
	// connection, and gets the replay), and shows.
	_, _ = c.Event("drip").To(sendivent.Address("b@example.com")).Send(sctx)
	until(t, ctx, 10*time.Second, `document.querySelectorAll('#list > article').length === 2 && document.querySelectorAll('#faults .fault').length === 0`,
		"the dropped send was committed, and shows; no fault queued")

	do(t, ctx, chromedp.Click(chromedp.CSS(`#reset`)))
	until(t, ctx, 10*time.Second, `document.querySelectorAll('#list > article').length === 0 && !document.querySelector('#empty').hidden`, "reset")
}
