package sendiventredis_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sendivent/sendivent-go/webhook"
)

// Every Deduper call ends with its context whatever Redis does, as Wait
// does (see TestWaitEndsWithItsContext): Claim, and a lease's Complete and
// Release, against every misbehaving Redis, with a deadline and with a
// cancel at 100 ms.
func TestDeduperCallsEndWithTheirContext(t *testing.T) {
	t.Parallel()
	for _, h := range hostileRedis() {
		t.Run(h.name, func(t *testing.T) {
			t.Parallel()
			addr, breakIt, heal := h.start(t)
			for _, cl := range hostileClients {
				rdb := redis.NewClient(cl.opts(addr))
				t.Cleanup(func() { _ = rdb.Close() })
				d := newDeduper(t, rdb)
				var leases []webhook.Lease
				if breakIt != nil { // claims made while Redis answers, ended while it does not
					for _, key := range []string{"complete-" + cl.name, "release-" + cl.name} {
						leases = append(leases, claim(t, d, key, webhook.Acquired))
					}
					breakIt()
				}
				for _, end := range []string{"deadline", "cancel"} {
					calls := []struct {
						name string
						call func(ctx context.Context) error
					}{{"Claim", func(ctx context.Context) error {
						_, _, err := d.Claim(ctx, "claim-"+cl.name+end)
						return err
					}}}
					if len(leases) > 0 {
						calls = append(calls, struct {
							name string
							call func(ctx context.Context) error
						}{"Complete", leases[0].Complete}, struct {
							name string
							call func(ctx context.Context) error
						}{"Release", leases[1].Release})
					}
					for _, c := range calls {
						ctx, cancel := endsAt100ms(end)
						start := time.Now()
						err := c.call(ctx)
						took := time.Since(start)
						cancel()
						t.Logf("%s, %s, %s: %v after %v", cl.name, end, c.name, err, took.Round(time.Millisecond))
						if took > 400*time.Millisecond {
							t.Errorf("%s, %s: %s returned after %v; want it to end with its context at 100 ms", cl.name, end, c.name, took)
						}
						if err == nil && end == "deadline" {
							t.Errorf("%s, %s: %s = nil; want an error", cl.name, end, c.name)
						}
						if h.stalls() && !isCtxErr(err) && end == "deadline" {
							t.Errorf("%s, %s: %s = %v against a Redis that never answers; want the context's error", cl.name, end, c.name, err)
						}
					}
					leases = nil // ended: a second call does nothing
				}
				if heal != nil { // well again: the calls work
					heal()
					waitUntil(t, 15*time.Second, func() bool {
						_, _, err := d.Claim(context.Background(), "after-"+cl.name)
						return err == nil
					})
				}
			}
		})
	}
}
