package webhook_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sendivent/sendivent-go/webhook"
)

// Replays of a signed delivery, over real connections: concurrent copies
// run the function once, the others get what Handler's documentation
// says; copies with new, unsigned, webhook ids are the same event.

func TestAttackConcurrentReplays(t *testing.T) {
	t.Parallel()
	const copies = 16
	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	srv := serveRaw(t, webhook.Handler(secret, func(context.Context, *webhook.Event) error {
		calls.Add(1)
		close(entered) // a second call panics here
		<-release
		return nil
	}))
	body := event(webhook.DeliverySent, "d-replayed")
	req := delivery(body, signature(secret, time.Now(), body))

	conns := make([]*rawConn, copies)
	for i := range conns {
		conns[i] = srv.dial(t)
	}
	var start sync.WaitGroup
	start.Add(1)
	statuses := make(chan *http.Response, copies)
	for _, c := range conns {
		go func() {
			start.Wait()
			c.send(req)
			resp, err := c.response()
			if err != nil {
				t.Error(err)
				resp = &http.Response{}
			}
			statuses <- resp
		}()
	}
	start.Done()
	<-entered
	for range copies - 1 { // every other copy is answered while the first is handled
		resp := <-statuses
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		assert.Equal(t, "5", resp.Header.Get("Retry-After"))
	}
	close(release)
	assert.Equal(t, http.StatusNoContent, (<-statuses).StatusCode)

	late := srv.dial(t)
	late.send(req)
	assert.Equal(t, http.StatusOK, late.status(), "a replay after the event was handled")
	assert.Equal(t, int32(1), calls.Load())
}

// One signed body without a delivery uuid, replayed with new webhook ids
// (which nothing signs), runs the function once.
func TestAttackReplayWithNewWebhookIDs(t *testing.T) {
	t.Parallel()
	var c calls
	srv := serveRaw(t, webhook.Handler(secret, c.fn))
	body := []byte(`{"event":"delivery.sent","request_id":"r-1"}`)
	sig := signature(secret, time.Now(), body)
	for i := range 5 {
		conn := srv.dial(t)
		conn.send(delivery(body, sig, "X-Sendivent-Webhook-Id: wh_forged_"+strconv.Itoa(i)))
		want := http.StatusOK
		if i == 0 {
			want = http.StatusNoContent
		}
		assert.Equal(t, want, conn.status(), "copy %d", i)
	}
	assert.Equal(t, 1, c.n())
}

// Every method but POST is answered 405 with Allow: POST, the body unread.
func TestAttackMethods(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	sig := "X-Sendivent-Signature: " + signature(secret, time.Now(), body)
	for _, m := range []string{"GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "post", "Post", "PROPFIND", "BREW"} {
		t.Run(m, func(t *testing.T) {
			t.Parallel()
			var c calls
			srv := serveRaw(t, webhook.Handler(secret, c.fn))
			conn := srv.dial(t)
			conn.send(head{method: m, lines: []string{"Content-Length: " + strconv.Itoa(len(body)), sig}}.String() + string(body))
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(conn.br, &http.Request{Method: m})
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
			assert.Equal(t, "POST", resp.Header.Get("Allow"))
			assert.Zero(t, c.n())
		})
	}
	t.Run("CONNECT", func(t *testing.T) {
		t.Parallel()
		var c calls
		srv := serveRaw(t, webhook.Handler(secret, c.fn))
		conn := srv.dial(t)
		conn.send("CONNECT receiver.example:443 HTTP/1.1\r\nHost: receiver.example:443\r\n\r\n")
		code := conn.status()
		assert.Contains(t, []int{http.StatusMethodNotAllowed, http.StatusBadRequest}, code)
		assert.Zero(t, c.n())
	})
}
