package inboxtest

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sendivent/sendivent-go"
)

// trap is a server that hostile content would call if it ran: each
// script below sets window.__pwned in the page it runs in, and loads
// TRAP/pwned?WHERE, which the trap counts.
type trap struct {
	*httptest.Server
	mu   sync.Mutex
	hits []string // the query of each /pwned request
	seen int      // requests for /shown.png: the email's frame was drawn
}

func newTrap(t *testing.T) *trap {
	tr := &trap{}
	tr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		switch r.URL.Path {
		case "/pwned":
			tr.hits = append(tr.hits, r.URL.RawQuery)
		case "/shown.png":
			tr.seen++
		case "/canary":
			// The same kinds of script, on a page that does not stop them:
			// they reach the trap, so the trap would see those above.
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(strings.ReplaceAll(`<p>canary</p>`+scriptTag("canary-script")+imgTag("canary-onerror"), "TRAP", tr.URL)))
		}
	}))
	t.Cleanup(tr.Close)
	return tr
}

func (tr *trap) state() (hits []string, seen int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return append([]string(nil), tr.hits...), tr.seen
}

// The hostile pieces, each naming where it is so that a hit says which
// ran. TRAP stands for the trap's URL.
func scriptTag(where string) string {
	return `<script>window.__pwned='` + where + `';new Image().src='TRAP/pwned?` + where + `'</script>`
}

func imgTag(where string) string {
	return `<img src="x" onerror="window.__pwned='` + where + `';new Image().src='TRAP/pwned?` + where + `'">`
}

func jsLink(where string) string {
	return `javascript:window.__pwned='` + where + `';new Image().src='TRAP/pwned?` + where + `'`
}

