package sendivent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sendivent/sendivent-go"
)

// atkStore is a server that keeps the service's promise: the first request
// with a key creates a notification (at once, before answering, so that a
// client that gives up still caused it), a later one with the same key
// replays. Each answer is held for delay, or until the client goes.
type atkStore struct {
	mu      sync.Mutex
	created map[string]int // creations per idempotency key
	delay   time.Duration
}

func (s *atkStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	key := r.Header.Get("X-Idempotency-Key")
	s.mu.Lock()
	replay := s.created[key] > 0
	if !replay {
		s.created[key]++
	}
	s.mu.Unlock()
	select {
	case <-time.After(s.delay):
	case <-r.Context().Done():
		return
	}
	if replay {
		w.Header().Set("X-Idempotent-Replay", "true")
	}
	fmt.Fprintf(w, `{"id":"n-%s","status":"accepted"}`, key)
}

func atkItems(n int) []sendivent.BatchItem {
	items := make([]sendivent.BatchItem, n)
	for i := range items {
		items[i] = sendivent.BatchItem{Event: "welcome", Request: sendivent.SendRequest{
			To: []sendivent.Recipient{sendivent.Address(fmt.Sprintf("user%d@example.com", i))}}}
	}
	return items
}

// TestAttackBatchCancelMidway: four batches of 60 on one client against a
// slow server, their context cancelled mid-way; then each batch's failed
// items run again. Property: SendBatch returns soon after the cancel; one
// result per item, each an answer or an error; BatchError's counts add up;
// items never sent match ErrNotAttempted and context.Canceled; the re-run
// sends every missing item and the server creates each item exactly once;
// no goroutine is left. Not parallel, for the leak check.
func TestAttackBatchCancelMidway(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	store := &atkStore{created: map[string]int{}, delay: 20 * time.Millisecond}
	srv := httptest.NewServer(store)
	defer srv.Close()
	c := atkClient(t, srv.URL, sendivent.WithTimeout(2*time.Second))
	defer c.CloseIdleConnections()

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(75*time.Millisecond, cancel)
	const batches, size = 4, 60
	var wg sync.WaitGroup
	results := make([][]sendivent.BatchResult, batches)
	errs := make([]error, batches)
	var cancelled atomic.Int64
	start := time.Now()
	for b := range batches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			items := atkItems(size)
			for i := range items {
				items[i].Request.Payload = sendivent.Payload{"batch": b}
			}
			results[b], errs[b] = c.SendBatch(ctx, items, sendivent.BatchKeys("attack"))
		}()
	}
	wg.Wait()
	assert.Less(t, time.Since(start), 2*time.Second, "the batches end soon after the cancel")
	for b := range batches {
		require.Len(t, results[b], size)
		var be *sendivent.BatchError
		require.ErrorAs(t, errs[b], &be, "batch %d was cut short", b)
		failed := 0
		for i, r := range results[b] {
			if r.Err == nil {
				assert.NotNil(t, r.Response, "batch %d item %d", b, i)
				continue
			}
			failed++
			if errors.Is(r.Err, sendivent.ErrNotAttempted) {
				cancelled.Add(1)
				assert.ErrorIs(t, r.Err, context.Canceled)
				assert.Nil(t, r.Response)
				continue // its type: see TestAttackNotAttemptedType
			}
			atkTyped(t, r.Err)
		}
		assert.Equal(t, failed, len(be.Errs))
		assert.Equal(t, failed, be.Failed+be.NotAttempted)
		assert.Positive(t, failed, "the cancel came mid-way")
	}
	t.Logf("%d items never attempted", cancelled.Load())

	// Re-run each batch's failed items, in reverse order, the batches at once.
	rerun := make([]error, batches)
	for b := range batches {
		items := atkItems(size)
		var again []sendivent.BatchItem
		for i := len(items) - 1; i >= 0; i-- {
			if results[b][i].Err != nil {
				items[i].Request.Payload = sendivent.Payload{"batch": b}
				again = append(again, items[i])
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, rerun[b] = c.SendBatch(context.Background(), again, sendivent.BatchKeys("attack"))
		}()
	}
	wg.Wait()
	for _, err := range rerun {
		require.NoError(t, err)
	}
	store.mu.Lock()
	defer store.mu.Unlock()
	assert.Len(t, store.created, batches*size, "every item created")
	for k, n := range store.created {
		assert.Equal(t, 1, n, "key %s created %d times", k, n)
	}
}

