package sendiventredis_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// The scaling demonstration: 4 processes (this test binary, re-executed)
// each send 500 notifications with one API key to one fake service that
// enforces 100 requests a second for the key.
//
// "Enforces 100/s" is the fake's token bucket: 100 tokens, refilled at 100
// a second, one per request, 429 with Retry-After: 1 when empty. Over any
// span of T seconds it admits at most 100 + 100*T requests, so over the
// ~20 s of a run the admitted rate cannot pass 105/s, and any sender that
// goes faster than 100/s for more than a second is refused. It lets a
// 1-second window hold up to 200, so the test also reports the busiest
// 1-second window of the shared limiter's run, to show it stays at 100/s in
// short windows too.
const (
	scaleWorkers     = 4
	scaleSends       = 500
	scaleRPS         = 100
	scaleConcurrency = 4                               // sending goroutines per process
	sharedBurst      = 10                              // the Redis limiter's burst: 100 ms of slack
	inFlight         = scaleWorkers * scaleConcurrency // requests on their way at any instant, at most
)

type scenario struct {
	shared   bool          // the Redis limiter; else each process's own
	failOpen int           // FailOpen(n); 0 fails closed
	outage   time.Duration // stop Redis this long once half the sends are in
}

// scaleRun is what one scenario did.
type scaleRun struct {
	run                          string // the idempotency keys' prefix
	workers                      []workerResult
	sends                        []sendRecord
	requests, status429, created int
	stoppedAt, restartedAt       time.Time
}

func TestScaleAcrossProcesses(t *testing.T) {
	// Not parallel, and the scenarios run one after another: sharing the
	// machine's 2 cores would distort the rates measured.
	t.Run("a: shared Redis limiter", func(t *testing.T) {
		r := runScale(t, scenario{shared: true})
		r.checkExactlyOnce(t)
		rate, span := r.combinedRate()
		busiest := r.busiestSecond()
		t.Logf("(a) shared Redis limiter at %d/s, burst %d: %d/%d accepted, %d requests, %d answered 429; "+
			"%.1f s from first to last accepted: %.1f/s combined; busiest 1-s window %d; longest gap %v",
			scaleRPS, sharedBurst, r.created, scaleWorkers*scaleSends, r.requests, r.status429,
			span.Seconds(), rate, busiest, r.longestGap().Round(time.Millisecond))
		if r.status429 != 0 {
			t.Errorf("%d answers were 429; want none", r.status429)
		}
		if rate < 0.95*scaleRPS {
			t.Errorf("combined rate %.1f/s; want at least 95%% of %d/s (a gap of more than the burst's "+
				"%v between accepted sends means every process stalled: a loaded machine)", rate, scaleRPS,
				time.Duration(sharedBurst)*time.Second/scaleRPS)
		}
		// Counted at arrival, a 1-s window holds what the limiter let go
		// in that second (the rate and the burst) and, at most, what was
		// already in flight when the window opened: one request per
		// sending goroutine. A loaded machine can delay requests and bunch
		// their arrivals, but not put more of them in flight.
		if limit := scaleRPS + sharedBurst + inFlight; busiest > limit {
			t.Errorf("busiest 1-s window held %d requests; want at most %d/s + the burst of %d + the %d that can be in flight",
				busiest, scaleRPS, sharedBurst, inFlight)
		}
	})

	t.Run("b: each process's own limiter", func(t *testing.T) {
		r := runScale(t, scenario{})
		r.checkExactlyOnce(t)
		rate, span := r.combinedRate()
		resent := 0
		for _, w := range r.workers {
			resent += w.Resent429
		}
		t.Logf("(b) own limiter per process, %d/s each: %d/%d accepted, %d requests: %d answered 429 "+
			"(%d extra requests), %d sends outlasted the SDK's retries and were sent again by the workers; "+
			"%.1f s from first to last accepted: %.1f/s combined",
			scaleRPS, r.created, scaleWorkers*scaleSends, r.requests, r.status429,
			r.requests-r.created, resent, span.Seconds(), rate)
		if r.status429 == 0 {
			t.Error("no 429 answers: the fake did not enforce its limit, so (a) shows nothing")
		}
	})

	for _, sc := range []struct {
		name string
		sc   scenario
	}{
		{"c: Redis stopped halfway, fail closed", scenario{shared: true, outage: 3 * time.Second}},
		{"c: Redis stopped halfway, fail open", scenario{shared: true, failOpen: scaleWorkers, outage: 3 * time.Second}},
	} {
		t.Run(sc.name, func(t *testing.T) {
			r := runScale(t, sc.sc)
			r.checkExactlyOnce(t)
			r.checkOutageLogged(t)
			rate, span := r.combinedRate()
			// Requests the limiter let go just before Redis died arrive
			// after, however late a loaded machine makes them: at most one
			// per sending goroutine. More than that were let go during the
			// outage.
			during := r.acceptedBetween(r.stoppedAt, r.restartedAt)
			outage := r.restartedAt.Sub(r.stoppedAt)
			refused, replayed := 0, 0
			for _, w := range r.workers {
				refused += w.Refused
				replayed += w.Replayed
			}
			policy := "fail closed"
			if sc.sc.failOpen > 0 {
				policy = fmt.Sprintf("fail open (%d replicas)", sc.sc.failOpen)
			}
			t.Logf("(c) %s, Redis stopped for %.1f s at %d accepted: %d accepted during the outage, "+
				"%d limiter refusals sent again later, %d replays; %d/%d created, each key once; "+
				"%d requests, %d answered 429; %.1f s from first to last accepted: %.1f/s combined",
				policy, outage.Seconds(), scaleWorkers*scaleSends/2, during, refused, replayed,
				r.created, scaleWorkers*scaleSends, r.requests, r.status429, span.Seconds(), rate)
			if r.status429 != 0 {
				t.Errorf("%d answers were 429; want none", r.status429)
			}
			if sc.sc.failOpen == 0 {
				if during > inFlight {
					t.Errorf("fail closed: %d sends accepted while Redis was down; want none but the %d that can be in flight when it stopped",
						during, inFlight)
				}
				if refused == 0 {
					t.Error("fail closed: no send was refused while Redis was down")
				}
				return
			}
			if want := int(0.5 * scaleRPS * outage.Seconds()); during < want {
				t.Errorf("fail open: %d sends accepted while Redis was down; want at least %d (half the rate)", during, want)
			}
			if refused != 0 {
				t.Errorf("fail open: %d sends refused; want none", refused)
			}
		})
	}
}

