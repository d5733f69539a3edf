package sendiventredis

import "context"

// bounded runs fn, one call to Redis, and returns its result (ok true), or
// ctx's error as soon as ctx ends (ok false), whatever Redis does: go-redis
// reads no context's cancellation, and its deadlines only with
// ContextTimeoutEnabled set.
//
// fn gets ctx without its cancellation and deadline, so that a call ctx
// gave up on goes on to the Redis client's own timeouts and its outcome is
// still known: when ok is false, late (if not nil) receives that outcome
// once the call ends. Each call site says what a late outcome means.
func bounded[T any](ctx context.Context, fn func(context.Context) (T, error), late func(T, error)) (v T, err error, ok bool) {
	if ctx.Done() == nil { // nothing ends it: no goroutine needed
		v, err = fn(ctx)
		return v, err, true
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result)
	abandoned := make(chan struct{})
	go func() {
		v, err := fn(context.WithoutCancel(ctx))
		select {
		case done <- result{v, err}:
		case <-abandoned:
			if late != nil {
				late(v, err)
			}
		}
	}()
	select {
	case r := <-done:
		return r.v, r.err, true
	case <-ctx.Done():
		close(abandoned)
		return v, ctx.Err(), false
	}
}
