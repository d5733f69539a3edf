package sendiventtest_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// The inbox page's data, through HTTP as the page reads it. Its security
// (the guard, the policies) is in inbox_guard_test.go, its stream in
// inbox_stream_test.go; the page itself runs in a real browser in the
// module cmd/sendivent/internal/inboxtest.

// inboxBound is how long a test waits for what must happen: generous, for
// a loaded machine.
const inboxBound = 20 * time.Second

// get GETs path from srv as the page does and returns the answer.
func get(t *testing.T, srv *sendiventtest.Server, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := (&http.Client{Timeout: inboxBound}).Get(srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

// getJSON GETs path, requires a 200 and decodes the answer into v.
func getJSON(t *testing.T, srv *sendiventtest.Server, path string, v any) []byte {
	t.Helper()
	resp, body := get(t, srv, path)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, body)
	require.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	require.NoError(t, json.Unmarshal(body, v), "%s", body)
	return body
}

// post POSTs a JSON body to path, as the page's controls do.
func post(t *testing.T, srv *sendiventtest.Server, path, body string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: inboxBound}).Post(srv.URL+path, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

type pageJSON struct {
	Epoch         string     `json:"epoch"`
	Version       uint64     `json:"version"`
	Held          int        `json:"held"`
	Created       int        `json:"created"`
	Oldest        uint64     `json:"oldest"`
	Older         uint64     `json:"older"`
	Notifications []viewJSON `json:"notifications"`
}

type viewJSON struct {
	ID           string            `json:"id"`
	Seq          uint64            `json:"seq"`
	Rev          uint64            `json:"rev"`
	Event        string            `json:"event"`
	Title        string            `json:"title"`
	Status       string            `json:"status"`
	Recipient    map[string]any    `json:"recipient"`
	Payload      map[string]any    `json:"payload"`
	PayloadBytes int               `json:"payload_bytes"`
	Actions      []string          `json:"actions"`
	Messages     []messageJSON     `json:"messages"`
	Pending      []string          `json:"pending"`
	Timeline     []json.RawMessage `json:"timeline"`
	Request      *struct {
		Method         string              `json:"method"`
		Path           string              `json:"path"`
		Status         int                 `json:"status"`
		RequestID      string              `json:"request_id"`
		IdempotencyKey string              `json:"idempotency_key"`
		Header         map[string][]string `json:"headers"`
		Body           map[string]any      `json:"body"`
	} `json:"request"`
	Deliveries []struct {
		Type    string `json:"type"`
		Attempt int    `json:"attempt"`
		Status  int    `json:"status"`
	} `json:"deliveries"`
}

type messageJSON struct {
	ID       string   `json:"id"`
	Channel  string   `json:"channel"`
	Status   string   `json:"status"`
	Error    string   `json:"error"`
	Current  bool     `json:"current"`
	From     string   `json:"from"`
	To       string   `json:"to"`
	Rendered bool     `json:"rendered"`
	Subject  string   `json:"subject"`
	Text     string   `json:"text"`
	Title    string   `json:"title"`
	Body     string   `json:"body"`
	HTML     bool     `json:"html"`
	Problems []string `json:"problems"`
}

// sendTo sends event to each recipient, through the SDK.
func sendTo(t *testing.T, c *sendivent.Client, event string, to sendivent.Recipient, payload sendivent.Payload) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), inboxBound)
	defer cancel()
	res, err := c.Event(event).To(to).Payload(payload).Send(ctx)
	require.NoError(t, err)
	return res.ID
}

