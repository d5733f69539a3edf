package sendivent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"

	"github.com/sendivent/sendivent-go/internal/clock"
	"github.com/sendivent/sendivent-go/internal/redact"
	"github.com/sendivent/sendivent-go/internal/retry"
	"github.com/sendivent/sendivent-go/internal/wire"
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
// call does changes what another sends.
type Client struct {
	base         string // without a trailing slash
	cred         *credentials
	userAgent    []string
	http         *retryablehttp.Client
	log          *slog.Logger // nil when logging is off
	maxRetries   int
	maxRetryWait time.Duration
	maxBody      int64
	clock        clock.Clock
	jitter       func() float64
}

// credentials sit behind a pointer so that printing a Client with %v, %+v or
// %#v shows an address, never the key; and the secret behind a second one,
// because fmt expands a pointer to a struct once when the verb does not fit
// it (%s or %q of a Client value).
type credentials struct{ *secret }

type secret struct {
	key  string
	auth []string // "Bearer <key>", built once
}

// Option configures a Client.
type Option func(*config)

type config struct {
	baseURL      string
	httpClient   *http.Client
	timeout      time.Duration
	timeoutSet   bool // WithTimeout was given, so it wins over WithHTTPClient's Timeout
	maxRetries   int
	maxRetryWait time.Duration
	maxBody      int64
	logger       *slog.Logger
	userAgent    string
	rps          float64
	burst        int
	rateSet      bool
	clock        clock.Clock
	jitter       func() float64
	errs         []error
}

// WithBaseURL sends requests to u instead of the URL the key's prefix picks:
// a proxy, or the fake server of package sendiventtest. It overrides
// $SENDIVENT_API_URL.
func WithBaseURL(u string) Option { return func(c *config) { c.baseURL = u } }

// WithHTTPClient makes requests with a copy of hc, so its transport (for
// tracing or a proxy) is used. The SDK sets the copy's Timeout (see
// WithTimeout) unless hc has one, and never closes hc's idle connections.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) {
		if hc == nil {
			c.errs = append(c.errs, errors.New("WithHTTPClient: nil client"))
		}
		c.httpClient = hc
	}
}

// WithTimeout bounds each attempt (connect, send, read the answer); retries
// get a fresh budget each. Bound the whole call with the context. Default 30 s.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d <= 0 {
			c.errs = append(c.errs, fmt.Errorf("WithTimeout: %v is not positive", d))
		}
		c.timeout, c.timeoutSet = d, true
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
// status, attempt, wait and idempotency key. It never logs the API key, and
// recipients appear masked. Off by default.
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

// withClock and withJitter let the package's own tests run retries and
// polls without sleeping.
func withClock(k clock.Clock) Option     { return func(c *config) { c.clock = k } }
func withJitter(f func() float64) Option { return func(c *config) { c.jitter = f } }

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
	if strings.ContainsAny(key, "\r\n\t ") {
		return nil, errors.New("sendivent: the API key contains white space")
	}
	base, official, err := resolveBaseURL(key, cfg.baseURL)
	if err != nil {
		return nil, err
	}

	hc := &http.Client{Transport: defaultTransport()}
	if cfg.httpClient != nil {
		cp := *cfg.httpClient
		hc = &cp
		if hc.Transport == nil {
			hc.Transport = http.DefaultTransport
		}
		if hc.Timeout != 0 && !cfg.timeoutSet {
			cfg.timeout = hc.Timeout
		}
	}
	hc.Timeout = cfg.timeout
	if hc.CheckRedirect == nil {
		hc.CheckRedirect = checkRedirect
	}
	var limiter *rate.Limiter
	switch {
	case cfg.rateSet && cfg.rps > 0:
		limiter = newLimiter(cfg.rps, cfg.burst)
	case !cfg.rateSet && official:
		rps := 10.0
		if strings.HasPrefix(key, "live_") {
			rps = 100
		}
		limiter = newLimiter(rps, 1)
	}
	// The wrapper hides CloseIdleConnections: retryablehttp calls it each
	// time it gives up on a request, which would throw away every pooled
	// connection of a busy client because one request failed.
	hc.Transport = &transport{base: hc.Transport, limiter: limiter}

	c := &Client{
		base:         base,
		cred:         &credentials{&secret{key: key, auth: []string{"Bearer " + key}}},
		userAgent:    []string{userAgent(cfg.userAgent)},
		log:          cfg.logger,
		maxRetries:   cfg.maxRetries,
		maxRetryWait: cfg.maxRetryWait,
		maxBody:      cfg.maxBody,
		clock:        cfg.clock,
		jitter:       cfg.jitter,
	}
	c.http = &retryablehttp.Client{
		HTTPClient: hc,
		Logger:     nil, // its default writes every request to stderr
		RetryMax:   cfg.maxRetries,
		CheckRetry: c.checkRetry,
		// checkRetry has already waited (it knows the context and the
		// clock; Backoff knows neither), so there is nothing left to wait.
		Backoff:      func(time.Duration, time.Duration, int, *http.Response) time.Duration { return 0 },
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	return c, nil
}

