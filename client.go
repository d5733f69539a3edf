package sendivent

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/sendivent/sendivent-go/internal/clock"
	"github.com/sendivent/sendivent-go/internal/redact"
)

// Defaults of the options.
const (
	DefaultTimeout          = 30 * time.Second // per attempt
	DefaultMaxRetries       = 2                // 3 attempts in all
	DefaultMaxRetryWait     = 30 * time.Second
	DefaultMaxResponseBytes = 1 << 20
	// DefaultMaxConnsPerHost bounds the connections of the default
	// transport; pass WithHTTPClient for another bound.
	DefaultMaxConnsPerHost = 64
)

// Client talks to the Sendivent API. Make one with [NewClient] and share it:
// a Client is safe for concurrent use by many goroutines, and nothing one
// call does changes what another sends. Its service fields group the calls
// of the other endpoints, as in client.Contacts.Get(ctx, "ada@example.com");
// NewClient sets them, and they must not be changed.
type Client struct {
	base         string // without a trailing slash
	cred         *credentials
	userAgent    string
	hc           *http.Client // bounds each attempt; its transport paces them
	log          *slog.Logger // nil when logging is off
	maxRetries   int
	maxRetryWait time.Duration
	maxBody      int64
	clock        clock.Clock
	jitter       func() float64
	obs          *Observer // nil when none is set
	host         string    // the base URL's, for obs
	port         int

	// Services.
	common       service // what every service holds; one value for all
	Contacts     *ContactsService
	Events       *EventsService
	Deliveries   *DeliveriesService
	Integrations *IntegrationsService
	Webhooks     *WebhooksService
}

// credentials sit behind a pointer so that printing a Client with %v, %+v or
// %#v shows an address, never the key; and the secret behind a second one,
// because fmt expands a pointer to a struct once when the verb does not fit
// it (%s or %q of a Client value).
type credentials struct{ *secret }

type secret struct {
	key  string
	auth string // "Bearer <key>"
}

// Option configures a Client.
type Option func(*config)

type config struct {
	baseURL      string
	httpClient   *http.Client
	timeout      time.Duration
	maxRetries   int
	maxRetryWait time.Duration
	maxBody      int64
	logger       *slog.Logger
	userAgent    string
	rps          float64
	burst        int
	rateSet      bool
	limiter      Limiter
	clock        clock.Clock
	jitter       func() float64
	observer     *Observer
	errs         []error
}

// WithBaseURL sends requests to u instead of the URL the key's prefix picks:
// a proxy, or the fake server of package sendiventtest. It overrides
// $SENDIVENT_API_URL.
func WithBaseURL(u string) Option { return func(c *config) { c.baseURL = u } }

// WithHTTPClient makes requests with a copy of hc, so its transport (for
// tracing, metrics or a proxy) is used. Its transport gets each attempt's
// request with an ordinary context: the caller's, with the attempt's
// deadline (WithTimeout). It must honour that context, as net/http's does,
// for the bound to hold. hc's own Timeout, if any, applies too. A
// CheckRedirect of hc's runs after the SDK has removed the key from a
// redirect to another origin. The SDK closes hc's transport's idle
// connections only when Client.CloseIdleConnections is called. An hc
// without a Transport gets the SDK's default one, whose proxy never sees a
// loopback host. The SDK does not change a caller's transport: with a
// live_ key over plain http to a loopback URL, NewClient refuses an
// *http.Transport whose Proxy would send the request to a proxy (the key
// would cross it in clear); a RoundTripper that wraps another cannot be
// looked into, and its proxy is the caller's to set.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if hc == nil {
			c.errs = append(c.errs, errors.New("WithHTTPClient: nil client"))
		}
		c.httpClient = hc
	}
}

// WithTimeout bounds each attempt, from its start to the last byte of the
// answer read, redirects included, with a context.WithTimeout of the
// caller's context, on the SDK's transport and on a caller's
// (WithHTTPClient) alike. An attempt cut off is retried like a broken
// connection, with a fresh budget; its error matches
// context.DeadlineExceeded and is a net.Error whose Timeout() is true.
// Bound the whole call, retries included, with the context. Default 30 s.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithTimeout: %v is not positive", d))
		}
		c.timeout = d
	}
}

// WithMaxRetries sets how many times a failed attempt is retried (0 turns
// retries off). Default 2, so 3 attempts in all.
func WithMaxRetries(n int) Option {
	return func(c *config) {
		if n < 0 {
			c.errs = append(c.errs, fmt.Errorf("WithMaxRetries: %d is negative", n))
		}
		c.maxRetries = n
	}
}

// WithMaxRetryWait caps how long the SDK waits out a Retry-After. A longer
// one is not waited: the error is returned with APIError.RetryAfter set.
// Default 30 s.
func WithMaxRetryWait(d time.Duration) Option {
	return func(c *config) {
		if d < 0 {
			c.errs = append(c.errs, fmt.Errorf("WithMaxRetryWait: %v is negative", d))
		}
		c.maxRetryWait = d
	}
}