// The page's list is the newest notifications first, a page at a time,
// each with its event, recipient, status and messages; a cursor walks to
// the oldest.
func TestInboxListsNewestFirstInPages(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	c := srv.Client()
	var ids []string
	for i := range 120 {
		ids = append(ids, sendTo(t, c, "welcome", sendivent.Address(fmt.Sprintf("u%d@example.com", i)), sendivent.Payload{"i": i}))
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 5, "the pages do not end")
		var p pageJSON
		getJSON(t, srv, "/_inbox/notifications"+cursor, &p)
		assert.Equal(t, 120, p.Held)
		assert.Equal(t, 120, p.Created)
		assert.LessOrEqual(t, len(p.Notifications), 50)
		for _, n := range p.Notifications {
			seen = append(seen, n.ID)
		}
		if p.Older == 0 {
			break
		}
		cursor = fmt.Sprintf("?before=%d", p.Older)
	}
	require.Len(t, seen, 120)
	for i, id := range seen {
		assert.Equal(t, ids[len(ids)-1-i], id, "newest first")
	}

	var p pageJSON
	getJSON(t, srv, "/_inbox/notifications?limit=1", &p)
	require.Len(t, p.Notifications, 1)
	n := p.Notifications[0]
	assert.Equal(t, "welcome", n.Event)
	assert.Equal(t, "running", n.Status)
	assert.Equal(t, "u119@example.com", n.Recipient["email"])
	require.Len(t, n.Messages, 1)
	assert.Equal(t, messageJSON{ID: n.Messages[0].ID, Channel: "email", Status: "queued", Current: true,
		From: "Example App <noreply@example.com>", To: "u119@example.com"}, n.Messages[0])
	assert.Equal(t, map[string]any{"i": float64(119)}, n.Payload, "no template: the page shows the payload")
	assert.Equal(t, []string{"advance", "deliver", "complete", "fail", "suppress"}, n.Actions)

	for _, bad := range []string{"?limit=0", "?limit=201", "?limit=x", "?before=-1"} {
		resp, body := get(t, srv, "/_inbox/notifications"+bad)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", bad, body)
	}
}

// With the 10,000 notifications the fake holds by default, the page reads
// one page of them, not all: an answer of 50, whatever is held.
func TestInboxWithTenThousandNotifications(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	const batch = 1000
	for b := range 11 {
		to := make([]string, batch)
		for i := range to {
			to[i] = fmt.Sprintf(`"p%d-%d@example.com"`, b, i)
		}
		status, body := postAPI(t, srv, "/v1/send/welcome", `{"to":[`+strings.Join(to, ",")+`]}`)
		require.Equal(t, http.StatusOK, status, body)
	}
	var p pageJSON
	raw := getJSON(t, srv, "/_inbox/notifications", &p)
	assert.Equal(t, sendiventtest.DefaultRetention, p.Held)
	assert.Equal(t, 11*batch, p.Created)
	assert.Len(t, p.Notifications, 50)
	assert.Equal(t, "p10-999@example.com", p.Notifications[0].Recipient["email"])
	assert.Less(t, len(raw), 100<<10, "one page, not the whole store")

	// The last page ends at the oldest held.
	getJSON(t, srv, fmt.Sprintf("/_inbox/notifications?limit=200&before=%d", p.Oldest+150), &p)
	assert.Len(t, p.Notifications, 150)
	assert.Zero(t, p.Older)
	assert.Equal(t, "p1-0@example.com", p.Notifications[149].Recipient["email"], "the oldest held: 1,000 were dropped")
}

