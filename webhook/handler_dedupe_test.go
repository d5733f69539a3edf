package webhook_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

// The handler's once-per-event promise: repeats, failures, concurrency and
// the store's own failures.

// A failed call leaves the event unhandled: the service's retry runs fn
// again, and once it succeeds, repeats stop.
func TestHandlerRetryAfterFailure(t *testing.T) {
	t.Parallel()
	c := calls{err: errors.New("database is down: password=hunter2")}
	var logs bytes.Buffer
	h := webhook.Handler(secret, c.fn, at(now), webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	body := event(webhook.DeliveryFailed, "d1")
	sig := signature(secret, now, body)

	w := post(h, body, sig)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.NotContains(t, w.Body.String(), "hunter2", "the error is not sent to the peer")
	assert.Contains(t, logs.String(), "database is down", "but it is logged")
	assert.Equal(t, http.StatusInternalServerError, post(h, body, sig).Code)

	c.mu.Lock()
	c.err = nil
	c.mu.Unlock()
	assert.Equal(t, http.StatusNoContent, post(h, body, sig).Code)
	assert.Equal(t, http.StatusOK, post(h, body, sig).Code)
	assert.Equal(t, 3, c.n())
}

func TestHandlerPanicReleasesTheEvent(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	h := webhook.Handler(secret, func(context.Context, *webhook.Event) error {
		if n.Add(1) == 1 {
			panic("boom")
		}
		return nil
	}, at(now))
	body := event(webhook.DeliverySent, "d1")
	sig := signature(secret, now, body)
	assert.PanicsWithValue(t, "boom", func() { post(h, body, sig) })
	assert.Equal(t, http.StatusNoContent, post(h, body, sig).Code)
	assert.Equal(t, int32(2), n.Load())
}

// Concurrent deliveries of one event run fn once: while it runs, the
// others are answered 503, so the service tries them again later.
func TestHandlerConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	const n = 20
	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	h := webhook.Handler(secret, func(context.Context, *webhook.Event) error {
		calls.Add(1)
		close(entered) // a second call would panic here
		<-release
		return nil
	}, at(now))
	body := event(webhook.DeliverySent, "d1")
	sig := signature(secret, now, body)

	codes := make(chan int, n)
	for range n {
		go func() { codes <- post(h, body, sig).Code }()
	}
	<-entered
	busy := 0
	for range n - 1 { // every other delivery answers while fn is held
		code := <-codes
		assert.Equal(t, http.StatusServiceUnavailable, code)
		busy++
	}
	close(release)
	assert.Equal(t, http.StatusNoContent, <-codes)
	assert.Equal(t, n-1, busy)
	assert.Equal(t, int32(1), calls.Load())

	w := post(h, body, sig)
	assert.Equal(t, http.StatusOK, w.Code, "done once fn returned")
	assert.Equal(t, int32(1), calls.Load())
}

func TestHandlerBusyAnswerHasRetryAfter(t *testing.T) {
	t.Parallel()
	d := webhook.NewMemoryDeduper(0, 0)
	body := event(webhook.DeliverySent, "d1")
	ev, err := webhook.Verify(body, headers(signature(secret, now, body)), secret, at(now))
	require.NoError(t, err)
	res, _, err := d.Claim(context.Background(), ev.DedupeKey())
	require.NoError(t, err)
	require.Equal(t, webhook.Acquired, res)

	var c calls
	w := post(webhook.Handler(secret, c.fn, at(now), webhook.WithDeduper(d)), body, signature(secret, now, body))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.NotEmpty(t, w.Header().Get("Retry-After"))
	assert.Zero(t, c.n())
}

// storeSpy is a Deduper over a MemoryDeduper that can fail each step and
// records whether the leases' steps got live contexts.
type storeSpy struct {
	webhook.MemoryDeduper
	claimErr, completeErr, releaseErr error

	mu        sync.Mutex
	steps     []string
	deadCtxts int // of Complete and Release
}

func (s *storeSpy) note(ctx context.Context, step string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps = append(s.steps, step)
	if ctx.Err() != nil && step != "claim" {
		s.deadCtxts++
	}
}

func (s *storeSpy) Claim(ctx context.Context, key string) (webhook.ClaimResult, webhook.Lease, error) {
	s.note(ctx, "claim")
	if s.claimErr != nil {
		return 0, nil, s.claimErr
	}
	res, lease, err := s.MemoryDeduper.Claim(ctx, key)
	if lease != nil {
		lease = spyLease{s, lease}
	}
	return res, lease, err
}

type spyLease struct {
	s *storeSpy
	webhook.Lease
}

func (l spyLease) Complete(ctx context.Context) error {
	l.s.note(ctx, "complete")
	if l.s.completeErr != nil {
		return l.s.completeErr
	}
	return l.Lease.Complete(ctx)
}

