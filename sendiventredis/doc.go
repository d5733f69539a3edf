// Package sendiventredis shares through Redis what the processes of one
// application must agree on: the Sendivent rate limit of their API key
// (Limiter), and which webhook events they have handled (Deduper).
//
// # A shared rate limit
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
//	lim, err := sendiventredis.NewLimiter(rdb, sendiventredis.KeyFor(apiKey), 100, 10,
//		sendiventredis.FailOpen(4)) // 4 replicas: 25/s each while Redis is down
//	if err != nil { ... }
//	client, err := sendivent.NewClient(apiKey, sendivent.WithLimiter(lim))
//
// Every process must use the same key, rate and burst. KeyFor derives the
// Redis key from the API key by hashing it, so Redis never holds the key.
// Redis keeps one small value per key ("rate:" + key), which expires once
// the budget is idle again.
//
// When Redis cannot be reached, the limiter does what NewLimiter's options
// chose: FailClosed (the default) returns an error matching ErrUnavailable
// that keeps Redis's error as its cause; FailOpen(n) paces each process on
// its own at rps/n until Redis answers again. Either way it logs the outage
// once and the recovery once, and asks Redis again at most once per probe
// interval (WithProbeInterval) in the meantime, so an outage costs one
// Redis timeout per interval, not one per request.
//
// # Webhook events handled once, across processes
//
// webhook.Handler calls its function once per event in one process. When
// replicas behind a load balancer receive the deliveries, a retried
// delivery can reach another replica; give every replica one Deduper:
//
//	dedupe, err := sendiventredis.NewDeduper(rdb)
//	if err != nil { ... }
//	http.Handle("/webhooks/sendivent", webhook.Handler(secret, onEvent,
//		webhook.WithDeduper(dedupe), webhook.WithLogger(slog.Default())))
//
// A delivery claims its event with a lease that is renewed while the
// function runs; its success marks the event done, its failure releases
// it for the service's retry; a process that dies mid-event loses its
// claim within one lease (WithLease). See Deduper for what happens while
// Redis is out of reach.
//
// # Contexts and the Redis client's options
//
// Limiter.Wait and every Deduper call return when their context ends,
// whatever Redis does (stalled, paused, answering half a reply): go-redis
// itself reads no context's cancellation, and its deadlines only with
// ContextTimeoutEnabled, so the call is left to finish in the background.
// The client's options decide how long such a call holds a connection and
// how soon an outage is noticed: give it short timeouts and few retries,
// as above. With go-redis's defaults (3 s reads, 5 dials, 4 tries) a
// stopped Redis takes seconds to be noticed.
//
// This package is its own module, so an application that does not use it
// gains no Redis dependency. It does not import package sendivent: any
// caller of a Wait(ctx) error limiter can use the Limiter.
package sendiventredis