// postAPI POSTs body to the API with the server's key.
func postAPI(t *testing.T, srv *sendiventtest.Server, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: inboxBound}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A notification opens to its timeline (each status, with its time, in
// order), the request that made it and the webhook deliveries it caused.
func TestInboxDetail(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	hook := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), `"delivery.sent"`) && calls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // the first attempt fails
		}
	})
	const secret = "whsec_inboxdetailsecret"
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle(), sendiventtest.WithWebhookHandler(hook, secret),
		sendiventtest.WithEvent("drip", sendiventtest.Send(sendivent.ChannelEmail), sendiventtest.Wait(time.Hour), sendiventtest.Send(sendivent.ChannelSMS)))
	ctx, cancel := context.WithTimeout(context.Background(), inboxBound)
	defer cancel()
	res, err := srv.Client().Event("drip").To(sendivent.Contact{Email: "ada@example.com", Phone: "+46701234567", Name: "Ada Lovelace"}).
		Payload(sendivent.Payload{"plan": "pro"}).IdempotencyKey("order-42-drip").Send(ctx)
	require.NoError(t, err)
	for range 3 { // sent, delivered and into the wait, then out of it
		require.NoError(t, srv.Advance(res.ID))
	}
	require.NoError(t, srv.FailMessage(res.ID, "mailbox full"))
	require.NoError(t, srv.WaitWebhooks(ctx))

	var d viewJSON
	getJSON(t, srv, "/_inbox/notifications/"+res.ID, &d)
	type step struct{ Channel, Status string }
	var steps []step
	var last time.Time
	for _, raw := range d.Timeline {
		var s struct {
			Time    time.Time `json:"time"`
			Channel string    `json:"channel"`
			Status  string    `json:"status"`
		}
		require.NoError(t, json.Unmarshal(raw, &s))
		assert.False(t, s.Time.Before(last), "in time order: %s", raw)
		last = s.Time
		steps = append(steps, step{s.Channel, s.Status})
	}
	assert.Equal(t, []step{
		{"", "running"}, {"email", "queued"}, {"email", "sent"}, {"email", "delivered"}, {"", "waiting"},
		{"", "running"}, {"sms", "queued"}, {"sms", "failed"}, {"", "failed"},
	}, steps)

	require.NotNil(t, d.Request)
	n, _ := srv.Notification(res.ID)
	assert.Equal(t, n.RequestID, d.Request.RequestID)
	assert.Equal(t, "order-42-drip", d.Request.IdempotencyKey)
	assert.Equal(t, "POST /v1/send/drip", d.Request.Method+" "+d.Request.Path)
	assert.Equal(t, http.StatusOK, d.Request.Status)
	assert.Equal(t, map[string]any{"plan": "pro"}, d.Request.Body["payload"])
	assert.NotContains(t, d.Request.Header, "Authorization")

	type attempt struct {
		Type            string
		Attempt, Status int
	}
	var got []attempt
	for _, x := range d.Deliveries {
		got = append(got, attempt{x.Type, x.Attempt, x.Status})
	}
	assert.ElementsMatch(t, []attempt{
		{"delivery.sent", 1, 503}, {"delivery.sent", 2, 200}, {"delivery.delivered", 1, 200}, {"delivery.failed", 1, 200},
	}, got)
	assert.Equal(t, "mailbox full", d.Messages[1].Error)
	assert.Empty(t, d.Actions, "failed: nothing to do")

	resp, body := get(t, srv, "/_inbox/notifications/nope")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "%s", body)
}

// Each message carries what its channel shows; with templates, the
// rendered parts (an email's HTML at a route of its own), without them
// the payload.
func TestInboxShowsEachChannel(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle(), sendiventtest.WithTemplateEngine(pathEngine{}),
		sendiventtest.WithEvents(
			sendiventtest.EventConfig{Name: "shipped", Title: "Order shipped", Steps: []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelEmail)},
				Templates: []sendiventtest.Template{{Channel: sendivent.ChannelEmail, Subject: "Order {{order}}", HTML: "<p>Hi {{contact.firstName}}</p>", Text: "Hi {{contact.firstName}}"}}},
			sendiventtest.EventConfig{Name: "code", Steps: []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelSMS)},
				Templates: []sendiventtest.Template{{Channel: sendivent.ChannelSMS, Text: "{{code}} is your code"}}},
			sendiventtest.EventConfig{Name: "cart", Steps: []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelPush)},
				Templates: []sendiventtest.Template{{Channel: sendivent.ChannelPush, Title: "Your cart", Body: "{{count}} items"}}},
			sendiventtest.EventConfig{Name: "alert", Steps: []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelSlack)}},
		))
	c := srv.Client()
	sendTo(t, c, "shipped", sendivent.Contact{Email: "ada@example.com", Name: "Ada Lovelace"}, sendivent.Payload{"order": "A-1"})
	sendTo(t, c, "code", sendivent.Address("+46701234567"), sendivent.Payload{"code": "123456"})
	sendTo(t, c, "cart", sendivent.Contact{PushTokens: []string{"tok-1", "tok-2"}}, sendivent.Payload{"count": 3})
	sendTo(t, c, "alert", sendivent.Address("#ops"), sendivent.Payload{"level": "high"})

	var p pageJSON
	getJSON(t, srv, "/_inbox/notifications", &p)
	require.Len(t, p.Notifications, 4)
	msg := func(i int) messageJSON { return p.Notifications[i].Messages[0] }
	assert.Equal(t, "#ops", msg(0).To)
	assert.False(t, msg(0).Rendered)
	assert.Equal(t, map[string]any{"level": "high"}, p.Notifications[0].Payload)
	assert.Equal(t, "Your cart", msg(1).Title)
	assert.Equal(t, "3 items", msg(1).Body)
	assert.Equal(t, "2 devices", msg(1).To)
	assert.Equal(t, "123456 is your code", msg(2).Text)
	assert.Equal(t, "+46701234567", msg(2).To)
	assert.Equal(t, "Example App", msg(2).From)
	email := msg(3)
	assert.Equal(t, "Order shipped", p.Notifications[3].Title)
	assert.Equal(t, "Order A-1", email.Subject)
	assert.Equal(t, "Example App <noreply@example.com>", email.From)
	assert.Equal(t, "Ada Lovelace <ada@example.com>", email.To)
	assert.Equal(t, "Hi Ada", email.Text)
	assert.True(t, email.HTML)

	resp, body := get(t, srv, "/_inbox/notifications/"+p.Notifications[3].ID+"/messages/"+email.ID+"/html")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "<p>Hi Ada</p>", string(body))
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	csp := resp.Header.Get("Content-Security-Policy")
	assert.True(t, strings.HasPrefix(csp, "sandbox; default-src 'none';"), csp)
	assert.NotContains(t, csp, "script")
	assert.Equal(t, "SAMEORIGIN", resp.Header.Get("X-Frame-Options"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	resp, _ = get(t, srv, "/_inbox/notifications/"+p.Notifications[2].ID+"/messages/"+msg(2).ID+"/html")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode, "an SMS has no HTML body")
}

