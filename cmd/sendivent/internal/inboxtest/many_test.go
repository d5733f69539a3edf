package inboxtest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sendivent/sendivent-go"
)

// With the 10,000 notifications the fake holds by default, the inbox shows
// the newest 50, pages to older ones, and still takes a new send live.
func TestInboxWithTenThousandNotifications(t *testing.T) {
	t.Parallel()
	f := startFake(t, "--manual", "--event", "welcome")
	for b := range 10 {
		to := make([]string, 1000)
		for i := range to {
			to[i] = fmt.Sprintf(`"p%d-%d@example.com"`, b, i)
		}
		req, _ := http.NewRequest(http.MethodPost, f.URL+"/v1/send/welcome", strings.NewReader(`{"to":[`+strings.Join(to, ",")+`],"payload":{"batch":`+fmt.Sprint(b)+`}}`))
		req.Header.Set("Authorization", "Bearer "+f.Key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: bound}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("batch %d: %d %.200s", b, resp.StatusCode, body)
		}
	}
	ctx := tab(t)
	start := time.Now()
	openInbox(t, ctx, f)
	until(t, ctx, bound, `document.querySelectorAll('#list > article').length === 50`, "the newest 50")
	t.Logf("the inbox of 10,000 showed its first page in %v", time.Since(start))
	if got := eval[string](t, ctx, `document.querySelector('#counts').textContent`); got != "10000 held · 10000 sent" {
		t.Errorf("counts %q", got)
	}
	top := eval[string](t, ctx, `document.querySelector('#list > article .to').textContent`)
	if top != "to p9-999@example.com" {
		t.Errorf("the newest on top: %q", top)
	}

	do(t, ctx, chromedp.Click(chromedp.CSS(`#older`)))
	until(t, ctx, bound, `document.querySelector('#list > article .to').textContent === 'to p9-949@example.com'`, "the next 50")
	do(t, ctx, chromedp.Click(chromedp.CSS(`#newer`)))
	until(t, ctx, bound, `document.querySelector('#list > article .to').textContent === 'to p9-999@example.com'`, "back to the newest")

	id := send(t, f.client(t), "welcome", sendivent.Address("last@example.com"), nil)
	until(t, ctx, bound, `document.querySelector('#list > article').dataset.id === '`+id+`' && document.querySelectorAll('#list > article').length === 50`,
		"a new send on top, the page still 50")
}