func userAgent(extra string) string {
	ua := "sendivent-go/" + Version + " (" + runtime.Version() + ")"
	if extra = strings.Map(dropControl, extra); extra != "" {
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
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", false, fmt.Errorf("sendivent: base URL %q is not an http(s) URL with a host and nothing after its path", override)
	}
	if u.Scheme == "http" && strings.HasPrefix(key, "live_") && !isLoopback(u.Hostname()) {
		return "", false, fmt.Errorf("sendivent: refusing to send a live_ key over plain http to %s; use https", u.Host)
	}
	base := strings.TrimRight(u.String(), "/")
	return base, base == ProductionURL || base == SandboxURL, nil
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkRedirect is net/http's default redirect policy, except that the key
// does not follow a redirect to another origin: net/http keeps the
// Authorization header when only the port or the scheme changes (to
// http://same-host:other-port, or from https down to http).
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if o := via[0].URL; req.URL.Scheme != o.Scheme || req.URL.Host != o.Host {
		req.Header.Del("Authorization")
	}
	return nil
}

func defaultTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// Keep a connection per concurrent caller: the default of 2 idle
	// connections per host makes a busy client dial again and again.
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = DefaultMaxConnsPerHost
	// Past this, requests queue for a free connection instead of dialing:
	// it also stops net/http from dialing spares when many callers start
	// at once. The service's own rate limit makes more pointless.
	t.MaxConnsPerHost = DefaultMaxConnsPerHost
	return t
}

// rateMargin keeps pacing a little under the limit: requests spaced exactly
// 1/rps apart reach the server with network jitter, and a server counting
// arrivals in a sliding window would see rps+1 in some second.
const rateMargin = 0.98

func newLimiter(rps float64, burst int) *rate.Limiter {
	return rate.NewLimiter(rate.Limit(rps*rateMargin), burst)
}

type transport struct {
	base    http.RoundTripper
	limiter *rate.Limiter
}

func (t *transport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.limiter != nil {
		if err := t.limiter.Wait(r.Context()); err != nil {
			return nil, err
		}
	}
	return t.base.RoundTrip(r)
}

// Format prints the client without its key, whatever the verb.
func (c *Client) Format(f fmt.State, verb rune) {
	if c == nil {
		fmt.Fprint(f, "sendivent.Client(nil)")
		return
	}
	fmt.Fprintf(f, "sendivent.Client{BaseURL: %q, Key: %s}", c.base, redact.Key(c.cred.key))
}

// call is one logical request and what its attempts found. It rides in the
// request's context so that checkRetry, which gets only the context, can
// find it.
type call struct {
	method, path, route string
	body                []byte
	key                 string // X-Idempotency-Key, if any

	attempts   []Attempt
	status     int
	header     http.Header
	resp       *bytes.Buffer // the last answer's body
	readErr    error         // why the last body is unusable, if it is
	retryAfter time.Duration
	stop       error // why retries stopped early
}

type callKey struct{}

var (
	acceptJSON      = []string{"application/json"}
	contentTypeJSON = []string{"application/json"}
)

// do runs a call through the retry client. On success the answer's body is
// in cl.resp, which the caller must release with wire.Release.
func (c *Client) do(ctx context.Context, cl *call) error {
	cl.resp = wire.Buffer()
	ctx = context.WithValue(ctx, callKey{}, cl)
	var body any
	if cl.body != nil {
		body = cl.body
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, cl.method, c.base+cl.path, body)
	if err != nil {
		return &TransportError{Method: cl.method, Path: cl.route, IdempotencyKey: cl.key, Err: err}
	}
	h := req.Header
	h["Authorization"] = c.cred.auth
	h["User-Agent"] = c.userAgent
	h["Accept"] = acceptJSON
	if cl.body != nil {
		h["Content-Type"] = contentTypeJSON
	}
	if cl.key != "" {
		h["X-Idempotency-Key"] = []string{cl.key}
	}
	resp, err := c.http.Do(req)
	if resp != nil && resp.Body != nil {
		resp.Body.Close() // checkRetry has read it; this is for the paths where it did not run
	}
	return c.outcome(ctx, cl, err)
}

