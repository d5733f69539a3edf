package webhook_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

// A callback that panics, blocks, or sees its request end, over real
// connections: the event is never lost (the service's retry runs the
// callback again) and never run twice.

// A panic drops the connection unanswered (net/http's own recovery), and
// leaves the event unclaimed: the retry runs the callback and succeeds.
func TestAttackCallbackPanics(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	srv := serveRaw(t, webhook.Handler(secret, func(context.Context, *webhook.Event) error {
		if n.Add(1) == 1 {
			panic("callback bug")
		}
		return nil
	}))
	body := event(webhook.DeliverySent, "d-panic")
	req := delivery(body, signature(secret, time.Now(), body))
	conn := srv.dial(t)
	conn.send(req)
	_, err := conn.response()
	assert.Error(t, err, "a panic gets no answer")

	retry := srv.dial(t)
	retry.send(req)
	assert.Equal(t, http.StatusNoContent, retry.status())
	assert.Equal(t, int32(2), n.Load())
}

// A callback that blocks until its context ends: while it blocks, copies
// are answered 503; when the peer hangs up, the context ends, the callback
// returns, the event is released, and the retry runs it.
func TestAttackCallbackBlocksUntilThePeerLeaves(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	entered := make(chan struct{}, 2)
	ended := make(chan error, 2)
	srv := serveRaw(t, webhook.Handler(secret, func(ctx context.Context, _ *webhook.Event) error {
		entered <- struct{}{}
		if n.Add(1) > 1 {
			return nil
		}
		<-ctx.Done()
		ended <- ctx.Err()
		return ctx.Err()
	}))
	body := event(webhook.DeliverySent, "d-blocked")
	req := delivery(body, signature(secret, time.Now(), body))

	first := srv.dial(t)
	first.send(req)
	<-entered
	dup := srv.dial(t)
	dup.send(req)
	assert.Equal(t, http.StatusServiceUnavailable, dup.status(), "a copy while the callback blocks")

	first.Close() // the peer hangs up mid-callback
	select {
	case err := <-ended:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("the callback's context did not end when the peer hung up")
	}
	waitFor(t, "the first request to end", func() bool { return srv.left.Load() == 2 })

	retry := srv.dial(t)
	retry.send(req)
	assert.Equal(t, http.StatusNoContent, retry.status())
	again := srv.dial(t)
	again.send(req)
	assert.Equal(t, http.StatusOK, again.status())
	assert.Equal(t, int32(2), n.Load())
}

// The request's context cancelled mid-callback by the server shutting
// down: the same as a peer leaving.
func TestAttackCallbackContextCancelled(t *testing.T) {
	t.Parallel()
	store := &storeSpy{}
	entered := make(chan struct{})
	returned := make(chan struct{})
	srv := serveRaw(t, webhook.Handler(secret, func(ctx context.Context, _ *webhook.Event) error {
		close(entered)
		defer close(returned)
		<-ctx.Done()
		return ctx.Err()
	}, webhook.WithDeduper(store)))
	body := event(webhook.DeliverySent, "d-cancelled")
	conn := srv.dial(t)
	conn.send(delivery(body, signature(secret, time.Now(), body)))
	<-entered
	srv.CloseClientConnections() // cancels the request's context
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("the callback's context was not cancelled")
	}
	waitFor(t, "the handler to return", func() bool { return srv.left.Load() == 1 })
	store.mu.Lock()
	steps, dead := store.steps, store.deadCtxts
	store.mu.Unlock()
	require.Equal(t, []string{"claim", "release"}, steps)
	assert.Zero(t, dead, "the release got a cancelled context")
	res, _, err := store.Claim(context.Background(), "delivery/d-cancelled/delivery.sent")
	require.NoError(t, err)
	assert.Equal(t, webhook.Acquired, res, "the event was released")
}