// WithMaxResponseBytes caps how much of a response body is read. A larger
// success body is an error matching ErrTooLarge; a larger error body is cut.
// Default 1 MiB.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) {
		if n <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithMaxResponseBytes: %d is not positive", n))
		}
		c.maxBody = n
	}
}

// WithLogger logs each attempt at debug level: method, route template,
// status, attempt, wait, idempotency key, and the attempt's error, with
// the request's path and query as the route template. It never logs the
// API key, and recipients appear masked. Off by default.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithUserAgent appends s to the User-Agent header, to name your service.
func WithUserAgent(s string) Option { return func(c *config) { c.userAgent = s } }

// WithRateLimit paces the client's requests, retries included, to just
// under rps a second (2% under, to absorb network jitter) with bursts of
// burst, shared by every goroutine using the client; a request waits for its
// turn or for its context. WithRateLimit(0, 0) turns it off. By default a
// client that talks to the service's own URL keeps under the service's
// documented limit (100/s for live_ keys, 10/s for test_ keys, burst 1) and
// one given a base URL is not paced. A 429 still goes through the retry
// rules.
func WithRateLimit(rps float64, burst int) Option {
	return func(c *config) {
		if rps < 0 || burst < 0 || (rps > 0 && burst == 0) {
			c.errs = append(c.errs, fmt.Errorf("WithRateLimit(%v, %d): want rps and burst both positive, or both 0", rps, burst))
		}
		c.rps, c.burst, c.rateSet = rps, burst, true
	}
}

// WithLimiter paces every attempt, retries included, through l. It replaces
// WithRateLimit's in-process limiter, and the default one. A refusal from
// l is not an attempt and is not retried: the call returns at once with an
// error that wraps l's (a *TransportError, or the *APIError of an earlier
// attempt's answer when l refused a retry).
func WithLimiter(l Limiter) Option {
	return func(c *config) {
		if l == nil {
			c.errs = append(c.errs, errors.New("WithLimiter: nil limiter"))
		}
		c.limiter = l
	}
}

// WithTimeScale makes every wait the client decides last 1/factor of its
// time: retry backoffs, Retry-After, and the delays between Wait's and
// Watch's polls. It is for tests against a fake server whose clock runs
// factor times faster than the wall clock; package sendiventtest's
// Server.Client sets it to the fake's scale.
//
// What the client decides is what it decides at factor 1: which attempts it
// makes, the waits recorded in Attempt.Wait, its errors, WaitAtMost counted
// in the client's time (PollEvery(time.Second) with WaitAtMost(time.Minute)
// polls as often as in production), and whether a wait fits before the
// context's deadline, which compares the wait at its full length with the
// time the deadline leaves, as in production. Default 1. A factor that is
// not a positive finite number is an error from NewClient.
func WithTimeScale(factor float64) Option {
	return func(c *config) {
		if !(factor > 0) || math.IsInf(factor, 1) {
			c.errs = append(c.errs, fmt.Errorf("WithTimeScale: %v is not a positive finite number", factor))
			return
		}
		c.clock = clock.Scaled{Factor: factor}
	}
}

// NewClient makes a client for apiKey; "" reads $SENDIVENT_API_KEY. The key's
// prefix picks the service: live_ for production, test_ for the sandbox.
// WithBaseURL (or $SENDIVENT_API_URL) points it elsewhere. A missing key, an
// unknown prefix without a base URL, a bad option, or a live_ key over plain
// http to anything but loopback is an error here, not at the first send.
func NewClient(apiKey string, opts ...Option) (*Client, error) {
	cfg := config{
		timeout:      DefaultTimeout,
		maxRetries:   DefaultMaxRetries,
		maxRetryWait: DefaultMaxRetryWait,
		maxBody:      DefaultMaxResponseBytes,
		clock:        clock.Real{},
		jitter:       rand.Float64,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.errs) > 0 {
		return nil, fmt.Errorf("sendivent: %w", errors.Join(cfg.errs...))
	}

	key := apiKey
	if key == "" {
		key = os.Getenv("SENDIVENT_API_KEY")
	}
	if key == "" {
		return nil, errors.New("sendivent: no API key: pass one to NewClient or set SENDIVENT_API_KEY")
	}
	if err := checkKey(key); err != nil {
		return nil, err
	}
	base, official, err := resolveBaseURL(key, cfg.baseURL)
	if err != nil {
		return nil, err
	}

	var hc *http.Client
	if cfg.httpClient != nil {
		cp := *cfg.httpClient
		hc = &cp
		hc.Transport = callerTransport(hc.Transport, cfg.timeout)
		if err := checkCallerProxy(key, base, hc.Transport); err != nil {
			return nil, err
		}
	} else {
		hc = &http.Client{Transport: defaultTransport(cfg.timeout)}
	}
	hc.CheckRedirect = redirectPolicy(hc.CheckRedirect)
	var limiter Limiter
	switch {
	case cfg.limiter != nil:
		limiter = cfg.limiter
	case cfg.rateSet && cfg.rps > 0:
		limiter = newLimiter(cfg.rps, cfg.burst)
	case !cfg.rateSet && official:
		rps := 10.0
		if strings.HasPrefix(key, "live_") {
			rps = 100
		}
		limiter = newLimiter(rps, 1)
	}
	hc.Transport = &transport{base: hc.Transport, limiter: limiter, timeout: cfg.timeout, observed: cfg.observer != nil}

	c := &Client{
		base:         base,
		cred:         &credentials{&secret{key: key, auth: "Bearer " + key}},
		userAgent:    userAgent(cfg.userAgent),
		hc:           hc,
		log:          cfg.logger,
		maxRetries:   cfg.maxRetries,
		maxRetryWait: cfg.maxRetryWait,
		maxBody:      cfg.maxBody,
		clock:        cfg.clock,
		jitter:       cfg.jitter,
		obs:          cfg.observer,
	}
	if c.obs != nil {
		c.host, c.port = serverOf(base)
	}

	// Services.
	c.common.c = c
	c.Contacts = (*ContactsService)(&c.common)
	c.Events = (*EventsService)(&c.common)
	c.Deliveries = (*DeliveriesService)(&c.common)
	c.Integrations = (*IntegrationsService)(&c.common)
	c.Webhooks = (*WebhooksService)(&c.common)
	return c, nil
}

