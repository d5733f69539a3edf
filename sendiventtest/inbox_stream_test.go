package sendiventtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// The event stream tells the page of each new notification and each
// change of status, resumes where EventSource left off, sends a page of
// another epoch (a Reset) to reload, and ends when the server closes.
func TestInboxStreamTellsEachChange(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	var p pageJSON
	getJSON(t, srv, "/_inbox/notifications", &p)
	events := streamEvents(t, srv, p.Epoch, p.Version)

	start := time.Now()
	id := sendTo(t, srv.Client(), "welcome", sendivent.Address("a@example.com"), sendivent.Payload{"n": 1})
	u := waitEvent(t, events, func(u updateJSON) bool { return len(u.Notifications) > 0 })
	t.Logf("a new send reached the stream in %v", time.Since(start))
	require.False(t, u.Resync)
	assert.Equal(t, id, u.Notifications[0].ID)
	assert.Equal(t, 1, u.Held)

	status, body := post(t, srv, "/_fake/notifications/"+id+"/fail", `{"error":"from a test"}`)
	require.Equal(t, http.StatusOK, status, body)
	u = waitEvent(t, events, func(u updateJSON) bool {
		return len(u.Notifications) > 0 && u.Notifications[0].Status == "failed"
	})
	assert.Equal(t, "failed", u.Notifications[0].Messages[0].Status)
	assert.Equal(t, "from a test", u.Notifications[0].Messages[0].Error)
	assert.Len(t, u.Notifications, 1, "only what changed")

	// EventSource's reconnection: Last-Event-ID says where it was.
	id2 := sendTo(t, srv.Client(), "welcome", sendivent.Address("b@example.com"), nil)
	resumed := streamEvents(t, srv, "", 0, "Last-Event-ID", u.id)
	r := waitEvent(t, resumed, func(updateJSON) bool { return true })
	require.False(t, r.Resync)
	require.Len(t, r.Notifications, 1, "what changed after its last event: %s", r.raw)
	assert.Equal(t, id2, r.Notifications[0].ID)

	// A Reset starts a new epoch: the page reloads.
	status, _ = post(t, srv, "/_fake/reset", "")
	require.Equal(t, http.StatusOK, status)
	u = waitEvent(t, events, func(u updateJSON) bool { return u.Resync })
	assert.NotEqual(t, p.Epoch, u.Epoch)
	assert.Zero(t, u.Held)

	// A page of an unknown epoch (a fake restarted) reloads at once.
	stale := streamEvents(t, srv, "0ld0ld", 7)
	assert.True(t, waitEvent(t, stale, func(updateJSON) bool { return true }).Resync)
}

// More changes at once than an update carries: the page reloads its list
// instead of taking a huge event.
func TestInboxStreamBurstsResync(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle())
	var p pageJSON
	getJSON(t, srv, "/_inbox/notifications", &p)
	to := make([]string, 60)
	for i := range to {
		to[i] = fmt.Sprintf(`"b%d@example.com"`, i)
	}
	status, body := postAPI(t, srv, "/v1/send/welcome", `{"to":[`+strings.Join(to, ",")+`]}`)
	require.Equal(t, http.StatusOK, status, body)
	events := streamEvents(t, srv, p.Epoch, p.Version)
	u := waitEvent(t, events, func(updateJSON) bool { return true })
	assert.True(t, u.Resync)
	assert.Empty(t, u.Notifications)
	assert.Equal(t, 60, u.Held)
}

// The stream ends when the server closes, and Close does not wait for it.
func TestInboxStreamEndsWithTheServer(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer()
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/_inbox/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	closed := make(chan struct{})
	go func() {
		srv.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(inboxBound):
		t.Fatal("Close waits for an open stream")
	}
	done := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		done <- err
	}()
	select {
	case err := <-done:
		assert.NoError(t, err, "the stream ends cleanly")
	case <-time.After(inboxBound):
		t.Fatal("the stream did not end")
	}
}

// At most 32 streams are open at once; more are refused, and a stream that
// ends makes room.
func TestInboxStreamsAreCapped(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &http.Transport{MaxConnsPerHost: 0}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	var open []*http.Response
	for range 32 {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/_inbox/stream", nil)
		resp, err := c.Do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		open = append(open, resp)
	}
	resp, err := c.Get(srv.URL + "/_inbox/stream")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	var e struct{ Code string }
	require.NoError(t, json.Unmarshal(body, &e))
	assert.Equal(t, "TOO_MANY_STREAMS", e.Code)

	open[0].Body.Close()
	assert.Eventually(t, func() bool {
		resp, err := c.Get(srv.URL + "/_inbox/notifications")
		if err != nil {
			return false
		}
		resp.Body.Close()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/_inbox/stream", nil)
		resp, err = c.Do(req)
		if err != nil {
			return false
		}
		if resp.StatusCode != http.StatusOK {
			resp.Body.Close()
			return false
		}
		open = append(open, resp)
		return true
	}, inboxBound, 10*time.Millisecond, "a closed stream's place is given back")
	cancel()
	for _, r := range open {
		r.Body.Close()
	}
}
