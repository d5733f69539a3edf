package inboxtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sendivent/sendivent-go"
)

// The page holds no API key and no webhook secret: not in its DOM, not in
// a body it fetched, not in its event stream; even when the application
// put them in a payload.
func TestInboxHoldsNoKey(t *testing.T) {
	t.Parallel()
	const (
		key    = "test_browserkey_5f2c9e7a41d8b306"
		secret = "whsec_browsersecret_8c1e4b7d2a9f"
	)
	hook := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(hook.Close)
	f := startFake(t, "--api-key", key, "--webhook", hook.URL+"/hooks", "--webhook-secret", secret, "--event", "welcome")
	ctx := tab(t)

	// Every body the page fetched, and every message of its stream.
	var (
		mu       sync.Mutex
		bodies   []string
		messages []string
	)
	responses := chromedp.Events(ctx, network.LoadingFinished)
	stream := chromedp.Events(ctx, network.EventSourceMessageReceived)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for ev, err := range responses {
			if err != nil {
				return
			}
			if res, err := chromedp.Call(ctx, network.GetResponseBody, network.GetResponseBodyParams{RequestID: ev.RequestID}); err == nil {
				mu.Lock()
				bodies = append(bodies, string(res.Body))
				mu.Unlock()
			}
		}
	}()
	go func() {
		defer wg.Done()
		for ev, err := range stream {
			if err != nil {
				return
			}
			mu.Lock()
			messages = append(messages, ev.Data)
			mu.Unlock()
		}
	}()

	openInbox(t, ctx, f)
	c := f.client(t)
	id := send(t, c, "welcome", sendivent.Contact{Email: "ada@example.com", Name: "Ada"},
		sendivent.Payload{"note": "the key is " + key, "secret": secret})
	wctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	if _, err := c.Wait(wctx, id, sendivent.PollEvery(20*time.Millisecond, 100*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	until(t, ctx, bound, `document.querySelector('`+card(id)+`')?.dataset.status === 'completed'`, "completed")
	eval[chromedp.Void](t, ctx, `document.querySelector('`+card(id)+` button[data-action="details"]').click()`)
	until(t, ctx, bound, `document.querySelectorAll('`+card(id)+` .deliveries tr').length >= 3`, "the details, with the webhook deliveries")
	dom := eval[string](t, ctx, `document.documentElement.outerHTML`)

	// The answers of the page's fetches reach the events a little after
	// the page has used them.
	deadline := time.Now().Add(bound)
	for {
		mu.Lock()
		done := len(messages) > 0 && strings.Contains(strings.Join(bodies, "\n"), `"deliveries":[{`)
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the page's fetches and stream were not seen: %d bodies, %d messages", len(bodies), len(messages))
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	seen := map[string][]string{"the DOM": {dom}, "a fetched body": bodies, "the stream": messages}
	mu.Unlock()
	for where, texts := range seen {
		for _, text := range texts {
			for _, s := range []string{key, secret, key[5:20], secret[6:21]} {
				if strings.Contains(text, s) {
					t.Errorf("%s holds %q: %.300s", where, s, text)
				}
			}
		}
	}
	if !strings.Contains(dom, "the key is [redacted]") {
		t.Errorf("the payload's key is not shown redacted")
	}
	t.Logf("searched the DOM, %d bodies and %d stream messages", len(bodies), len(messages))
	cancelTab(ctx)
	wg.Wait()
}

// cancelTab closes the tab of ctx, ending its event iterators.
func cancelTab(ctx context.Context) {
	_ = chromedp.Cancel(ctx)
}
