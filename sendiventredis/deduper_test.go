package sendiventredis_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sendivent/sendivent-go/sendiventredis"
	"github.com/sendivent/sendivent-go/webhook"
)

// newDeduper makes a Deduper on rdb whose keys are t's own.
func newDeduper(t *testing.T, rdb redis.UniversalClient, opts ...sendiventredis.DeduperOption) *sendiventredis.Deduper {
	t.Helper()
	opts = append([]sendiventredis.DeduperOption{sendiventredis.WithKeyPrefix("test:" + t.Name() + ":")}, opts...)
	d, err := sendiventredis.NewDeduper(rdb, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func claim(t *testing.T, d webhook.Deduper, key string, want webhook.ClaimResult) webhook.Lease {
	t.Helper()
	got, lease, err := d.Claim(context.Background(), key)
	if err != nil {
		t.Fatalf("Claim(%q): %v", key, err)
	}
	if got != want {
		t.Fatalf("Claim(%q) = %v; want %v", key, got, want)
	}
	if (lease != nil) != (got == webhook.Acquired) {
		t.Fatalf("Claim(%q) = %v with lease %v; want a lease with Acquired only", key, got, lease)
	}
	return lease
}

// The steps, as MemoryDeduper's tests check them, on a real Redis, with
// two Dedupers (two processes) sharing it.
func TestDeduperSteps(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	ctx := context.Background()
	a := newDeduper(t, rs.Client())
	b := newDeduper(t, rs.Client())

	la := claim(t, a, "e1", webhook.Acquired)
	claim(t, b, "e1", webhook.InProgress)
	claim(t, a, "e1", webhook.InProgress)
	if err := la.Complete(ctx); err != nil {
		t.Fatal(err)
	}
	claim(t, b, "e1", webhook.AlreadyDone)
	if err := la.Release(ctx); err != nil { // after Complete: nothing
		t.Fatal(err)
	}
	claim(t, b, "e1", webhook.AlreadyDone)

	lb := claim(t, b, "e2", webhook.Acquired)
	if err := lb.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := lb.Complete(ctx); err != nil { // after Release: nothing
		t.Fatal(err)
	}
	la2 := claim(t, a, "e2", webhook.Acquired)
	if err := lb.Release(ctx); err != nil { // an ended lease cannot release another's claim
		t.Fatal(err)
	}
	claim(t, b, "e2", webhook.InProgress)
	if err := la2.Complete(ctx); err != nil {
		t.Fatal(err)
	}
	claim(t, b, "e2", webhook.AlreadyDone)

	// The keys: the prefix and the event's key; done marks expire.
	ttl, err := rs.Client().PTTL(ctx, "test:"+t.Name()+":e1").Result()
	if err != nil || ttl <= 23*time.Hour || ttl > 24*time.Hour {
		t.Errorf("done key's TTL %v, %v; want about 24 h", ttl, err)
	}
}

// Of many claims at once, from many Dedupers, one wins.
func TestDeduperConcurrentClaims(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		d := newDeduper(t, rs.Client())
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, _, err := d.Claim(context.Background(), "k")
				if err != nil {
					t.Error(err)
				}
				if res == webhook.Acquired {
					won.Add(1)
				}
			}()
		}
	}
	wg.Wait()
	if n := won.Load(); n != 1 {
		t.Errorf("%d of 64 concurrent claims won; want 1", n)
	}
}