// errNoClient is the error of a call on a nil Client, or one not made by
// NewClient: bad input, found before anything was sent.
var errNoClient = &ValidationError{Field: "client", Reason: "nil or zero Client: make one with NewClient"}

func (c *Client) usable() error {
	if c == nil || c.hc == nil || c.cred == nil {
		return errNoClient
	}
	return nil
}

// checkKey refuses a key that cannot be sent in a header as it is. The
// error never quotes the key.
func checkKey(key string) error {
	if len(key) > 1024 {
		return errors.New("sendivent: the API key is longer than 1024 bytes")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; c <= ' ' || c >= 0x7f {
			return errors.New("sendivent: the API key contains white space, a control character or a non-ASCII byte")
		}
	}
	return nil
}

// userAgent is the family the official SDKs share (Sendivent-Node/…,
// Sendivent-PHP/…), then the caller's addition.
func userAgent(extra string) string {
	ua := "Sendivent-Go/" + Version + " (" + runtime.Version() + "; " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if extra = strings.TrimSpace(strings.Map(dropControl, extra)); extra != "" {
		ua += " " + extra
	}
	return ua
}

func dropControl(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return -1
	}
	return r
}

// resolveBaseURL picks the URL for the key and reports whether it is one of
// the service's own.
func resolveBaseURL(key, override string) (string, bool, error) {
	if override == "" {
		override = os.Getenv("SENDIVENT_API_URL")
	}
	if override == "" {
		switch {
		case strings.HasPrefix(key, "live_"):
			return ProductionURL, true, nil
		case strings.HasPrefix(key, "test_"):
			return SandboxURL, true, nil
		}
		return "", false, fmt.Errorf("sendivent: the API key (%s) starts with neither live_ nor test_; set a base URL with WithBaseURL to use it", redact.Key(key))
	}
	u, err := url.Parse(override)
	if err != nil {
		return "", false, errors.New("sendivent: the base URL does not parse as a URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		// Redacted: a URL with user:password@ must not print its password.
		return "", false, fmt.Errorf("sendivent: base URL %q is not an http(s) URL with a host, no credentials and nothing after its path", u.Redacted())
	}
	if p := strings.TrimRight(u.Path, "/"); p == "/v1" || strings.HasSuffix(p, "/v1") {
		return "", false, fmt.Errorf("sendivent: base URL %q ends in /v1, and the SDK adds /v1 to every path; give the service's root, such as %s", u.String(), ProductionURL)
	}
	if u.Scheme == "http" && strings.HasPrefix(key, "live_") && !isLoopback(u.Hostname()) {
		return "", false, fmt.Errorf("sendivent: refusing to send a live_ key over plain http to %s; use https (only localhost and loopback addresses may use http)", u.Host)
	}
	u.Host = strings.TrimSuffix(u.Host, ":") // as net/http does: "host:" is "host"
	base := strings.TrimRight(u.String(), "/")
	return base, base == ProductionURL || base == SandboxURL, nil
}

// Format prints the client without its key, whatever the verb.
func (c *Client) Format(f fmt.State, verb rune) {
	if c.usable() != nil {
		fmt.Fprint(f, "sendivent.Client(nil)")
		return
	}
	fmt.Fprintf(f, "sendivent.Client{BaseURL: %q, Key: %s}", c.base, redact.Key(c.cred.key))
}
