package sendiventredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sendivent/sendivent-go/webhook"
)

// Deduper is a webhook.Deduper on Redis: every process that receives
// Sendivent's webhooks with it calls its function once per event, whichever
// process each delivery reaches. Pass it to webhook.Handler with
// webhook.WithDeduper. Its methods are safe for concurrent use.
//
// An event's key holds a claim while a process handles it, then "done":
//
//   - Claim sets the key to a token of its own, with the lease as expiry,
//     only if the key is absent (one Lua script, so of concurrent claims
//     one wins); a key holding "done" answers AlreadyDone, another token
//     InProgress.
//   - While the function runs, the lease is renewed every third of its
//     length, so a long function keeps its claim and a process that dies
//     mid-event loses it within one lease: the service's next retry runs
//     the event on another process.
//   - Complete sets the key to "done", kept for the done TTL; Release
//     deletes it, but only while it holds the claim's own token, so a
//     process whose lease lapsed cannot release another's claim.
//
// When Redis cannot be reached, Claim fails and webhook.Handler answers
// 503 with Retry-After without calling the function: the service retries,
// and the event runs once Redis answers. When Redis fails after the
// function succeeded, Complete fails: the handler still answers 204 (the
// event was handled) and logs at Error that a redelivery would run it
// again; the claim lapses within one lease. When Redis fails after the
// function failed, Release fails: the handler answers 500, and the
// service's retries are answered 503 until the claim lapses, then run the
// event. A Redis that loses its data (a restart without persistence)
// forgets which events were done.
//
// Every method returns when its context ends, whatever Redis does; a call
// given up on goes on in the background until the Redis client's own
// timeouts, and a claim it would have won is released.
type Deduper struct {
	rdb    redis.UniversalClient
	prefix string
	lease  time.Duration
	done   time.Duration
}

var _ webhook.Deduper = (*Deduper)(nil)

// NewDeduper returns a Deduper that keeps its keys in rdb. It does not
// contact Redis. Every process must use the same key prefix.
func NewDeduper(rdb redis.UniversalClient, opts ...DeduperOption) (*Deduper, error) {
	cfg := deduperConfig{prefix: DefaultDedupeKeyPrefix, lease: DefaultLease, done: webhook.DefaultDedupeTTL}
	for _, o := range opts {
		o(&cfg)
	}
	errs := cfg.errs
	if rdb == nil || isNilPointer(rdb) {
		errs = append(errs, errors.New("nil Redis client"))
	}
	if cfg.done < cfg.lease {
		errs = append(errs, fmt.Errorf("the done TTL %v is shorter than the lease %v", cfg.done, cfg.lease))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("sendiventredis.NewDeduper: %w", errors.Join(errs...))
	}
	return &Deduper{rdb: rdb, prefix: cfg.prefix, lease: cfg.lease, done: cfg.done}, nil
}

// The scripts: each reads and writes one key, atomically. A key holds a
// claim's token (32 hex digits), or "done" once its event was handled.
var (
	// KEYS[1] the event; ARGV token, lease (ms). 1: claimed; 2: done; 3: claimed by another.
	claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	return 1
end
if v == 'done' then return 2 end
return 3`)
	// ARGV token, lease (ms). 1: renewed; 0: the claim is not ours any more.
	renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`)
	// ARGV token, done TTL (ms). 1: completed our claim; 0: done, but the claim had lapsed.
	completeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], 'done', 'PX', ARGV[2])
if v == ARGV[1] then return 1 end
return 0`)
	// ARGV token. Deletes the key only while it holds the token.
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0`)
)

// Claim implements webhook.Deduper.
func (d *Deduper) Claim(ctx context.Context, key string) (webhook.ClaimResult, webhook.Lease, error) {
	token, err := newToken()
	if err != nil {
		return 0, nil, fmt.Errorf("sendiventredis: claim: %w", err)
	}
	l := &lease{d: d, key: d.prefix + key, token: token}
	run := func(ctx context.Context) (int64, error) {
		return claimScript.Run(ctx, d.rdb, []string{l.key}, l.token, d.lease.Milliseconds()).Int64()
	}
	n, err, ok := bounded(ctx, run, func(n int64, err error) {
		if err == nil && n == 1 { // won, but nobody waits for it: give it back
			_ = l.run(context.Background(), releaseScript, l.token)
		}
	})
	switch {
	case !ok:
		return 0, nil, err
	case err != nil:
		return 0, nil, fmt.Errorf("sendiventredis: claim: %w", err)
	case n == 1:
		l.startRenewing()
		return webhook.Acquired, l, nil
	case n == 2:
		return webhook.AlreadyDone, nil, nil
	case n == 3:
		return webhook.InProgress, nil, nil
	}
	return 0, nil, fmt.Errorf("sendiventredis: claim: unexpected answer %d", n)
}

// lease is one claim, renewed until it is ended.
type lease struct {
	d          *Deduper
	key, token string

	endOnce  sync.Once
	stop     context.CancelFunc // ends the renewing
	mu       sync.Mutex
	lost     bool // a renewal found the key no longer ours
	renewErr error
}

// newToken names one claim: 128 random bits, so that no other claim, in
// any process, holds the same.
func newToken() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

func (l *lease) run(ctx context.Context, s *redis.Script, args ...any) error {
	return s.Run(ctx, l.d.rdb, []string{l.key}, args...).Err()
}

func (l *lease) startRenewing() {
	ctx, cancel := context.WithCancel(context.Background())
	l.stop = cancel
	go func() {
		t := time.NewTicker(l.d.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := renewScript.Run(ctx, l.d.rdb, []string{l.key}, l.token, l.d.lease.Milliseconds()).Int64()
			if ctx.Err() != nil {
				return
			}
			l.mu.Lock()
			l.renewErr = err // Redis out of reach: try again next time; the claim lapses if it stays away
			if err == nil && n == 0 {
				l.lost = true
			}
			lost := l.lost
			l.mu.Unlock()
			if lost {
				return
			}
		}
	}()
}

// end stops the renewing; it reports whether this is the first end.
func (l *lease) end() bool {
	first := false
	l.endOnce.Do(func() {
		first = true
		l.stop()
	})
	return first
}

// Complete implements webhook.Lease.
func (l *lease) Complete(ctx context.Context) error {
	if !l.end() {
		return nil
	}
	n, err, ok := bounded(ctx, func(ctx context.Context) (int64, error) {
		return completeScript.Run(ctx, l.d.rdb, []string{l.key}, l.token, l.d.done.Milliseconds()).Int64()
	}, nil)
	switch {
	case !ok:
		return err
	case err != nil:
		return fmt.Errorf("sendiventredis: complete: %w", err)
	case n == 0:
		l.mu.Lock()
		cause := l.renewErr
		l.mu.Unlock()
		if cause != nil {
			return fmt.Errorf("%w: its lease of %v expired while Redis could not be reached (%v)", webhook.ErrClaimLost, l.d.lease, cause)
		}
		return fmt.Errorf("%w: its lease of %v expired", webhook.ErrClaimLost, l.d.lease)
	}
	return nil
}

// Release implements webhook.Lease.
func (l *lease) Release(ctx context.Context) error {
	if !l.end() {
		return nil
	}
	_, err, ok := bounded(ctx, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, l.run(ctx, releaseScript, l.token)
	}, nil)
	switch {
	case !ok:
		return err
	case err != nil:
		return fmt.Errorf("sendiventredis: release: %w", err)
	}
	return nil
}