// hostileCatalog is a catalogue whose templates hold script in every part
// of every kind of channel, and which print the payload raw ({{{raw}}}).
func hostileCatalog(t *testing.T, trapURL string) string {
	t.Helper()
	files := map[string]string{
		"hostile-email.event": "steps: email\n\n" +
			"=== email subject ===\n" + scriptTag("email-subject") + "{{name}}\n" +
			"=== email html ===\n" +
			`<p id="hello">Hello {{name}}</p><img src="TRAP/shown.png" alt="">` +
			scriptTag("email-script") + imgTag("email-onerror") +
			`<a id="link" href="` + jsLink("email-js-link") + `">a javascript: link</a>` +
			`<svg onload="new Image().src='TRAP/pwned?email-svg'"></svg>` +
			`<iframe src="` + jsLink("email-iframe") + `"></iframe>` +
			`<meta http-equiv="refresh" content="0;url=` + jsLink("email-refresh") + `">` +
			`<form action="/_fake/reset" method="post"><button id="reset-form">x</button></form>` +
			"{{{raw}}}\n" +
			"=== email text ===\n" + scriptTag("email-text") + "{{name}}\n",
		"hostile-sms.event":   "steps: sms\n\n=== sms text ===\n" + imgTag("sms") + " {{name}} " + jsLink("sms-link") + "\n",
		"hostile-push.event":  "steps: push\n\n=== push title ===\n" + scriptTag("push-title") + "\n=== push body ===\n<b onmouseover=\"window.__pwned='push-body'\">{{{raw}}}</b>\n",
		"hostile-slack.event": "steps: slack\n\n=== slack text ===\n<" + jsLink("slack") + "|click> {{{raw}}}\n",
	}
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(strings.ReplaceAll(body, "TRAP", trapURL)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A payload or a template holding <script>, an onerror attribute or a
// javascript: link runs nothing in the inbox: no flag set in the page, no
// request to the trap, in every channel's view and in the details; while
// the same pieces on a page of their own do reach the trap.
func TestInboxHostileContentRunsNothing(t *testing.T) {
	t.Parallel()
	tr := newTrap(t)
	f := startFake(t, "--catalog", hostileCatalog(t, tr.URL), "--event", "plain=email,slack")
	ctx := tab(t)
	openInbox(t, ctx, f)
	c := f.client(t)
	payload := sendivent.Payload{
		"name": strings.ReplaceAll(scriptTag("payload-name"), "TRAP", tr.URL),
		"raw":  strings.ReplaceAll(imgTag("payload-raw")+scriptTag("payload-raw-script"), "TRAP", tr.URL),
		"link": strings.ReplaceAll(jsLink("payload-link"), "TRAP", tr.URL),
		strings.ReplaceAll(imgTag("payload-key"), "TRAP", tr.URL): "a key of HTML",
	}
	name := strings.ReplaceAll(imgTag("recipient-name"), "TRAP", tr.URL)
	ids := []string{
		send(t, c, "hostile-email", sendivent.Contact{Email: "ada@example.com", Name: name}, payload),
		send(t, c, "hostile-sms", sendivent.Address("+46701234567"), payload),
		send(t, c, "hostile-push", sendivent.Contact{Name: name, PushTokens: []string{"tok"}}, payload),
		send(t, c, "hostile-slack", sendivent.Address("#general"), payload),
		send(t, c, "plain", sendivent.Contact{Email: "bob@example.com", Name: name}, payload),
		send(t, c, "plain", sendivent.Address("#random"), payload),
	}
	for _, id := range ids {
		until(t, ctx, bound, `document.querySelector('`+card(id)+`')?.dataset.status === 'completed'`, "shown, completed")
		// A click from the page's script: the cards above may still move.
		eval[chromedp.Void](t, ctx, `document.querySelector('`+card(id)+` button[data-action="details"]').click()`)
		until(t, ctx, bound, `document.querySelector('`+card(id)+` .detail .timeline li') !== null`, "the details open")
	}
	// The payload and the templates are shown, as text.
	text := eval[string](t, ctx, `document.body.innerText`)
	for _, want := range []string{"<script>window.__pwned='payload-name'", "javascript:window.__pwned='payload-link'", `onerror="window.__pwned='sms'`} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not show %q as text", want)
		}
	}
	// Click every link that is not a web address (the page makes none).
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`for (const a of document.querySelectorAll('a')) if (!/^https?:/.test(a.href)) a.click()`))
	// The email's frame was drawn: its image came.
	deadline := time.Now().Add(bound)
	for _, seen := tr.state(); seen == 0; _, seen = tr.state() {
		if time.Now().After(deadline) {
			t.Fatal("the email's frame never drew its body")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // what would run has had its time (onerror fires on load)

	if flag := eval[string](t, ctx, `String(window.__pwned)`); flag != "undefined" {
		t.Errorf("window.__pwned = %q: hostile content ran in the page", flag)
	}
	if hits, _ := tr.state(); len(hits) > 0 {
		t.Errorf("hostile content ran: %q", hits)
	}
	checks := map[string]string{
		"a script element besides the page's":   `document.scripts.length !== 1`,
		"an on… attribute":                      `[...document.querySelectorAll('*')].some(e => [...e.attributes].some(a => a.name.startsWith('on')))`,
		"a javascript: link":                    `[...document.querySelectorAll('[href],[src]')].some(e => /^\s*javascript:/i.test(e.getAttribute('href') || e.getAttribute('src')))`,
		"an email frame that may run script":    `[...document.querySelectorAll('iframe')].some(f => f.getAttribute('sandbox') !== '')`,
		"an element made from the payload HTML": `document.querySelector('#hello, #link, #reset-form, svg') !== null`,
	}
	for what, expr := range checks {
		if eval[bool](t, ctx, expr) {
			t.Errorf("the page has %s", what)
		}
	}
	if n := eval[int](t, ctx, `document.querySelectorAll('#list > article').length`); n != len(ids) {
		t.Errorf("%d cards, want %d: the fake was driven", n, len(ids))
	}

	// The detector works: the same pieces on a page that lets them run
	// reach the trap.
	canary := tab(t)
	do(t, canary, chromedp.Navigate(tr.URL+"/canary"))
	deadline = time.Now().Add(bound)
	for {
		hits, _ := tr.state()
		if strings.Contains(strings.Join(hits, ","), "canary-script") && strings.Contains(strings.Join(hits, ","), "canary-onerror") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the canary's scripts never reached the trap: %q", hits)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if flag := eval[string](t, canary, `String(window.__pwned)`); flag == "undefined" {
		t.Errorf("the canary set no flag")
	}
}
