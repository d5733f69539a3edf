// Package redislimit is a rate limit shared through Redis by every process
// that sends with one Sendivent API key.
//
// The service allows 100 requests a second per live_ key (10 per test_ key).
// sendivent.WithRateLimit holds that for one process; when several replicas
// send with the same key, each one's own limiter lets the sum go over, and the
// service answers 429. A *Limiter keeps one budget for all of them in Redis,
// with GCRA (github.com/go-redis/redis_rate/v10): each Wait asks Redis for a
// slot and, when refused, waits the time Redis reports, then asks again.
// Redis's own clock decides, so the processes' clocks need not agree.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379",
//		DialTimeout: 500 * time.Millisecond, DialerRetries: 1, MaxRetries: 1,
//		ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond})
//	apiKey := os.Getenv("SENDIVENT_API_KEY")
//	lim, err := redislimit.New(rdb, redislimit.KeyFor(apiKey), 100, 10,
//		redislimit.FailOpen(4)) // 4 replicas: 25/s each while Redis is down
//	if err != nil { ... }
//	client, err := sendivent.NewClient(apiKey, sendivent.WithLimiter(lim))
//
// Every process must use the same key, rate and burst. KeyFor derives the
// Redis key from the API key by hashing it, so Redis never holds the key.
// Redis keeps one small value per key ("rate:" + key), which expires once
// the budget is idle again.
//
// When Redis cannot be reached, the limiter does what New's options chose:
// FailClosed (the default) returns an error matching ErrUnavailable that
// keeps Redis's error as its cause; FailOpen(n) paces each process on its
// own at rps/n until Redis answers again. Either way it logs the outage once
// and the recovery once, and asks Redis again at most once per probe
// interval (WithProbeInterval) in the meantime, so an outage costs one
// Redis timeout per interval, not one per request. A request waits for
// Redis's answer, so give the Redis client short timeouts and few retries,
// as above: with go-redis's defaults (5 dials, 4 tries) a stopped Redis
// takes about 2 s to be noticed.
//
// This package is its own module, so an application that does not use it
// gains no Redis dependency. It does not import package sendivent: any
// caller of a Wait(ctx) error limiter can use it.
package redislimit
