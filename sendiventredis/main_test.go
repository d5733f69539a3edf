package sendiventredis_test

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestMain runs the test binary as a sending worker when the limiter's
// scaling test re-executes it (see limiter_worker_test.go), or as a webhook
// receiver for the deduper's cross-process test (deduper_receiver_test.go),
// and silences go-redis's own log of failed dials, which the outage tests
// cause on purpose.
func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{})
	if cfg := os.Getenv(workerEnv); cfg != "" {
		os.Exit(runWorker(cfg))
	}
	if cfg := os.Getenv(receiverEnv); cfg != "" {
		os.Exit(runReceiver(cfg))
	}
	os.Exit(m.Run())
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