// A claim that is not renewed (its process died) lapses after the lease,
// and the next delivery claims the event; the lapsed lease cannot release
// the new claim, and its Complete says the claim was lost.
func TestDeduperLeaseLapses(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	ctx := context.Background()
	const lease = 300 * time.Millisecond
	d := newDeduper(t, rs.Client(), sendiventredis.WithLease(lease))
	key := "test:" + t.Name() + ":e"

	old := claim(t, d, "e", webhook.Acquired)
	// Kill the renewals as a dead process would: take the key away and
	// put a stranger's claim in its place.
	if err := rs.Client().Set(ctx, key, "another-process", lease).Err(); err != nil {
		t.Fatal(err)
	}
	claim(t, d, "e", webhook.InProgress)
	waitUntil(t, 5*time.Second, func() bool {
		res, l, err := d.Claim(ctx, "e")
		if err == nil && res == webhook.Acquired {
			t.Cleanup(func() { _ = l.Release(ctx) })
			return true
		}
		return false
	})
	if err := old.Release(ctx); err != nil {
		t.Fatal(err)
	}
	claim(t, d, "e", webhook.InProgress) // the release left the new claim alone

	stale := claim(t, d, "f", webhook.Acquired)
	if err := rs.Client().Set(ctx, "test:"+t.Name()+":f", "another-process", 0).Err(); err != nil {
		t.Fatal(err)
	}
	err := stale.Complete(ctx)
	if !errors.Is(err, webhook.ErrClaimLost) {
		t.Errorf("Complete of a lapsed claim = %v; want ErrClaimLost", err)
	}
	claim(t, d, "f", webhook.AlreadyDone) // the event was handled: done all the same
}

// While the function runs, the claim is renewed: a function that runs for
// several leases keeps its event.
func TestDeduperRenewsTheLease(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	const lease = 150 * time.Millisecond
	d := newDeduper(t, rs.Client(), sendiventredis.WithLease(lease))
	l := claim(t, d, "e", webhook.Acquired)
	deadline := time.Now().Add(5 * lease)
	for time.Now().Before(deadline) {
		claim(t, d, "e", webhook.InProgress)
		time.Sleep(lease / 5)
	}
	if err := l.Complete(context.Background()); err != nil {
		t.Fatalf("Complete after 5 leases: %v", err)
	}
	claim(t, d, "e", webhook.AlreadyDone)
}

// A claim whose caller gave up before Redis answered is given back once
// the answer comes: the event is not blocked for a lease.
func TestDeduperAbandonedClaimIsReleased(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	d := newDeduper(t, rs.Client())
	if _, _, err := d.Claim(context.Background(), "warm-up"); err != nil { // a connection, set up
		t.Fatal(err)
	}
	rs.Pause()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := d.Claim(ctx, "e"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Claim = %v; want DeadlineExceeded", err)
	}
	rs.Resume() // Redis answers the claim now: won, by nobody
	waitUntil(t, 5*time.Second, func() bool {
		res, l, err := d.Claim(context.Background(), "e")
		if err != nil || res != webhook.Acquired {
			return false
		}
		_ = l.Release(context.Background())
		return true
	})
}

func TestNewDeduperRejectsBadArguments(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never contacted
	t.Cleanup(func() { _ = rdb.Close() })
	var nilClient *redis.Client
	tests := []struct {
		name string
		rdb  redis.UniversalClient
		opts []sendiventredis.DeduperOption
		want string
	}{
		{"nil client", nil, nil, "nil Redis client"},
		{"typed nil client", nilClient, nil, "nil Redis client"},
		{"lease under 10ms", rdb, []sendiventredis.DeduperOption{sendiventredis.WithLease(time.Millisecond)}, "WithLease: 1ms"},
		{"zero done TTL", rdb, []sendiventredis.DeduperOption{sendiventredis.WithDoneTTL(0)}, "WithDoneTTL: 0s"},
		{"done TTL under the lease", rdb, []sendiventredis.DeduperOption{sendiventredis.WithDoneTTL(time.Second)}, "shorter than the lease"},
		{"empty prefix", rdb, []sendiventredis.DeduperOption{sendiventredis.WithKeyPrefix("")}, "empty prefix"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := sendiventredis.NewDeduper(tc.rdb, tc.opts...)
			if err == nil || d != nil {
				t.Fatalf("NewDeduper = %v, %v; want an error", d, err)
			}
			if !strings.HasPrefix(err.Error(), "sendiventredis.NewDeduper: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q; want it to say %q", err, tc.want)
			}
		})
	}
	if _, err := sendiventredis.NewDeduper(rdb); err != nil {
		t.Errorf("NewDeduper with the defaults: %v", err)
	}
}