// outcome turns what the attempts found into the call's error, or nil.
func (c *Client) outcome(ctx context.Context, cl *call, doErr error) error {
	n := len(cl.attempts)
	if n == 0 || cl.attempts[n-1].StatusCode == 0 || cl.readErr != nil {
		cause := doErr
		switch {
		case n > 0 && cl.readErr != nil:
			cause = cl.readErr
		case n > 0 && cl.attempts[n-1].Err != nil:
			cause = cl.attempts[n-1].Err
		}
		if cause == nil {
			cause = ctx.Err()
		}
		if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(cause, ctxErr) {
			cause = fmt.Errorf("%w (last attempt: %w)", ctxErr, cause)
		} else if cl.stop != nil {
			cause = fmt.Errorf("%w (%w)", cause, cl.stop)
		}
		te := &TransportError{Method: cl.method, Path: cl.route, IdempotencyKey: cl.key, Attempts: cl.attempts, Err: cause}
		if n > 0 {
			te.StatusCode = cl.attempts[n-1].StatusCode
		}
		return te
	}
	if cl.status >= 200 && cl.status < 300 {
		return nil
	}
	e := &APIError{
		StatusCode:     cl.status,
		RetryAfter:     cl.retryAfter,
		RequestID:      cl.header.Get("X-Request-Id"),
		IdempotencyKey: cl.key,
		Attempts:       cl.attempts,
		Err:            cl.stop,
	}
	e.decodeBody(bytes.Clone(cl.resp.Bytes()))
	if e.Err == nil && doErr != nil {
		e.Err = doErr // the context ended during a wait
	}
	c.scrub(e)
	return e
}

// scrub removes the key from anything the server echoed into an error.
func (c *Client) scrub(e *APIError) {
	k := c.cred.key
	for _, s := range []*string{&e.Message, &e.Code, &e.Field, &e.Channel, &e.RequestID} {
		if strings.Contains(*s, k) {
			*s = strings.ReplaceAll(*s, k, "[redacted]")
		}
	}
}

// checkRetry is called by retryablehttp after every attempt. It reads the
// body (so the connection goes back to the pool at once), records the
// attempt, decides whether to try again and, if so, waits, unless the wait
// would pass the context's deadline.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	cl, _ := ctx.Value(callKey{}).(*call)
	if cl == nil { // not a request made by do
		return false, err
	}
	n := len(cl.attempts)
	a := Attempt{Err: err}
	again := false
	var after time.Duration
	hasAfter := false
	cl.readErr = nil
	if err != nil {
		again = retry.Error(err)
	} else {
		a.StatusCode = resp.StatusCode
		cl.status, cl.header = resp.StatusCode, resp.Header
		cl.resp.Reset()
		rerr := wire.ReadCapped(cl.resp, resp.Body, c.maxBody)
		resp.Body.Close()
		resp.Body = http.NoBody
		ok := resp.StatusCode >= 200 && resp.StatusCode < 300
		switch {
		case rerr == wire.ErrTooLarge && ok:
			cl.readErr = ErrTooLarge
		case rerr != nil && rerr != wire.ErrTooLarge: // the connection broke mid-body
			a.Err, cl.readErr, again = rerr, rerr, true
		case ok:
			if !json.Valid(cl.resp.Bytes()) {
				a.Err, cl.readErr, again = ErrMalformed, ErrMalformed, true
			}
		// An error body cut at the cap still says enough: it is classified
		// by its status like any other.
		case resp.StatusCode == http.StatusConflict:
			again = retry.Conflict409(peekCode(cl.resp.Bytes()), resp.Header.Get("Retry-After") != "")
		default:
			again = retry.Status(resp.StatusCode)
		}
		if v := resp.Header.Get("Retry-After"); v != "" {
			after, hasAfter = retry.ParseAfter(v, c.clock.Now())
			cl.retryAfter = after
		}
	}
	cl.attempts = append(cl.attempts, a)
	if ctxErr := ctx.Err(); ctxErr != nil {
		c.logAttempt(ctx, cl, a, false, 0)
		return false, ctxErr
	}
	if !again || n >= c.maxRetries {
		c.logAttempt(ctx, cl, a, false, 0)
		return false, nil
	}
	wait := retry.Delay(n, c.jitter())
	if hasAfter {
		if after > c.maxRetryWait {
			c.logAttempt(ctx, cl, a, false, 0)
			return false, nil
		}
		wait = after
	}
	if dl, ok := ctx.Deadline(); ok && !c.clock.Now().Add(wait).Before(dl) {
		cl.stop = context.DeadlineExceeded
		c.logAttempt(ctx, cl, a, false, 0)
		return false, nil
	}
	cl.attempts[n].Wait = wait
	c.logAttempt(ctx, cl, a, true, wait)
	if err := c.clock.Sleep(ctx, wait); err != nil {
		return false, err
	}
	return true, nil
}

func (c *Client) logAttempt(ctx context.Context, cl *call, a Attempt, retrying bool, wait time.Duration) {
	if c.log == nil || !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String("method", cl.method),
		slog.String("path", cl.route),
		slog.Int("attempt", len(cl.attempts)),
		slog.Int("status", a.StatusCode),
	)
	if cl.key != "" {
		attrs = append(attrs, slog.String("idempotency_key", cl.key))
	}
	if a.Err != nil {
		attrs = append(attrs, slog.String("error", a.Err.Error()))
	}
	if retrying {
		attrs = append(attrs, slog.Bool("retrying", true), slog.Duration("wait", wait))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "sendivent request", attrs...)
}

// peekCode reads the machine code of an error body, flat or nested.
func peekCode(body []byte) string {
	var e APIError
	e.decodeBody(body)
	return e.Code
}