// The page: its own script and style only, no inline script, no framing.
func TestInboxPageAndItsFiles(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	resp, body := get(t, srv, "/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';", "frame-ancestors 'none'",
		"require-trusted-types-for 'script'", "connect-src 'self'"} {
		assert.Contains(t, csp, want)
	}
	assert.NotContains(t, csp, "unsafe")
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	assert.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	page := string(body)
	assert.Regexp(t, `<script src="/_inbox/app.js" defer></script>`, page)
	assert.NotRegexp(t, `<script(?:\s[^>]*)?>[^<]`, page, "no inline script")
	assert.NotRegexp(t, `(?i)\son[a-z]+=|\sstyle=|javascript:`, page, "no handler, style attribute or script address")
	for path, ctype := range map[string]string{
		"/_inbox/app.js": "text/javascript; charset=utf-8", "/_inbox/app.css": "text/css; charset=utf-8", "/_inbox/icon.svg": "image/svg+xml",
	} {
		resp, body := get(t, srv, path)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Equal(t, ctype, resp.Header.Get("Content-Type"), path)
		assert.NotEmpty(t, body)
	}
	_, js := get(t, srv, "/_inbox/app.js")
	assert.NotRegexp(t, `innerHTML|outerHTML|insertAdjacentHTML|document\.write|srcdoc|eval\(|new Function`, string(js),
		"the page's script parses no HTML")

	req, _ := http.NewRequest(http.MethodHead, srv.URL+"/", nil)
	head, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	head.Body.Close()
	assert.Equal(t, http.StatusOK, head.StatusCode)
	status, _ := post(t, srv, "/", "{}")
	assert.Equal(t, http.StatusMethodNotAllowed, status)
	resp, _ = get(t, srv, "/_inbox/nothing")
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Empty(t, srv.Requests(), "the page and its data are not API requests")
}

