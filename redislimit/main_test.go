package redislimit_test

import (
	"context"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestMain runs the test binary as a worker process when the scaling test
// re-executes it (see worker_test.go), and silences go-redis's own log of
// failed dials, which the outage tests cause on purpose.
func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{})
	if cfg := os.Getenv(workerEnv); cfg != "" {
		os.Exit(runWorker(cfg))
	}
	os.Exit(m.Run())
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}
