package sendivent_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// chaosSeed fixes the sequence of faults the server draws (in request
// arrival order, which the scheduler still shuffles between goroutines).
const chaosSeed = 20240611

// chaosLogger returns a logger that records every debug line the SDK writes.
func chaosLogger() (*slog.Logger, *sendivent.SyncBuffer) {
	buf := &sendivent.SyncBuffer{}
	return slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// chaosFaults is the fake's Chaos drawer (500/502/503/504, 429 with
// Retry-After 0 or 1, latency, malformed body, commit-then-drop) with a
// Retry-After of "0" (90%) or "1" (10%) added to the 5xx answers, which
// Chaos sends without one: otherwise each 5xx costs the SDK's 0.5 s·2ⁿ
// backoff and 2,000 sends take minutes.
func chaosFaults(seed int64, rate float64, maxLatency time.Duration) sendiventtest.FaultFunc {
	base := sendiventtest.Chaos(seed, rate, maxLatency)
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(uint64(seed), 0xa17e7)) //nolint:gosec // deterministic by design
	return func(r *http.Request) sendiventtest.Fault {
		f := base(r)
		if f.Kind == sendiventtest.FaultStatus && f.Status >= 500 && f.RetryAfter == "" {
			mu.Lock()
			f.RetryAfter = "0"
			if rng.IntN(10) == 0 {
				f.RetryAfter = "1"
			}
			mu.Unlock()
		}
		return f
	}
}

type chaosCall struct {
	key string
	id  string // set when accepted
	err error
}

// chaosErrKind sorts a Send error into the kinds the SDK promises; "" means it is
// none of them.
func chaosErrKind(err error) string {
	var (
		apiErr *sendivent.APIError
		valErr *sendivent.ValidationError
		trErr  *sendivent.TransportError
	)
	switch {
	case errors.As(err, &apiErr):
		return "api-" + strconv.Itoa(apiErr.StatusCode)
	case errors.As(err, &valErr):
		return "validation"
	case errors.As(err, &trErr):
		cause := trErr.Unwrap()
		var netErr net.Error
		var urlErr *url.Error
		switch {
		case cause == nil:
			return ""
		case errors.Is(cause, context.Canceled), errors.Is(cause, context.DeadlineExceeded):
			return "transport-context"
		case errors.Is(cause, sendivent.ErrMalformed):
			return "transport-malformed"
		case errors.Is(cause, sendivent.ErrTooLarge):
			return "transport-too-large"
		case errors.As(cause, &urlErr), errors.As(cause, &netErr),
			errors.Is(cause, io.EOF), errors.Is(cause, io.ErrUnexpectedEOF):
			return "transport-network"
		}
	}
	return ""
}

func chaosErrKey(err error) string {
	var apiErr *sendivent.APIError
	var trErr *sendivent.TransportError
	switch {
	case errors.As(err, &apiErr):
		return apiErr.IdempotencyKey
	case errors.As(err, &trErr):
		return trErr.IdempotencyKey
	}
	return ""
}

func chaosAttempts(err error) int {
	var apiErr *sendivent.APIError
	var trErr *sendivent.TransportError
	switch {
	case errors.As(err, &apiErr):
		return len(apiErr.Attempts)
	case errors.As(err, &trErr):
		return len(trErr.Attempts)
	}
	return 0
}

func chaosEmail(i int) string { return fmt.Sprintf("user%d@example.com", i) }
func chaosPhone(i int) string { return fmt.Sprintf("+4670%07d", i) }