// No page, JSON, stream or email body shows the API key or a webhook
// secret, wherever the application put them: in a payload, a header, an
// idempotency key, a template.
func TestInboxShowsNoSecret(t *testing.T) {
	t.Parallel()
	const (
		key    = "test_inboxsecretkey0123456789"
		secret = "whsec_inboxsecret0123456789"
	)
	hook := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	srv := sendiventtest.New(t, sendiventtest.WithAPIKey(key), sendiventtest.WithWebhookHandler(hook, secret),
		sendiventtest.WithTemplateEngine(pathEngine{}), sendiventtest.WithEvents(sendiventtest.EventConfig{
			Name: "leak", Steps: []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelEmail)},
			Templates: []sendiventtest.Template{{Channel: sendivent.ChannelEmail, Subject: "{{k}}", HTML: "<p>{{k}} " + key + "</p>"}},
		}))
	events := streamEvents(t, srv, "", 0)
	body := fmt.Sprintf(`{"to":"a@example.com","payload":{"k":%q,%q:%q,"nested":[{"s":"x%sy"}]}}`, key, key, secret, secret)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/v1/send/leak", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("X-Api-Key", key)
	req.Header.Set("X-Idempotency-Key", "idem-"+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var res struct{ ID string }
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&res))
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), inboxBound)
	defer cancel()
	n, err := srv.Client().Wait(ctx, res.ID, sendivent.PollEvery(time.Millisecond, 5*time.Millisecond))
	require.NoError(t, err)
	require.Equal(t, sendivent.StatusCompleted, n.Status)
	require.NoError(t, srv.WaitWebhooks(ctx))

	var shown []string
	var p pageJSON
	shown = append(shown, string(getJSON(t, srv, "/_inbox/notifications", &p)))
	var d viewJSON
	shown = append(shown, string(getJSON(t, srv, "/_inbox/notifications/"+res.ID, &d)))
	_, html := get(t, srv, "/_inbox/notifications/"+res.ID+"/messages/"+d.Messages[0].ID+"/html")
	shown = append(shown, string(html))
	for _, path := range []string{"/", "/_inbox/app.js"} {
		_, b := get(t, srv, path)
		shown = append(shown, string(b))
	}
	shown = append(shown, waitEvent(t, events, func(u updateJSON) bool { return len(u.Notifications) > 0 }).raw)
	for i, s := range shown {
		assert.NotContains(t, s, key, "answer %d", i)
		assert.NotContains(t, s, secret, "answer %d", i)
		assert.NotContains(t, s, key[5:13], "answer %d: a piece of the key", i)
	}
	assert.Equal(t, "[redacted]", d.Messages[0].Subject)
	assert.Equal(t, "[redacted]", d.Payload["k"])
	assert.Equal(t, "[redacted]", d.Payload["[redacted]"])
	assert.Equal(t, "<p>[redacted] [redacted]</p>", string(html))
	require.NotNil(t, d.Request)
	assert.Equal(t, "idem-[redacted]", d.Request.IdempotencyKey)
	assert.Equal(t, []string{"[redacted]"}, d.Request.Header["X-Api-Key"])
	assert.NotEmpty(t, d.Deliveries)
}

// sseEvent is one event of the stream.
type sseEvent struct {
	id, name, raw string
}

type updateJSON struct {
	Epoch         string     `json:"epoch"`
	Version       uint64     `json:"version"`
	Resync        bool       `json:"resync"`
	Held          int        `json:"held"`
	Oldest        uint64     `json:"oldest"`
	Notifications []viewJSON `json:"notifications"`
}

// streamEvents opens the event stream from epoch and version, as the page
// does, and returns its events, until the test ends.
func streamEvents(t *testing.T, srv *sendiventtest.Server, epoch string, since uint64, header ...string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s/_inbox/stream?epoch=%s&since=%d", srv.URL, epoch, since), nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream; charset=utf-8", resp.Header.Get("Content-Type"))
	out := make(chan sseEvent, 100)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 16<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.raw != "" {
					select {
					case out <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.name = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.raw = line[6:]
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		resp.Body.Close()
		<-done
	})
	return out
}

type decodedEvent struct {
	updateJSON
	id, raw string
}

// waitEvent waits for an update for which ok is true.
func waitEvent(t *testing.T, events <-chan sseEvent, ok func(updateJSON) bool) decodedEvent {
	t.Helper()
	deadline := time.After(inboxBound)
	for {
		select {
		case ev, open := <-events:
			require.True(t, open, "the stream ended")
			require.Equal(t, "update", ev.name)
			var u updateJSON
			require.NoError(t, json.Unmarshal([]byte(ev.raw), &u), "%s", ev.raw)
			require.Regexp(t, regexp.MustCompile(`^[0-9a-f]+-\d+$`), ev.id)
			if ok(u) {
				return decodedEvent{updateJSON: u, id: ev.id, raw: ev.raw}
			}
		case <-deadline:
			t.Fatalf("no such update within %v", inboxBound)
		}
	}
}
