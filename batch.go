package sendivent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// DefaultBatchConcurrency is how many sends of a batch run at once.
const DefaultBatchConcurrency = 8

// ErrNotAttempted marks a batch item that was never sent because the
// context ended first: the item's error is a *TransportError matching it.
var ErrNotAttempted = errors.New("sendivent: not attempted")

// BatchItem is one send of a batch.
type BatchItem struct {
	Event   string
	Request SendRequest
}

// BatchResult is the outcome of one item, at the item's index.
type BatchResult struct {
	Response *SendResponse // set when the send was accepted (and with a rejection)
	Err      error         // nil when accepted; matches ErrNotAttempted if never sent
}

// BatchOption configures SendBatch.
type BatchOption func(*batchConfig)

type batchConfig struct {
	concurrency int
	key         func(i int, it BatchItem) string
}

// BatchConcurrency sets how many sends run at once (default 8). The
// client's rate limit, if any, still paces them.
func BatchConcurrency(n int) BatchOption {
	return func(b *batchConfig) {
		if n > 0 {
			b.concurrency = n
		}
	}
}

// BatchKeys derives each item's idempotency key from name and what the
// item is (its event, channel and encoded request), never from its place
// in the batch. So running the batch again after a crash, or re-running
// only the items that failed, in any order, sends each missing item once
// and nothing twice. Two identical items in one batch get one key, and so
// are one send: make them differ (a payload field, their own key) to send
// both. Items that carry their own key keep it.
func BatchKeys(name string) BatchOption {
	return BatchKeyFunc(func(_ int, it BatchItem) string {
		enc, err := encodeSend(it.Event, it.Request)
		if err != nil {
			return "" // Send reports the same error, before sending
		}
		return IdempotencyKeyFrom(name, it.Event, string(it.Request.Channel), string(enc))
	})
}

// BatchKeyFunc derives each item's idempotency key with f, for example from
// an order id in the payload. Items that carry their own key keep it. A key
// derived from the item's index i is unsafe to re-run on a subset of the
// items: another item then gets the key of one that was sent, and the
// service answers it with the stored answer, sending nothing. f is called
// from several goroutines at once.
func BatchKeyFunc(f func(i int, it BatchItem) string) BatchOption {
	return func(b *batchConfig) { b.key = f }
}

// batchPanic carries a worker's panic value to the caller's goroutine.
type batchPanic struct{ v any }

// BatchError reports the items of a batch that did not succeed. Unwrap
// gives each item's error, wrapped with its index, so errors.Is and
// errors.As see every failure.
type BatchError struct {
	Failed       int // items sent that ended in an error
	NotAttempted int // items never sent because the context ended
	Errs         []error
}

// Error counts the failures and shows the first.
func (e *BatchError) Error() string {
	if e == nil || len(e.Errs) == 0 {
		return "sendivent: batch failed"
	}
	return fmt.Sprintf("sendivent: batch: %d failed, %d not attempted; first: %v",
		e.Failed, e.NotAttempted, e.Errs[0])
}

// Unwrap returns each item's error.
func (e *BatchError) Unwrap() []error { return e.Errs }

// SendBatch sends every item, several at once, and returns one result per
// item in input order. Each item has its own idempotency key (its own, one
// from BatchKeys or BatchKeyFunc, or a generated one) reused by its retries.
// A failed item does not stop the others; only the context's end does, and
// the items not yet sent then fail with ErrNotAttempted. The error is nil
// when every item was accepted, and a *BatchError otherwise.
func (c *Client) SendBatch(ctx context.Context, items []BatchItem, opts ...BatchOption) ([]BatchResult, error) {
	if err := c.usable(); err != nil {
		return nil, err
	}
	cfg := batchConfig{concurrency: DefaultBatchConcurrency}
	for _, o := range opts {
		o(&cfg)
	}
	results := make([]BatchResult, len(items))
	ctx, ob := c.startBatch(ctx, len(items))
	defer ob.endBatch(results) // after the workers have filled it
	var next atomic.Int64
	var wg sync.WaitGroup
	var panicked atomic.Value // the first worker's panic, raised again in the caller's goroutine
	for w := 0; w < min(cfg.concurrency, len(items)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					panicked.CompareAndSwap(nil, batchPanic{p})
				}
			}()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(items) {
					return
				}
				if err := ctx.Err(); err != nil {
					results[i].Err = &TransportError{Method: "POST", Path: "/v1/send/{event}",
						IdempotencyKey: items[i].Request.IdempotencyKey, Err: fmt.Errorf("%w: %w", ErrNotAttempted, err)}
					continue
				}
				it := items[i]
				if it.Request.IdempotencyKey == "" && cfg.key != nil {
					it.Request.IdempotencyKey = cfg.key(i, it)
				}
				results[i].Response, results[i].Err = c.Send(ctx, it.Event, it.Request)
			}
		}()
	}
	wg.Wait()
	if p, ok := panicked.Load().(batchPanic); ok {
		panic(p.v) // where the caller can recover it
	}

	var be BatchError
	for i, r := range results {
		if r.Err == nil {
			continue
		}
		if errors.Is(r.Err, ErrNotAttempted) {
			be.NotAttempted++
		} else {
			be.Failed++
		}
		be.Errs = append(be.Errs, fmt.Errorf("item %d (%s): %w", i, items[i].Event, r.Err))
	}
	if len(be.Errs) == 0 {
		return results, nil
	}
	return results, &be
}
