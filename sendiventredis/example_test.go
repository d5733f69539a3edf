package sendiventredis_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventredis"
	"github.com/sendivent/sendivent-go/webhook"
)

// Every replica of a service that sends with one API key shares that key's
// 100 requests a second through Redis. While Redis is down, each of the 4
// expected replicas sends at 25 a second on its own.
func ExampleNewLimiter() {
	apiKey := os.Getenv("SENDIVENT_API_KEY")
	rdb := redis.NewClient(&redis.Options{
		Addr:        "localhost:6379",
		DialTimeout: 500 * time.Millisecond, DialerRetries: 1, MaxRetries: 1,
		ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
	})
	defer rdb.Close()

	lim, err := sendiventredis.NewLimiter(rdb, sendiventredis.KeyFor(apiKey), 100, 10, sendiventredis.FailOpen(4))
	if err != nil {
		log.Fatal(err)
	}
	client, err := sendivent.NewClient(apiKey, sendivent.WithLimiter(lim))
	if err != nil {
		log.Fatal(err)
	}
	res, err := client.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.ID)
}

// Under FailClosed (the default) a send during a Redis outage fails without
// being sent; send it again later with the same idempotency key.
func ExampleFailClosed() {
	apiKey := os.Getenv("SENDIVENT_API_KEY")
	rdb := redis.NewClient(&redis.Options{Addr: "localhost:6379", DialerRetries: 1, MaxRetries: 1})
	defer rdb.Close()
	lim, err := sendiventredis.NewLimiter(rdb, sendiventredis.KeyFor(apiKey), 100, 10, sendiventredis.FailClosed())
	if err != nil {
		log.Fatal(err)
	}
	client, err := sendivent.NewClient(apiKey, sendivent.WithLimiter(lim))
	if err != nil {
		log.Fatal(err)
	}
	key := sendivent.IdempotencyKeyFrom("welcome", "user-42")
	_, err = client.Event("welcome").To(sendivent.Address("alice@example.com")).
		IdempotencyKey(key).Send(context.Background())
	if errors.Is(err, sendiventredis.ErrUnavailable) {
		log.Printf("Redis is down; send %s again later: %v", key, err)
	}
}

// Every replica that receives Sendivent's webhooks calls its function once
// per event, whichever replica each delivery (or retry) reaches.
func ExampleNewDeduper() {
	rdb := redis.NewClient(&redis.Options{
		Addr:        "localhost:6379",
		DialTimeout: 500 * time.Millisecond, DialerRetries: 1, MaxRetries: 1,
		ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
	})
	defer rdb.Close()
	secret := os.Getenv("SENDIVENT_WEBHOOK_SECRET")
	onEvent := func(ctx context.Context, ev *webhook.Event) error {
		log.Printf("%s: %s", ev.Type, ev.Delivery.UUID)
		return nil
	}
	mux := http.NewServeMux()

	dedupe, err := sendiventredis.NewDeduper(rdb)
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/webhooks/sendivent", webhook.Handler(secret, onEvent,
		webhook.WithDeduper(dedupe), webhook.WithLogger(slog.Default())))

	srv := &http.Server{Addr: ":8080", Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}

func ExampleKeyFor() {
	fmt.Println(sendiventredis.KeyFor("live_0123456789abcdef"))
	// Output: sendivent:ratelimit:9cd2b0fe8aaac6deefc56cf543bc0c6c
}