// TestAttackNotAttemptedType: the doc says each item of a BatchError has
// "its own error of the types above" (the five). Property: an item never
// sent has an error of one of those types.
func TestAttackNotAttemptedType(t *testing.T) {
	t.Parallel()
	c := atkClient(t, "http://127.0.0.1:9")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := c.SendBatch(ctx, atkItems(2))
	var be *sendivent.BatchError
	require.ErrorAs(t, err, &be)
	for _, r := range res {
		assert.ErrorIs(t, r.Err, sendivent.ErrNotAttempted)
		atkTyped(t, r.Err)
	}
}

// TestAttackBatchPanic: a caller's transport that panics, used by
// SendBatch. In Send the panic reaches the caller's goroutine; in SendBatch
// it happens in a worker goroutine no caller can recover in, and the
// process dies. Property: SendBatch does not kill the process (it
// recovers each worker's panic and re-panics in the caller's goroutine,
// or reports it as the item's error). Runs the batch in a child process.
func TestAttackBatchPanic(t *testing.T) {
	if os.Getenv("ATTACK_BATCH_PANIC_CHILD") == "1" {
		rt := atkRT(func(*http.Request) (*http.Response, error) { panic("transport bug") })
		c, err := sendivent.NewClient(atkKey, sendivent.WithBaseURL("http://127.0.0.1:9"),
			sendivent.WithHTTPClient(&http.Client{Transport: rt}))
		require.NoError(t, err)
		defer func() { fmt.Println("recovered in the caller:", recover()) }()
		_, err = c.SendBatch(context.Background(), atkItems(3))
		fmt.Println("SendBatch returned:", err)
		return
	}
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestAttackBatchPanic$", "-test.count=1")
	cmd.Env = append(os.Environ(), "ATTACK_BATCH_PANIC_CHILD=1")
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "the child process died:\n%.1500s", out)
}

// TestAttackWatchAndWait: Watch and Wait against servers that never end,
// flap, switch protocols, refuse, or ask for a long Retry-After. Property:
// bounded by WaitAtMost or the context; breaking out of Watch stops the
// polls; an error that polling cannot fix ends the wait at once.
func TestAttackWatchAndWait(t *testing.T) {
	t.Parallel()
	var polls atomic.Int64
	flap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status := []string{"running", "waiting"}[polls.Add(1)%2]
		fmt.Fprintf(w, `{"id":"n1","status":%q}`, status)
	}))
	t.Cleanup(flap.Close)
	c := atkClient(t, flap.URL)
	fast := sendivent.PollEvery(10*time.Millisecond, 20*time.Millisecond)

	start := time.Now()
	var states int
	var last error
	for n, err := range c.Watch(context.Background(), "n1", fast, sendivent.WaitAtMost(300*time.Millisecond)) {
		if n != nil {
			states++
		}
		last = err
	}
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Greater(t, states, 2, "each flap is a change")
	var we *sendivent.WaitTimeoutError
	assert.ErrorAs(t, last, &we, "the watch ends with the time-out")

	seen := 0
	for range c.Watch(context.Background(), "n1", fast) {
		if seen++; seen == 2 {
			break
		}
	}
	after := polls.Load()
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, after, polls.Load(), "no poll after the loop broke")

	up := atkRawServer(t, func(s *atkRaw, conn net.Conn, _ *http.Request) {
		_, _ = io.WriteString(conn, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n")
		s.hang()
	})
	c = atkClient(t, up.url)
	yields := 0
	for n, err := range c.Watch(context.Background(), "n1") {
		yields++
		assert.Nil(t, n)
		atkTyped(t, err)
	}
	assert.Equal(t, 1, yields)

	gone, n404 := atkStatic(t, http.StatusNotFound, `{"error":"no such notification"}`)
	c = atkClient(t, gone.URL)
	_, err := c.Wait(context.Background(), "n1")
	var ae *sendivent.APIError
	assert.ErrorAs(t, err, &ae)
	assert.ErrorIs(t, err, sendivent.ErrNotFound)
	assert.EqualValues(t, 1, n404.Load())

	slow, _ := atkStatic(t, http.StatusTooManyRequests, `{}`, "Retry-After", "3600")
	c = atkClient(t, slow.URL)
	took, err := atkCall(t, 5*time.Second, func(ctx context.Context) error { _, err := c.Wait(ctx, "n1"); return err })
	assert.ErrorAs(t, err, &we)
	assert.ErrorIs(t, err, sendivent.ErrRateLimited)
	if assert.ErrorAs(t, err, &ae) {
		assert.Equal(t, time.Hour, ae.RetryAfter)
	}
	assert.Less(t, took, time.Second, "an hour's wait does not fit: give up at once")
}
