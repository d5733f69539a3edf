package sendiventtest

import (
	"fmt"
	"net/http"
	"time"

	"github.com/sendivent/sendivent-go"
)

// DefaultStepDelay is the time one automatic lifecycle step takes unless
// WithStepDelay says otherwise: a message goes queued → sent → delivered in
// two steps, so a single-channel notification completes in about 60 ms.
const DefaultStepDelay = 30 * time.Millisecond

// defaultChannelOrder is the routing order of events that were not declared
// with WithEvent.
var defaultChannelOrder = []sendivent.Channel{
	sendivent.ChannelEmail,
	sendivent.ChannelSMS,
	sendivent.ChannelWhatsApp,
	sendivent.ChannelSlack,
	sendivent.ChannelTelegram,
	sendivent.ChannelDiscord,
	sendivent.ChannelPush,
}

// knownChannels are the channel names the service accepts in a path.
var knownChannels = map[sendivent.Channel]bool{
	sendivent.ChannelEmail: true, sendivent.ChannelSMS: true, sendivent.ChannelSlack: true,
	sendivent.ChannelPush: true, sendivent.ChannelTelegram: true,
	sendivent.ChannelWhatsApp: true, sendivent.ChannelDiscord: true,
}

// Option configures a Server; pass options to NewServer.
type Option func(*config)

// ArrayShape chooses how the server answers a send whose `to` is an array.
// The real service does not document this answer, so SDK tests should try
// every shape.
type ArrayShape int

const (
	// ArrayList answers a JSON array with one {id, event, status} object per
	// recipient, in request order. It is the default.
	ArrayList ArrayShape = iota
	// ArrayWrapped answers one object: the first recipient's id, event and
	// status, plus "notifications" listing every recipient's object.
	ArrayWrapped
	// ArrayFirst answers a single {id, event, status} object for the first
	// recipient only; the other notifications are still created.
	ArrayFirst
)

// String returns the shape's name.
func (a ArrayShape) String() string {
	switch a {
	case ArrayList:
		return "list"
	case ArrayWrapped:
		return "wrapped"
	case ArrayFirst:
		return "first"
	}
	return fmt.Sprintf("ArrayShape(%d)", int(a))
}

type stepKind int

const (
	stepSend stepKind = iota + 1
	stepWait
)

// Step is one step of an event declared with WithEvent: Send on a channel or
// Wait for a duration.
type Step struct {
	kind    stepKind
	channel sendivent.Channel
	wait    time.Duration
}

// Send is a step that sends the event's message on channel ch.
func Send(ch sendivent.Channel) Step { return Step{kind: stepSend, channel: ch} }

// Wait is a step that pauses the notification (status "waiting") for d. With
// the automatic lifecycle the pause uses the real clock; Server.Advance skips it.
func Wait(d time.Duration) Step { return Step{kind: stepWait, wait: d} }

// String describes the step, e.g. "send(email)" or "wait(1h0m0s)".
func (s Step) String() string {
	switch s.kind {
	case stepSend:
		return "send(" + string(s.channel) + ")"
	case stepWait:
		return "wait(" + s.wait.String() + ")"
	}
	return "step(?)"
}

type config struct {
	apiKey     string
	events     map[string][]Step
	manual     bool
	stepDelay  time.Duration
	arrayShape ArrayShape
	rateLimit  int
	latency    func(*http.Request) time.Duration
	faultFunc  FaultFunc
	scripts    []Script
}

// WithAPIKey sets the key the server accepts (default: a fresh random
// "test_…" key per server).
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithEvent declares an event and its steps. Once at least one event is
// declared, sends to any other event answer 404 EVENT_NOT_FOUND; with none
// declared every event exists and routes in the order email, sms, whatsapp,
// slack, telegram, discord, push.
//
// An event made only of Send steps is auto-routed: its one message goes on the
// first Send channel for which the recipient has an identifier. An event with
// a Wait step is a sequence: every step runs in order, a Send step whose
// identifier the recipient lacks is skipped. Without steps the event routes
// like an undeclared one. Declaring the same name twice keeps the last steps.
func WithEvent(name string, steps ...Step) Option {
	return func(c *config) {
		if c.events == nil {
			c.events = map[string][]Step{}
		}
		if len(steps) == 0 {
			for _, ch := range defaultChannelOrder {
				steps = append(steps, Send(ch))
			}
		}
		c.events[name] = append([]Step(nil), steps...)
	}
}

// WithManualLifecycle stops notifications from moving by themselves: each
// stays at its first step (message "queued", or "waiting") until the test
// calls Advance, Deliver, FailMessage, Complete or AdvanceAll.
func WithManualLifecycle() Option { return func(c *config) { c.manual = true } }

// WithStepDelay sets how long one automatic lifecycle step takes (default
// DefaultStepDelay). Wait steps take their own duration.
func WithStepDelay(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			d = 0
		}
		c.stepDelay = d
	}
}

// WithArrayResponse chooses the answer to a send whose `to` is an array.
func WithArrayResponse(shape ArrayShape) Option { return func(c *config) { c.arrayShape = shape } }

// WithRateLimit answers 429 RATE_LIMITED with "Retry-After: 1" to requests
// beyond rps a second: a token bucket that admits rps at once, then rps a
// second.
// Zero or less disables the limit (the default). See also Server.SetRateLimit.
func WithRateLimit(rps int) Option { return func(c *config) { c.rateLimit = rps } }

// WithLatency delays every request by d before it is processed. The delay
// ends early when the client gives up or the server closes; the request then
// creates nothing. See also Server.SetLatency.
func WithLatency(d time.Duration) Option {
	return WithLatencyFunc(func(*http.Request) time.Duration { return d })
}

// WithLatencyFunc delays each request by f(r) before it is processed. f may
// be called from many goroutines at once.
func WithLatencyFunc(f func(r *http.Request) time.Duration) Option {
	return func(c *config) { c.latency = f }
}

// WithFaults queues scripted faults from the start, as Server.Inject does.
func WithFaults(scripts ...Script) Option {
	return func(c *config) { c.scripts = append(c.scripts, scripts...) }
}

// WithFaultFunc calls f once per request, in arrival order and never
// concurrently, after the rate limit and before processing; a non-zero Fault
// is applied to that request. A scripted fault (Inject) takes precedence over
// f's answer, but f is still called so that its sequence stays aligned with
// request order.
func WithFaultFunc(f FaultFunc) Option { return func(c *config) { c.faultFunc = f } }

// WithChaos injects a random fault into a fraction rate (0..1) of requests,
// drawn deterministically from seed in request arrival order: status
// 500/502/503/504, 429 with Retry-After 0 or 1, latency up to 50 ms, a
// malformed body, or commit-then-drop. It is WithFaultFunc(Chaos(seed, rate,
// 50*time.Millisecond)).
func WithChaos(seed int64, rate float64) Option {
	return WithFaultFunc(Chaos(seed, rate, 50*time.Millisecond))
}
