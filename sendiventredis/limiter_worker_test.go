package sendiventredis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventredis"
)

// workerEnv holds a worker's JSON config when the scaling test re-executes
// the test binary as one of its sending processes.
const workerEnv = "SENDIVENTREDIS_TEST_WORKER"

// workerConfig is what one worker process does.
type workerConfig struct {
	ID          int
	Run         string // prefix of the idempotency keys
	Sends       int
	Concurrency int
	BaseURL     string
	APIKey      string
	StartAt     time.Time // every worker starts sending at this instant
	Timeout     time.Duration

	Shared        bool // the Redis limiter; else sendivent.WithRateLimit(RPS, 1)
	RedisAddr     string
	RPS           float64
	Burst         int
	FailOpen      int // expected replicas; 0 fails closed
	ProbeInterval time.Duration
}

// workerResult is what a worker reports on stdout, as JSON.
type workerResult struct {
	Accepted int // logical sends the service accepted (each exactly once)
	Replayed int // of those, answered as an idempotent replay
	// Refused counts sends the limiter refused (Redis down, fail closed);
	// the worker sent each again later with the same idempotency key.
	Refused int
	// Resent429 counts sends whose retries the SDK spent on 429 answers;
	// the worker waited Retry-After and sent each again with the same key.
	Resent429 int
	Failed    []string // sends given up on: "key: error"
	Outages   int      // outages the limiter logged
	Recovered int      // recoveries the limiter logged
	First     time.Time
	Last      time.Time
}

// sendKey is the idempotency key of a worker's i-th logical send. A send is
// sent again only with its own key, so the service creates it at most once.
func sendKey(run string, worker, i int) string { return fmt.Sprintf("%s-w%d-%03d", run, worker, i) }

// runWorker sends cfg.Sends notifications from cfg.Concurrency goroutines
// and prints a workerResult. It returns the process's exit code.
func runWorker(raw string) int {
	var cfg workerConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "worker config:", err)
		return 2
	}
	res, err := work(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 2
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		return 2
	}
	return 0
}

func work(cfg workerConfig) (*workerResult, error) {
	logs := newLogCapture(os.Stderr)
	opts := []sendivent.Option{sendivent.WithBaseURL(cfg.BaseURL)}
	if cfg.Shared {
		rdb := redis.NewClient(clientOptions(cfg.RedisAddr))
		defer rdb.Close()
		lopts := []sendiventredis.LimiterOption{sendiventredis.WithLogger(slog.New(logs)), sendiventredis.WithProbeInterval(cfg.ProbeInterval)}
		if cfg.FailOpen > 0 {
			lopts = append(lopts, sendiventredis.FailOpen(cfg.FailOpen))
		}
		lim, err := sendiventredis.NewLimiter(rdb, sendiventredis.KeyFor(cfg.APIKey), cfg.RPS, cfg.Burst, lopts...)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sendivent.WithLimiter(lim))
	} else {
		opts = append(opts, sendivent.WithRateLimit(cfg.RPS, 1))
	}
	client, err := sendivent.NewClient(cfg.APIKey, opts...)
	if err != nil {
		return nil, err
	}
	defer client.CloseIdleConnections()

	ctx, cancel := context.WithDeadline(context.Background(), cfg.StartAt.Add(cfg.Timeout))
	defer cancel()
	time.Sleep(time.Until(cfg.StartAt))

	var (
		mu  sync.Mutex
		res workerResult
		wg  sync.WaitGroup
	)
	next := make(chan int)
	go func() {
		defer close(next)
		for i := range cfg.Sends {
			next <- i
		}
	}()
	res.First = time.Now()
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				o := sendOnce(ctx, client, sendKey(cfg.Run, cfg.ID, i), i)
				mu.Lock()
				res.add(o)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	res.Last = time.Now()
	res.Outages, res.Recovered = logs.count(slog.LevelWarn, msgOutage), logs.count(slog.LevelInfo, msgRecovery)
	return &res, nil
}

// sendOutcome is how one logical send went.
type sendOutcome struct {
	ok, replayed       bool
	refused, resent429 int
	failure            string
}

func (r *workerResult) add(o sendOutcome) {
	if o.ok {
		r.Accepted++
	}
	if o.replayed {
		r.Replayed++
	}
	r.Refused += o.refused
	r.Resent429 += o.resent429
	if o.failure != "" {
		r.Failed = append(r.Failed, o.failure)
	}
}

// sendOnce sends one notification until the service accepts it, as an
// application would: a limiter refusal (Redis down, fail closed) is sent
// again after a pause, a 429 that outlasted the SDK's retries after the
// Retry-After, both with the same idempotency key; any other error is
// reported.
func sendOnce(ctx context.Context, c *sendivent.Client, key string, i int) sendOutcome {
	var o sendOutcome
	for {
		res, err := c.Event("order.shipped").
			To(sendivent.Address(fmt.Sprintf("user%d@example.com", i))).
			Payload(sendivent.Payload{"order": i}).
			IdempotencyKey(key).Send(ctx)
		var apiErr *sendivent.APIError
		switch {
		case err == nil:
			o.ok, o.replayed = true, res.Replayed
			return o
		case ctx.Err() != nil:
			o.failure = key + ": " + err.Error()
			return o
		case errors.Is(err, sendiventredis.ErrUnavailable):
			o.refused++
			time.Sleep(100 * time.Millisecond)
		case errors.As(err, &apiErr) && apiErr.StatusCode == 429:
			o.resent429++
			time.Sleep(apiErr.RetryAfter)
		default:
			o.failure = key + ": " + err.Error()
			return o
		}
	}
}
