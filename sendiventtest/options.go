package sendiventtest

import (
	"math"
	"time"

	"github.com/sendivent/sendivent-go"
)

// DefaultStepDelay is the real time one automatic lifecycle step takes
// unless WithStepDelay says otherwise: a message goes queued → sent →
// delivered in two steps, so a single-channel notification completes in
// about 2 ms.
const DefaultStepDelay = time.Millisecond

// DefaultTimeScale is how many times faster than real time the fake's clock
// runs unless WithTimeScale says otherwise.
const DefaultTimeScale = 1000

// Option configures a Server; pass options to New or NewServer.
type Option func(*config)

type config struct {
	apiKey    string
	addr      string
	events    map[string][]Step
	listeners map[string][]sendivent.Recipient
	// integrations are WithIntegrations'; integrationsSet tells an empty
	// list from none given.
	integrations    []sendivent.Integration
	integrationsSet bool
	manual          bool
	stepDelay       time.Duration
	timeScale       float64
	rateLimit       int
	faultFunc       FaultFunc
	webhook         *hookOption
	retention       int
	port            *portLimits    // nil: defaultPortLimits
	tpl             templateConfig // template.go
}

// WithAPIKey sets the key the server accepts (default: a fresh random
// "test_…" key per server).
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithAddr makes the server listen on addr, such as "127.0.0.1:8787", instead
// of a free loopback port; URL reflects it. NewServer panics if it cannot
// listen there. The control endpoints (see the package doc) need no key:
// listen on a loopback address or inside a test network only. A server on
// a port reads a request's header within 10 s and the whole request within
// 60 s, closes a connection idle for 60 s, and holds at most 512
// connections at once (more wait to be accepted).
func WithAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// WithManualLifecycle stops notifications from moving by themselves: each
// stays at its first step (message "queued", or "waiting") until the test
// calls Advance, Deliver, FailMessage, SuppressMessage, Complete or
// AdvanceAll.
func WithManualLifecycle() Option { return func(c *config) { c.manual = true } }

// WithStepDelay sets how long, in real time, one automatic lifecycle step
// takes (default DefaultStepDelay); the time scale does not apply to it. A
// longer delay lets a watcher see every state: queued, sent, delivered.
func WithStepDelay(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			d = 0
		}
		c.stepDelay = d
	}
}

// WithTimeScale sets how many times faster than real time the fake's clock
// runs (default DefaultTimeScale). It shortens two kinds of waits: the Wait
// steps of declared events, and the waits of the clients that Client
// returns (retry backoff, Retry-After, Wait's polls), which last 1/factor of
// the time the SDK decides (sendivent.WithTimeScale), while every decision,
// and every Attempt.Wait recorded, stays as in production. 1 is real time,
// for a server that other programs use. A factor that is not a positive
// finite number is ignored.
func WithTimeScale(factor float64) Option {
	return func(c *config) {
		if factor > 0 && !math.IsInf(factor, 1) {
			c.timeScale = factor
		}
	}
}

// WithServerRateLimit answers 429 RATE_LIMITED with "Retry-After: 1" to
// requests beyond rps a second, in real time: a token bucket that admits rps
// at once, then rps a second, as API gateways commonly limit. Zero or less
// means no limit (the default). It is the service's limit, which a client's
// sendivent.WithRateLimit paces itself to stay under.
func WithServerRateLimit(rps int) Option { return func(c *config) { c.rateLimit = rps } }

// WithFaultFunc calls f once per API request, in arrival order and never
// concurrently, after the rate limit and before processing; a non-zero Fault
// is applied to that request. A scripted fault (Inject) takes precedence over
// f's answer, but f is still called so that its sequence stays aligned with
// request order. Chaos makes a random one.
func WithFaultFunc(f FaultFunc) Option { return func(c *config) { c.faultFunc = f } }