// TestChaos: 16 goroutines share one client and send through a server that
// faults 20% of requests. Every call ends with an id or a typed error, every
// notification belongs to exactly one call, no key creates two, and the
// debug log holds neither the key nor a recipient in clear.
// 2,000 sends; 20,000 with SENDIVENT_LONG_TESTS; SENDIVENT_CHAOS_SENDS sets
// another number.
func TestChaos(t *testing.T) {
	t.Parallel()
	sends := 2000
	if long() {
		sends = 20_000
	}
	if v := os.Getenv("SENDIVENT_CHAOS_SENDS"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "SENDIVENT_CHAOS_SENDS")
		sends = n
	}
	const workers = 16

	srv := sendiventtest.NewServer(
		sendiventtest.WithManualLifecycle(),
		sendiventtest.WithRetention(sends), // every notification is checked against its call
		sendiventtest.WithFaultFunc(chaosFaults(chaosSeed, 0.20, 200*time.Millisecond)),
	)
	defer srv.Close()
	logger, logs := chaosLogger()
	client := srv.Client(sendivent.WithLogger(logger))

	calls := make([]chaosCall, sends)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= sends {
					return
				}
				var to sendivent.Recipient = sendivent.Address(chaosEmail(i))
				switch i % 3 {
				case 1:
					to = sendivent.Contact{Email: chaosEmail(i), Phone: chaosPhone(i), Name: "User " + strconv.Itoa(i)}
				case 2:
					to = sendivent.Address(chaosPhone(i))
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				res, err := client.Send(ctx, "welcome", sendivent.SendRequest{
					To:      []sendivent.Recipient{to},
					Payload: sendivent.Payload{"n": i},
				})
				cancel()
				c := &calls[i]
				c.err = err
				if err == nil {
					c.id, c.key = res.ID, res.IdempotencyKey
				} else {
					c.key = chaosErrKey(err)
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Every call: an accepted id or a typed error that says what happened.
	byKey := make(map[string]int, sends)
	kinds := map[string]int{}
	accepted, sdkRetries := 0, 0
	for i, c := range calls {
		require.NotEmpty(t, c.key, "call %d has no idempotency key (err %v)", i, c.err)
		_, dup := byKey[c.key]
		require.False(t, dup, "two calls share key %s", c.key)
		byKey[c.key] = i
		if c.err == nil {
			require.NotEmpty(t, c.id, "call %d accepted without an id", i)
			accepted++
			continue
		}
		k := chaosErrKind(c.err)
		require.NotEmpty(t, k, "call %d: untyped or unexplained error %T: %v", i, c.err, c.err)
		require.NotEqual(t, "validation", k, "call %d: %v", i, c.err)
		kinds[k]++
		sdkRetries += chaosAttempts(c.err) - 1
	}

	// Every notification: one call's, and one per key.
	perKey := map[string][]sendiventtest.Notification{}
	for _, n := range srv.Notifications() {
		perKey[n.IdempotencyKey] = append(perKey[n.IdempotencyKey], n)
	}
	duplicates, committedErrored := 0, 0
	for key, ns := range perKey {
		if len(ns) > 1 {
			duplicates += len(ns) - 1
		}
		i, ok := byKey[key]
		require.True(t, ok, "notification %s has key %q that no call sent", ns[0].ID, key)
		c := calls[i]
		if c.err != nil {
			committedErrored++
			continue
		}
		assert.Equal(t, c.id, ns[0].ID, "call %d got an id that is not its notification's", i)
	}
	for i, c := range calls {
		if c.err == nil {
			_, ok := perKey[c.key]
			assert.True(t, ok, "call %d accepted (%s) but the server has no notification for its key", i, c.id)
		}
	}
	assert.Zero(t, duplicates, "idempotency keys that created more than one notification")

	st := srv.Stats()
	var faults []string
	for k, v := range st.Faults {
		faults = append(faults, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(faults)
	var errs []string
	for k, v := range kinds {
		errs = append(errs, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(errs)
	t.Logf("chaos: %d sends from %d goroutines in %v", sends, workers, elapsed.Round(time.Millisecond))
	t.Logf("chaos: accepted=%d errored=%d [%s]", accepted, sends-accepted, strings.Join(errs, " "))
	t.Logf("chaos: server requests=%d (retries and transport resends: %d; retries by failed calls' Attempts: %d) created=%d replays=%d",
		st.Requests, st.Requests-sends, sdkRetries, st.Created, st.Replays)
	t.Logf("chaos: faults drawn [%s]", strings.Join(faults, " "))
	t.Logf("chaos: committed-but-errored=%d duplicates=%d", committedErrored, duplicates)
	assert.Equal(t, len(perKey), st.Created, "notifications created vs distinct keys")
	assert.Greater(t, accepted, sends*9/10, "far fewer accepted than expected")

	// The debug log: lines were written, none holds the key or a recipient.
	text := logs.String()
	lines := strings.Count(text, "\n")
	require.Greater(t, lines, sends, "debug log lines")
	assert.NotContains(t, text, srv.APIKey())
	assert.NotContains(t, text, strings.TrimPrefix(srv.APIKey(), "test_"))
	clearRecipient := regexp.MustCompile(`user\d+@example\.com|\+4670\d{7}|User \d+`)
	if m := clearRecipient.FindAllString(text, 5); len(m) > 0 {
		t.Errorf("recipients in clear in the debug log: %q", m)
	}
	assert.Contains(t, text, `u***@example.com`, "masked recipients are logged")
}
