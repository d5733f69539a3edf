package sendiventredis_test

import (
	"math"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sendivent/sendivent-go/sendiventredis"
)

func TestNewRejectsBadArguments(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never contacted
	t.Cleanup(func() { _ = rdb.Close() })
	var nilClient *redis.Client
	key := sendiventredis.KeyFor(secretKey)
	tests := []struct {
		name  string
		rdb   redis.UniversalClient
		key   string
		rps   float64
		burst int
		opts  []sendiventredis.LimiterOption
		want  string
	}{
		{"nil client", nil, key, 10, 1, nil, "nil Redis client"},
		{"typed nil client", nilClient, key, 10, 1, nil, "nil Redis client"},
		{"empty key", rdb, "", 10, 1, nil, "empty key"},
		{"live API key as key", rdb, secretKey, 10, 1, nil, "looks like an API key"},
		{"test API key as key", rdb, "test_abc", 10, 1, nil, "looks like an API key"},
		{"zero rps", rdb, key, 0, 1, nil, "rps 0 is outside"},
		{"negative rps", rdb, key, -5, 1, nil, "rps -5 is outside"},
		{"NaN rps", rdb, key, math.NaN(), 1, nil, "rps NaN is outside"},
		{"infinite rps", rdb, key, math.Inf(1), 1, nil, "rps +Inf is outside"},
		{"rps under one a day", rdb, key, 1.0 / 100000, 1, nil, "is outside"},
		{"rps over a million", rdb, key, 2e6, 1, nil, "is outside"},
		{"zero burst", rdb, key, 10, 0, nil, "burst 0 is less than 1"},
		{"negative burst", rdb, key, 10, -1, nil, "burst -1 is less than 1"},
		{"zero replicas", rdb, key, 10, 1, []sendiventredis.LimiterOption{sendiventredis.FailOpen(0)}, "FailOpen(0)"},
		{"zero probe interval", rdb, key, 10, 1, []sendiventredis.LimiterOption{sendiventredis.WithProbeInterval(0)}, "WithProbeInterval: 0s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := sendiventredis.NewLimiter(tc.rdb, tc.key, tc.rps, tc.burst, tc.opts...)
			if err == nil || l != nil {
				t.Fatalf("NewLimiter = %v, %v; want an error", l, err)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "sendiventredis.NewLimiter: ") {
				t.Errorf("error %q; want it to start with sendiventredis.NewLimiter: and say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "Sup3rSecret") || strings.Contains(err.Error(), "test_abc") {
				t.Errorf("error %q shows the API key", err)
			}
		})
	}

	t.Run("every error at once", func(t *testing.T) {
		t.Parallel()
		_, err := sendiventredis.NewLimiter(nil, "", 0, 0)
		for _, want := range []string{"nil Redis client", "empty key", "rps 0", "burst 0"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v; want it to say %q", err, want)
			}
		}
	})
	t.Run("good arguments", func(t *testing.T) {
		t.Parallel()
		for _, rps := range []float64{sendiventredis.MinRPS, 0.5, 2.5, 10, 100, sendiventredis.MaxRPS} {
			if _, err := sendiventredis.NewLimiter(rdb, key, rps, 1, sendiventredis.FailOpen(3), sendiventredis.WithLogger(nil)); err != nil {
				t.Errorf("NewLimiter(rps %v): %v", rps, err)
			}
		}
	})
}

func TestKeyFor(t *testing.T) {
	t.Parallel()
	k := sendiventredis.KeyFor(secretKey)
	// Pinned: processes running different versions must agree on the key.
	if want := "sendivent:ratelimit:66a03e0646e480badfe0cc8bf7a4877a"; k != want {
		t.Errorf("KeyFor = %q; want %q", k, want)
	}
	if k != sendiventredis.KeyFor(secretKey) {
		t.Error("KeyFor is not deterministic")
	}
	if strings.Contains(k, "Sup3r") || strings.Contains(k, "live_") {
		t.Errorf("KeyFor = %q contains a piece of the API key", k)
	}
	if other := sendiventredis.KeyFor(secretKey + "x"); other == k {
		t.Error("two API keys share a Redis key")
	}
	if l := len(k) - len("sendivent:ratelimit:"); l != 32 {
		t.Errorf("hash part has %d hex digits; want 32", l)
	}
}

func TestKeyForReadsTheEnvironment(t *testing.T) { // not parallel: Setenv
	t.Setenv("SENDIVENT_API_KEY", secretKey)
	if got, want := sendiventredis.KeyFor(""), sendiventredis.KeyFor(secretKey); got != want {
		t.Errorf("KeyFor(\"\") = %q; want KeyFor($SENDIVENT_API_KEY) = %q", got, want)
	}
}