// runScale runs one scenario: a fresh fake (and Redis), 4 worker processes
// that start sending at one instant, and the outage, if any.
func runScale(t *testing.T, sc scenario) *scaleRun {
	t.Helper()
	run := randomHex(4)
	apiKey := "live_" + randomHex(16)
	fake := newFakeService(t, apiKey, scaleRPS)
	cfg := workerConfig{
		Run: run, Sends: scaleSends, Concurrency: scaleConcurrency, BaseURL: fake.URL, APIKey: apiKey,
		StartAt: time.Now().Add(2 * time.Second), Timeout: 90 * time.Second,
		Shared: sc.shared, RPS: scaleRPS, Burst: sharedBurst, FailOpen: sc.failOpen,
		ProbeInterval: 250 * time.Millisecond,
	}
	var rs *redisServer
	if sc.shared {
		rs = startRedis(t)
		cfg.RedisAddr = rs.Addr
	}

	type exit struct {
		id       int
		err      error
		out, log *bytes.Buffer
	}
	exits := make(chan exit, scaleWorkers)
	for id := range scaleWorkers {
		cfg.ID = id
		raw, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), workerEnv+"="+string(raw))
		var out, log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { exits <- exit{id, cmd.Wait(), &out, &log} }()
	}

	r := &scaleRun{run: run, workers: make([]workerResult, scaleWorkers)}
	done := 0
	collect := func(e exit) {
		done++
		if e.err != nil {
			t.Errorf("worker %d: %v\n%s", e.id, e.err, e.log)
			return
		}
		if err := json.Unmarshal(e.out.Bytes(), &r.workers[e.id]); err != nil {
			t.Errorf("worker %d result %q: %v\n%s", e.id, e.out, err, e.log)
		}
		if t.Failed() || testing.Verbose() && e.log.Len() > 0 {
			t.Logf("worker %d log:\n%s", e.id, e.log)
		}
	}
	if sc.outage > 0 {
		for fake.created() < scaleWorkers*scaleSends/2 && done == 0 {
			select {
			case e := <-exits:
				collect(e)
			case <-time.After(5 * time.Millisecond):
			}
		}
		rs.Stop()
		r.stoppedAt = time.Now()
		time.Sleep(sc.outage)
		rs.Start()
		r.restartedAt = time.Now()
	}
	for done < scaleWorkers {
		collect(<-exits)
	}
	r.sends = fake.sends()
	r.requests, r.status429, r.created = fake.counts()
	return r
}

