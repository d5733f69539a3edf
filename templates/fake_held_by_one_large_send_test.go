package templates_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

// TestFakeIsNotHeldByOneLargeSend: the render bound is per message, but a
// send renders one message per recipient, each under the server's lock:
// one POST of 300 recipients and an order of 10,000 lines (100 kB, far
// under the 1 MiB body cap) renders for about 30 s on 2 cores, and every
// other request waits (a 1 MiB body: hours). A per-send budget, or
// rendering outside the lock, is a design decision left to the fake's
// owner.
func TestFakeIsNotHeldByOneLargeSend(t *testing.T) {
	t.Skip("finding: a send renders every recipient's message under the fake's lock; 300 recipients × 10,000 lines hold it ~30 s")
	t.Parallel()
	srv := sendiventtest.NewServer(
		sendiventtest.WithAddr("127.0.0.1:0"),
		sendiventtest.WithTemplateEngine(templates.Handlebars()),
		sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "order", Templates: []sendiventtest.Template{{
			Channel: "email", Subject: "Order", HTML: "<ul>{{#each lines}}<li>{{qty}} × {{name}}</li>{{/each}}</ul>",
		}}}),
	)
	defer srv.Close()
	lines := make([]any, 10_000)
	for i := range lines {
		lines[i] = map[string]any{}
	}
	to := make([]string, 300)
	for i := range to {
		to[i] = fmt.Sprintf("a%d@example.com", i)
	}
	body, err := json.Marshal(map[string]any{"to": to, "payload": map[string]any{"lines": lines}})
	if err != nil {
		t.Fatal(err)
	}
	sent := make(chan struct{})
	go func() {
		req, _ := http.NewRequest("POST", srv.URL+"/v1/send/order", &endSignal{Reader: bytes.NewReader(body), end: sent})
		req.ContentLength = int64(len(body))
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		req.Header.Set("Content-Type", "application/json")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	<-sent                             // the fake has the whole body
	time.Sleep(200 * time.Millisecond) // and is rendering
	start := time.Now()
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Get(srv.URL + "/_fake/notifications")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(start); d > 5*time.Second { // what it proves: another request is not held
		t.Errorf("GET /_fake/notifications waited %v behind one send", d)
	}
}

// endSignal closes end once its reader has been read to its end.
type endSignal struct {
	*bytes.Reader
	end  chan struct{}
	once bool
}

func (e *endSignal) Read(p []byte) (int, error) {
	n, err := e.Reader.Read(p)
	if e.Reader.Len() == 0 && !e.once { // net/http reads ContentLength bytes, then stops
		e.once = true
		close(e.end)
	}
	return n, err
}
