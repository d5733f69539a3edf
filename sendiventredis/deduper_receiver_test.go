package sendiventredis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sendivent/sendivent-go/sendiventredis"
	"github.com/sendivent/sendivent-go/webhook"
)

// receiverEnv holds a receiver's JSON config when the cross-process
// deduplication test re-executes the test binary as one of its webhook
// receivers.
const receiverEnv = "SENDIVENTREDIS_TEST_RECEIVER"

// receiverConfig is what one receiver process does.
type receiverConfig struct {
	ID        int
	RedisAddr string
	Prefix    string
	Lease     time.Duration
	Slow      time.Duration // how long the function takes
	FailRate  float64       // chance that a chaos-… event's function fails
}

// runReceiver serves webhook.Handler with a Deduper on Redis on a loopback
// port until its stdin closes, and reports on stdout, one line each:
//
//	listening <addr>
//	start <id> <uuid>   the function began
//	done <id> <uuid>    it succeeded
//	fail <id> <uuid>    it failed
//
// The function hangs for ever on a hang-… event in receiver 0 (the test
// kills that process mid-function), fails on a fail-… event in receiver 0,
// and fails on a chaos-… event at FailRate.
func runReceiver(raw string) int {
	var cfg receiverConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "receiver config:", err)
		return 2
	}
	rdb := redis.NewClient(clientOptions(cfg.RedisAddr))
	defer rdb.Close()
	d, err := sendiventredis.NewDeduper(rdb, sendiventredis.WithKeyPrefix(cfg.Prefix), sendiventredis.WithLease(cfg.Lease))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var out sync.Mutex
	say := func(format string, args ...any) {
		out.Lock()
		defer out.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	fn := func(ctx context.Context, ev *webhook.Event) error {
		uuid := ev.Delivery.UUID
		say("start %d %s", cfg.ID, uuid)
		switch {
		case strings.HasPrefix(uuid, "hang-") && cfg.ID == 0:
			select {} // until killed
		case strings.HasPrefix(uuid, "fail-") && cfg.ID == 0,
			strings.HasPrefix(uuid, "chaos-") && rand.Float64() < cfg.FailRate:
			time.Sleep(cfg.Slow)
			say("fail %d %s", cfg.ID, uuid)
			return errors.New("the function failed")
		}
		time.Sleep(cfg.Slow)
		say("done %d %s", cfg.ID, uuid)
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	srv := &http.Server{Handler: webhook.Handler(hookSecret, fn, webhook.WithDeduper(d)), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	say("listening %s", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the test closes it
	_ = srv.Close()
	return 0
}