// checkExactlyOnce checks that every worker's every send was created
// exactly once, and nothing else was.
func (r *scaleRun) checkExactlyOnce(t *testing.T) {
	t.Helper()
	perKey := map[string]int{}
	for _, s := range r.sends {
		perKey[s.Key] += s.Created
	}
	for w, res := range r.workers {
		if res.Accepted != scaleSends || len(res.Failed) > 0 {
			t.Errorf("worker %d: %d of %d sends accepted; failures: %q", w, res.Accepted, scaleSends, res.Failed)
		}
		for i := range scaleSends {
			k := sendKey(r.run, w, i)
			if n := perKey[k]; n != 1 {
				t.Errorf("send %s created %d notifications; want exactly 1", k, n)
			}
			delete(perKey, k)
		}
	}
	for k, n := range perKey {
		if n != 0 {
			t.Errorf("unexpected send %q created %d notifications", k, n)
		}
	}
	if r.created != scaleWorkers*scaleSends {
		t.Errorf("the fake created %d notifications; want %d", r.created, scaleWorkers*scaleSends)
	}
}

// checkOutageLogged checks that each process logged the outage once and
// the recovery once.
func (r *scaleRun) checkOutageLogged(t *testing.T) {
	t.Helper()
	for w, res := range r.workers {
		if res.Outages != 1 || res.Recovered != 1 {
			t.Errorf("worker %d logged %d outages and %d recoveries; want 1 each", w, res.Outages, res.Recovered)
		}
	}
}

// acceptedTimes returns the arrival times of the sends that created a
// notification, in order.
func (r *scaleRun) acceptedTimes() []time.Time {
	var ts []time.Time
	for _, s := range r.sends {
		if s.Created > 0 {
			ts = append(ts, s.Time)
		}
	}
	slices.SortFunc(ts, time.Time.Compare)
	return ts
}

// combinedRate is the accepted sends' rate from the first to the last.
func (r *scaleRun) combinedRate() (float64, time.Duration) {
	ts := r.acceptedTimes()
	if len(ts) < 2 {
		return 0, 0
	}
	span := ts[len(ts)-1].Sub(ts[0])
	return float64(len(ts)-1) / span.Seconds(), span
}

// busiestSecond is the most accepted sends within any 1-second window.
func (r *scaleRun) busiestSecond() int {
	ts := r.acceptedTimes()
	best, lo := 0, 0
	for hi := range ts {
		for ts[hi].Sub(ts[lo]) >= time.Second {
			lo++
		}
		best = max(best, hi-lo+1)
	}
	return best
}

// longestGap is the longest time between two accepted sends: a stall of
// the machine shows here.
func (r *scaleRun) longestGap() time.Duration {
	ts := r.acceptedTimes()
	var gap time.Duration
	for i := 1; i < len(ts); i++ {
		gap = max(gap, ts[i].Sub(ts[i-1]))
	}
	return gap
}

func (r *scaleRun) acceptedBetween(from, to time.Time) int {
	n := 0
	for _, ts := range r.acceptedTimes() {
		if ts.After(from) && ts.Before(to) {
			n++
		}
	}
	return n
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