func (l spyLease) Release(ctx context.Context) error {
	l.s.note(ctx, "release")
	if l.s.releaseErr != nil {
		return l.s.releaseErr
	}
	return l.Lease.Release(ctx)
}

func TestHandlerStore(t *testing.T) {
	t.Parallel()
	storeDown := errors.New("store down")
	tests := []struct {
		name   string
		store  *storeSpy
		fnErr  error
		want   int
		calls  int
		steps  string
		logged string
	}{
		{"claim fails: 503, retry later, fn not called", &storeSpy{claimErr: storeDown}, nil, http.StatusServiceUnavailable, 0, "claim", "store down"},
		{"complete fails: the event was handled", &storeSpy{completeErr: storeDown}, nil, http.StatusNoContent, 1, "claim complete", "handled but not recorded"},
		{"complete finds the claim lapsed", &storeSpy{completeErr: fmt.Errorf("%w: taken by another", webhook.ErrClaimLost)}, nil, http.StatusNoContent, 1, "claim complete", "another delivery may have run it too"},
		{"release fails: fn's failure still answered", &storeSpy{releaseErr: storeDown}, errors.New("fn failed"), http.StatusInternalServerError, 1, "claim release", "store down"},
		{"fn fails: released", &storeSpy{}, errors.New("fn failed"), http.StatusInternalServerError, 1, "claim release", "fn failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := calls{err: tt.fnErr}
			var logs bytes.Buffer
			h := webhook.Handler(secret, c.fn, at(now), webhook.WithDeduper(tt.store),
				webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			body := event(webhook.DeliverySent, "d1")
			w := post(h, body, signature(secret, now, body))
			assert.Equal(t, tt.want, w.Code)
			assert.Equal(t, tt.calls, c.n())
			assert.Equal(t, tt.steps, strings.Join(tt.store.steps, " "))
			assert.Contains(t, logs.String(), tt.logged)
			assert.NotContains(t, w.Body.String(), "store down")
			if tt.want == http.StatusServiceUnavailable {
				assert.NotEmpty(t, w.Header().Get("Retry-After"))
			}
		})
	}
}

// A peer that hangs up mid-call cancels fn's context, not the store's:
// the event is released, and the retry handles it.
func TestHandlerPeerHangsUp(t *testing.T) {
	t.Parallel()
	store := &storeSpy{}
	fails := true
	h := webhook.Handler(secret, func(ctx context.Context, _ *webhook.Event) error {
		if fails {
			return ctx.Err()
		}
		return nil
	}, at(now), webhook.WithDeduper(store))
	body := event(webhook.DeliverySent, "d1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/webhook", bytes.NewReader(body))
	r.Header.Set(webhook.SignatureHeader, signature(secret, now, body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
	assert.Equal(t, []string{"claim", "release"}, store.steps)
	assert.Zero(t, store.deadCtxts)

	fails = false
	assert.Equal(t, http.StatusNoContent, post(h, body, signature(secret, now, body)).Code)
}

// deduperFunc is a Deduper whose Claim is a function.
type deduperFunc func(ctx context.Context, key string) (webhook.ClaimResult, webhook.Lease, error)

func (f deduperFunc) Claim(ctx context.Context, key string) (webhook.ClaimResult, webhook.Lease, error) {
	return f(ctx, key)
}

// A Deduper that breaks its contract, or whose Claim ends with the peer,
// never gets the function called.
func TestHandlerDeduperMisbehaves(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		claim  deduperFunc
		hangUp bool
		want   int
		logged string
	}{
		{"Acquired without a lease", func(context.Context, string) (webhook.ClaimResult, webhook.Lease, error) {
			return webhook.Acquired, nil, nil
		}, false, http.StatusServiceUnavailable, "without a Lease"},
		{"an unknown result", func(context.Context, string) (webhook.ClaimResult, webhook.Lease, error) {
			return 0, nil, nil
		}, false, http.StatusServiceUnavailable, "being handled"},
		{"the peer left during the claim", func(ctx context.Context, _ string) (webhook.ClaimResult, webhook.Lease, error) {
			<-ctx.Done()
			return 0, nil, ctx.Err()
		}, true, http.StatusServiceUnavailable, "peer left"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var c calls
			var logs bytes.Buffer
			h := webhook.Handler(secret, c.fn, at(now), webhook.WithDeduper(tt.claim),
				webhook.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			body := event(webhook.DeliverySent, "d1")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.hangUp {
				cancel()
			}
			r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/webhook", bytes.NewReader(body))
			r.Header.Set(webhook.SignatureHeader, signature(secret, now, body))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			assert.Equal(t, tt.want, w.Code)
			assert.Contains(t, logs.String(), tt.logged)
			assert.Zero(t, c.n())
		})
	}
}
