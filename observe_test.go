package sendivent_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/webhook"
)

// span names the hook that made a context, so that a test can tell which
// operation or attempt a later hook's context came from.
type span struct{}

func spanOf(ctx context.Context) string { s, _ := ctx.Value(span{}).(string); return s }

// hookCall is one call of an Observer's hook, as a recorder saw it.
type hookCall struct {
	Hook string // "op.start", "op.end", "attempt.start", "attempt.end", "limiter", "poll"
	Span string // spanOf the context the hook got
	Op   sendivent.Operation
	Arg  any // the hook's own argument: OperationEnd, AttemptStart, AttemptEnd…
}

// recorder is an Observer that records every hook call. Its start hooks
// return contexts named after what they start, and AttemptStart adds a
// header naming the attempt.
type recorder struct {
	mu    sync.Mutex
	calls []hookCall
	ops   atomic.Int64
}

func (r *recorder) add(c hookCall) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, c)
}

func (r *recorder) all() []hookCall {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookCall(nil), r.calls...)
}

// of returns the calls of one hook.
func (r *recorder) of(hook string) []hookCall {
	var out []hookCall
	for _, c := range r.all() {
		if c.Hook == hook {
			out = append(out, c)
		}
	}
	return out
}

func (r *recorder) observer() sendivent.Observer {
	return sendivent.Observer{
		OperationStart: func(ctx context.Context, op sendivent.Operation) context.Context {
			r.add(hookCall{"op.start", spanOf(ctx), op, nil})
			name := fmt.Sprintf("%s#%d", op.Name, r.ops.Add(1))
			if p := spanOf(ctx); p != "" {
				name = p + "/" + name
			}
			return context.WithValue(ctx, span{}, name)
		},
		OperationEnd: func(ctx context.Context, op sendivent.Operation, e sendivent.OperationEnd) {
			r.add(hookCall{"op.end", spanOf(ctx), op, e})
		},
		AttemptStart: func(ctx context.Context, op sendivent.Operation, a sendivent.AttemptStart) context.Context {
			r.add(hookCall{"attempt.start", spanOf(ctx), op, a})
			name := fmt.Sprintf("%s/attempt%d", spanOf(ctx), a.Attempt)
			a.Header.Set("X-Test-Span", name)
			return context.WithValue(ctx, span{}, name)
		},
		AttemptEnd: func(ctx context.Context, op sendivent.Operation, a sendivent.AttemptEnd) {
			r.add(hookCall{"attempt.end", spanOf(ctx), op, a})
		},
		RateLimiterWait: func(ctx context.Context, op sendivent.Operation, w sendivent.RateLimiterWait) {
			r.add(hookCall{"limiter", spanOf(ctx), op, w})
		},
		Poll: func(ctx context.Context, op sendivent.Operation, p sendivent.Poll) {
			r.add(hookCall{"poll", spanOf(ctx), op, p})
		},
	}
}

// scriptedServer answers each request with the next of its handlers (the
// last one again when they run out) and keeps the X-Test-Span header each
// request came with.
type scriptedServer struct {
	*httptest.Server
	mu      sync.Mutex
	n       int
	spans   []string
	headers []http.Header
}

func newScriptedServer(t *testing.T, handlers ...http.HandlerFunc) *scriptedServer {
	s := &scriptedServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		h := handlers[min(s.n, len(handlers)-1)]
		s.n++
		s.spans = append(s.spans, r.Header.Get("X-Test-Span"))
		s.headers = append(s.headers, r.Header.Clone())
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func status(code int, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, body)
	}
}

const acceptedBody = `{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":"accepted"}`

func observedClient(t *testing.T, url string, rec *recorder, opts ...sendivent.Option) *sendivent.Client {
	t.Helper()
	opts = append([]sendivent.Option{sendivent.WithBaseURL(url), sendivent.WithTimeScale(1000),
		sendivent.WithObserver(rec.observer())}, opts...)
	c, err := sendivent.NewClient("test_observe_key_1234567890", opts...)
	require.NoError(t, err)
	return c
}

// A send answered 503, then 200: one operation, two attempts, each a child
// of the operation; the policy's wait and why; the header AttemptStart
// added goes out with each attempt.
func TestObserverSendRetried(t *testing.T) {
	t.Parallel()
	srv := newScriptedServer(t, status(503, `{"error":"busy"}`), status(200, acceptedBody))
	rec := &recorder{}
	c := observedClient(t, srv.URL, rec)
	res, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Channel(sendivent.ChannelEmail).Send(context.Background())
	require.NoError(t, err)

	calls := rec.all()
	require.Len(t, calls, 6)
	hooks := make([]string, len(calls))
	for i, c := range calls {
		hooks[i] = c.Hook + " " + c.Span
	}
	assert.Equal(t, []string{"op.start ", "attempt.start send#1", "attempt.end send#1/attempt1",
		"attempt.start send#1", "attempt.end send#1/attempt2", "op.end send#1"}, hooks)

	op := calls[0].Op
	host, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	assert.Equal(t, sendivent.Operation{Name: "send", Method: "POST", Route: "/v1/send/{event}/{channel}",
		Event: "welcome", Channel: sendivent.ChannelEmail, BaseURL: srv.URL, ServerAddress: host, ServerPort: atoi(t, port)}, op)
	for _, c := range calls {
		assert.Equal(t, op, c.Op, "every hook gets the operation")
	}

	first := calls[2].Arg.(sendivent.AttemptEnd)
	assert.Positive(t, first.Duration)
	first.Duration = 0
	assert.Equal(t, sendivent.AttemptEnd{Attempt: 1, StatusCode: 503, ErrorType: "503", Retry: true,
		Wait: first.Wait, Reason: "backoff"}, first)
	assert.True(t, first.Wait >= 375*time.Millisecond && first.Wait <= 500*time.Millisecond,
		"the policy's wait at its full length, 0.5 s less jitter: %v", first.Wait)
	second := calls[4].Arg.(sendivent.AttemptEnd)
	second.Duration = 0
	assert.Equal(t, sendivent.AttemptEnd{Attempt: 2, StatusCode: 200}, second)
	assert.Equal(t, 2, calls[3].Arg.(sendivent.AttemptStart).Attempt)

	end := calls[5].Arg.(sendivent.OperationEnd)
	assert.Positive(t, end.Duration)
	end.Duration = 0
	assert.Equal(t, sendivent.OperationEnd{Attempts: 2, StatusCode: 200, NotificationID: res.ID}, end)

	assert.Equal(t, []string{"send#1/attempt1", "send#1/attempt2"}, srv.spans, "each attempt carries its own header")
}

func atoi(t *testing.T, s string) int {
	var n int
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err)
	return n
}

// A caller's transport (WithHTTPClient) gets the attempt's context, and
// AttemptStart cannot replace a header the SDK sets.
func TestObserverAttemptContextAndHeaders(t *testing.T) {
	t.Parallel()
	srv := newScriptedServer(t, status(200, acceptedBody))
	var seen []string
	hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, spanOf(r.Context()))
		return http.DefaultTransport.RoundTrip(r)
	})}
	o := sendivent.Observer{
		OperationStart: func(ctx context.Context, op sendivent.Operation) context.Context {
			return context.WithValue(ctx, span{}, "op")
		},
		AttemptStart: func(ctx context.Context, _ sendivent.Operation, a sendivent.AttemptStart) context.Context {
			a.Header.Set("Authorization", "Bearer stolen")
			a.Header.Set("user-agent", "hook")
			a.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
			return context.WithValue(ctx, span{}, spanOf(ctx)+"/attempt")
		},
	}
	c, err := sendivent.NewClient("test_observe_key_1234567890", sendivent.WithBaseURL(srv.URL),
		sendivent.WithHTTPClient(hc), sendivent.WithObserver(o))
	require.NoError(t, err)
	_, err = c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"op/attempt"}, seen)
	require.Len(t, srv.headers, 1)
	h := srv.headers[0]
	assert.Equal(t, "Bearer test_observe_key_1234567890", h.Get("Authorization"), "the hook cannot replace the key")
	assert.True(t, strings.HasPrefix(h.Get("User-Agent"), "Sendivent-Go/"), h.Get("User-Agent"))
	assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", h.Get("Traceparent"))
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Each way an attempt fails comes to AttemptEnd as its class, with the
// policy's reason, and the call's error as the operation's class.
func TestObserverErrorTypes(t *testing.T) {
	t.Parallel()
	hang := func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // net/http sees the client go only once the body is read
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	tests := []struct {
		name     string
		handlers []http.HandlerFunc
		opts     []sendivent.Option
		ctx      func() (context.Context, context.CancelFunc)
		// cancelOnArrival cancels the call's context once its request
		// reaches the server.
		cancelOnArrival bool
		attempt         string // the first attempt's ErrorType
		reason          string // its Reason
		op              string // the operation's ErrorType
	}{
		{name: "not found", handlers: []http.HandlerFunc{status(404, `{"error":"no such event"}`)},
			attempt: "404", reason: "not_retryable", op: "404"},
		{name: "retries exhausted", handlers: []http.HandlerFunc{status(500, `{}`)}, opts: []sendivent.Option{sendivent.WithMaxRetries(0)},
			attempt: "500", reason: "retries_exhausted", op: "500"},
		{name: "retry-after", handlers: []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			status(429, `{"error":"slow down"}`)(w, r)
		}, status(200, acceptedBody)}, attempt: "429", reason: "retry_after", op: ""},
		{name: "retry-after too long", handlers: []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			status(429, `{"error":"slow down"}`)(w, r)
		}}, attempt: "429", reason: "retry_after_too_long", op: "429"},
		{name: "rejected", handlers: []http.HandlerFunc{status(200, `{"id":"x","status":"rejected"}`)},
			attempt: "rejected", reason: "not_retryable", op: "rejected"},
		{name: "malformed", handlers: []http.HandlerFunc{status(200, `{"id":`)}, opts: []sendivent.Option{sendivent.WithMaxRetries(0)},
			attempt: "malformed", reason: "retries_exhausted", op: "malformed"},
		{name: "too large", handlers: []http.HandlerFunc{status(200, `{"id":"`+strings.Repeat("x", 100)+`"}`)},
			opts:    []sendivent.Option{sendivent.WithMaxResponseBytes(50)},
			attempt: "too_large", reason: "not_retryable", op: "too_large"},
		{name: "attempt timed out", handlers: []http.HandlerFunc{hang},
			opts:    []sendivent.Option{sendivent.WithTimeout(20 * time.Millisecond), sendivent.WithMaxRetries(0)},
			attempt: "timeout", reason: "retries_exhausted", op: "timeout"},
		{name: "deadline", handlers: []http.HandlerFunc{status(503, `{}`)},
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 100*time.Millisecond)
			},
			attempt: "503", reason: "deadline", op: "503"},
		{name: "canceled", handlers: []http.HandlerFunc{hang}, cancelOnArrival: true,
			attempt: "canceled", reason: "canceled", op: "canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			if tt.ctx != nil {
				ctx, cancel = tt.ctx()
			}
			defer cancel()
			handlers := tt.handlers
			if tt.cancelOnArrival {
				handlers = []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) {
					cancel()
					tt.handlers[0](w, r)
				}}
			}
			srv := newScriptedServer(t, handlers...)
			rec := &recorder{}
			c := observedClient(t, srv.URL, rec, tt.opts...)
			_, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(ctx)
			ends := rec.of("attempt.end")
			require.NotEmpty(t, ends)
			a := ends[0].Arg.(sendivent.AttemptEnd)
			assert.Equal(t, tt.attempt, a.ErrorType, "attempt")
			assert.Equal(t, tt.reason, a.Reason, "reason")
			assert.Equal(t, a.Reason == "backoff" || a.Reason == "retry_after", a.Retry)
			opEnd := rec.of("op.end")
			require.Len(t, opEnd, 1)
			assert.Equal(t, tt.op, opEnd[0].Arg.(sendivent.OperationEnd).ErrorType, "operation")
			assert.Equal(t, tt.op == "", err == nil, "%v", err)
		})
	}
}

// No answer at all: the class is "connection", and every retry is an
// attempt of its own.
func TestObserverConnectionRefused(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	rec := &recorder{}
	c := observedClient(t, "http://"+addr, rec)
	_, err = c.GetNotification(context.Background(), "550e8400-e29b-41d4-a716-446655440000")
	require.Error(t, err)
	ends := rec.of("attempt.end")
	require.Len(t, ends, 3)
	for i, e := range ends {
		a := e.Arg.(sendivent.AttemptEnd)
		assert.Equal(t, i+1, a.Attempt)
		assert.Equal(t, "connection", a.ErrorType)
		assert.Equal(t, 0, a.StatusCode)
	}
	end := rec.of("op.end")[0].Arg.(sendivent.OperationEnd)
	assert.Equal(t, 3, end.Attempts)
	assert.Equal(t, "connection", end.ErrorType)
}

// The rate limiter's waits are reported, each for the attempt it held; a
// refusal ends the call before any attempt.
func TestObserverRateLimiter(t *testing.T) {
	t.Parallel()
	srv := newScriptedServer(t, status(200, acceptedBody))
	rec := &recorder{}
	c := observedClient(t, srv.URL, rec, sendivent.WithRateLimit(5, 1)) // a turn every 204 ms
	for range 2 {
		_, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
		require.NoError(t, err)
	}
	waits := rec.of("limiter")
	require.Len(t, waits, 2)
	for i, w := range waits {
		assert.Equal(t, fmt.Sprintf("send#%d", i+1), w.Span, "the operation's context")
		assert.Equal(t, 1, w.Arg.(sendivent.RateLimiterWait).Attempt)
		assert.False(t, w.Arg.(sendivent.RateLimiterWait).Refused)
	}
	assert.Greater(t, waits[1].Arg.(sendivent.RateLimiterWait).Duration, 10*time.Millisecond, "the second send waited its turn")

	// A deadline the limiter cannot meet: refused, no attempt.
	refuser := &recorder{}
	c = observedClient(t, srv.URL, refuser, sendivent.WithRateLimit(0.5, 1))
	_, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(ctx)
	require.Error(t, err)
	last := refuser.of("limiter")
	require.Len(t, last, 2)
	assert.True(t, last[1].Arg.(sendivent.RateLimiterWait).Refused)
	ends := refuser.of("op.end")
	require.Len(t, ends, 2)
	assert.Equal(t, sendivent.OperationEnd{Attempts: 0, ErrorType: "rate_limiter"},
		withoutDuration(ends[1].Arg.(sendivent.OperationEnd)))
	assert.Len(t, refuser.of("attempt.start"), 1, "only the first send's attempt")
}

func withoutDuration(e sendivent.OperationEnd) sendivent.OperationEnd { e.Duration = 0; return e }

// Wait is an operation of its own; each poll is reported, and each poll's
// get_notification is its child.
func TestObserverWait(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	t.Cleanup(srv.Close)
	rec := &recorder{}
	c := srv.Client(sendivent.WithObserver(rec.observer()))
	res, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)
	go func() {
		for i := 0; i < 2; i++ {
			time.Sleep(5 * time.Millisecond)
			_ = srv.Advance(res.ID)
		}
	}()
	n, err := c.Wait(context.Background(), res.ID, sendivent.PollEvery(time.Second, time.Second))
	require.NoError(t, err)
	require.True(t, n.Terminal())

	polls := rec.of("poll")
	require.NotEmpty(t, polls)
	for i, p := range polls {
		assert.Equal(t, "wait#2", p.Span)
		assert.Equal(t, i+1, p.Arg.(sendivent.Poll).Poll)
	}
	last := polls[len(polls)-1].Arg.(sendivent.Poll)
	assert.Equal(t, n.Status, last.Status)
	gets := 0
	for _, s := range rec.of("op.start") {
		if s.Op.Name == "get_notification" {
			gets++
			assert.Equal(t, "wait#2", s.Span, "each poll is a child of the wait")
		}
	}
	assert.Equal(t, len(polls), gets)
	ends := rec.of("op.end")
	end := ends[len(ends)-1]
	assert.Equal(t, "wait", end.Op.Name)
	assert.Equal(t, sendivent.OperationEnd{Polls: len(polls), NotificationID: res.ID, NotificationStatus: n.Status},
		withoutDuration(end.Arg.(sendivent.OperationEnd)))
}

// A wait that runs out of time ends as a timeout; a watch is an operation
// named watch.
func TestObserverWaitTimeoutAndWatch(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	t.Cleanup(srv.Close)
	rec := &recorder{}
	c := srv.Client(sendivent.WithObserver(rec.observer()))
	res, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)
	_, err = c.Wait(context.Background(), res.ID, sendivent.PollEvery(time.Second, time.Second), sendivent.WaitAtMost(3*time.Second))
	var wt *sendivent.WaitTimeoutError
	require.ErrorAs(t, err, &wt)
	ends := rec.of("op.end")
	assert.Equal(t, "timeout", ends[len(ends)-1].Arg.(sendivent.OperationEnd).ErrorType)

	for range c.Watch(context.Background(), res.ID) {
		break
	}
	ends = rec.of("op.end")
	assert.Equal(t, "watch", ends[len(ends)-1].Op.Name)
	assert.Equal(t, 1, ends[len(ends)-1].Arg.(sendivent.OperationEnd).Polls)
}

// A batch is an operation whose sends are its children; its class is its
// first failed item's.
func TestObserverBatch(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer()
	t.Cleanup(srv.Close)
	rec := &recorder{}
	c := srv.Client(sendivent.WithObserver(rec.observer()))
	items := []sendivent.BatchItem{
		{Event: "welcome", Request: sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address("a@example.com")}}},
		{Event: "welcome", Request: sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address("b@example.com")}}},
		{Event: "welcome"}, // no recipient: a validation error, not an operation
	}
	_, err := c.SendBatch(context.Background(), items, sendivent.BatchConcurrency(1))
	require.Error(t, err)
	starts := rec.of("op.start")
	require.Len(t, starts, 3)
	assert.Equal(t, sendivent.Operation{Name: "send_batch", Items: 3, BaseURL: starts[0].Op.BaseURL,
		ServerAddress: "127.0.0.1", ServerPort: starts[0].Op.ServerPort}, starts[0].Op)
	for _, s := range starts[1:] {
		assert.Equal(t, "send_batch#1", s.Span)
	}
	ends := rec.of("op.end")
	end := ends[len(ends)-1]
	assert.Equal(t, "send_batch", end.Op.Name)
	assert.Equal(t, sendivent.OperationEnd{Failed: 1, ErrorType: "validation"}, withoutDuration(end.Arg.(sendivent.OperationEnd)))
}

// Every call the SDK makes is an operation with a name of its own, its
// route's template, and nothing from its input.
func TestObserverNamesEveryCall(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	t.Cleanup(srv.Close)
	rec := &recorder{}
	c := srv.Client(sendivent.WithObserver(rec.observer()))
	ctx := context.Background()
	const email, phone, token = "ada.lovelace@example.com", "+46701234567", "ExponentPushToken[xxxxSecretTokenxxxx]"
	res, _ := c.Event("welcome").To(sendivent.Contact{Email: email, Phone: phone}).Send(ctx)
	_, _ = c.GetNotification(ctx, res.ID)
	_, _ = c.Cancel(ctx, "welcome", sendivent.Address(email))
	_, _ = c.Contacts.Upsert(ctx, sendivent.Contact{Email: email, Phone: phone})
	_, _ = c.Contacts.Get(ctx, email)
	_, _ = c.Contacts.Update(ctx, phone, sendivent.Contact{Name: "Ada"})
	_ = c.Contacts.AddPushToken(ctx, email, token)
	_ = c.Contacts.RemovePushToken(ctx, email, token)
	_, _ = c.Contacts.ListPage(ctx, sendivent.ContactListParams{Search: email})
	_ = c.Contacts.Delete(ctx, email)
	_, _ = c.Events.List(ctx)
	_, _ = c.Events.Get(ctx, "welcome")
	_, _ = c.Deliveries.ListPage(ctx, sendivent.DeliveryListParams{})
	_, _ = c.Deliveries.Trace(ctx, "550e8400-e29b-41d4-a716-446655440000")
	_, _ = c.Integrations.List(ctx, sendivent.ChannelEmail)
	hook, err := c.Webhooks.Create(ctx, sendivent.WebhookConfig{URL: "https://example.com/hooks",
		EnabledEvents: []webhook.EventType{webhook.DeliveryDelivered}})
	require.NoError(t, err)
	_, _ = c.Webhooks.Get(ctx)
	active := false
	_, _ = c.Webhooks.Update(ctx, hook.UUID, sendivent.WebhookUpdate{Active: &active})
	_ = c.Webhooks.Delete(ctx, hook.UUID)

	var names []string
	for _, s := range rec.of("op.start") {
		names = append(names, s.Op.Name)
		assert.NotContains(t, s.Op.Name, " ", "%s %s has no name of its own", s.Op.Method, s.Op.Route)
	}
	assert.Equal(t, []string{"send", "get_notification", "cancel", "contacts.upsert", "contacts.get", "contacts.update",
		"contacts.add_push_token", "contacts.remove_push_token", "contacts.list", "contacts.delete", "events.list",
		"events.get", "deliveries.list", "deliveries.trace", "integrations.list", "webhooks.create", "webhooks.get",
		"webhooks.update", "webhooks.delete"}, names)

	everything := fmt.Sprintf("%+v", rec.all())
	for _, secret := range []string{email, "ada.lovelace", "%40example.com", phone, "46701234567", token, "SecretToken",
		srv.APIKey(), string(hook.SigningSecret)} {
		assert.NotContains(t, everything, secret)
	}
}

// An Observer with no hook set is no observer: the client does not look
// for one on its requests.
func TestObserverEmptyIsNone(t *testing.T) {
	t.Parallel()
	srv := newScriptedServer(t, status(200, acceptedBody))
	c, err := sendivent.NewClient("test_observe_key_1234567890", sendivent.WithBaseURL(srv.URL),
		sendivent.WithObserver(sendivent.Observer{}))
	require.NoError(t, err)
	_, err = c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{""}, srv.spans)
}

// A redirect is a hop of the attempt that got it: one attempt, and each hop
// carries its header.
func TestObserverRedirectIsOneAttempt(t *testing.T) {
	t.Parallel()
	var srv *scriptedServer
	srv = newScriptedServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/moved"+r.URL.Path, http.StatusTemporaryRedirect)
	}, status(200, acceptedBody))
	rec := &recorder{}
	c := observedClient(t, srv.URL, rec)
	_, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.NoError(t, err)
	assert.Len(t, rec.of("attempt.start"), 1)
	assert.Equal(t, []string{"send#1/attempt1", "send#1/attempt1"}, srv.spans)
	end := rec.of("attempt.end")[0].Arg.(sendivent.AttemptEnd)
	assert.Equal(t, 200, end.StatusCode)
}

// A certificate the client does not trust: "tls", not retried.
func TestObserverTLSFailure(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(status(200, acceptedBody))
	t.Cleanup(srv.Close)
	rec := &recorder{}
	c := observedClient(t, srv.URL, rec)
	_, err := c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	require.Error(t, err)
	ends := rec.of("attempt.end")
	require.Len(t, ends, 1)
	assert.Equal(t, "tls", ends[0].Arg.(sendivent.AttemptEnd).ErrorType)
	assert.Equal(t, "not_retryable", ends[0].Arg.(sendivent.AttemptEnd).Reason)
	assert.Equal(t, "tls", rec.of("op.end")[0].Arg.(sendivent.OperationEnd).ErrorType)
}

// server.address and server.port come from the base URL, with the
// scheme's port when it names none.
func TestObserverServerOfBaseURL(t *testing.T) {
	t.Parallel()
	answer := roundTripper(func(r *http.Request) (*http.Response, error) {
		_, _ = io.Copy(io.Discard, r.Body)
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(acceptedBody)), Request: r}, nil
	})
	for _, tt := range []struct {
		base, host string
		port       int
	}{
		{"https://api.example.com", "api.example.com", 443},
		{"http://localhost", "localhost", 80},
		{"https://[2001:db8::1]:8443/prefix", "2001:db8::1", 8443},
	} {
		rec := &recorder{}
		c, err := sendivent.NewClient("test_observe_key_1234567890", sendivent.WithBaseURL(tt.base),
			sendivent.WithHTTPClient(&http.Client{Transport: answer}), sendivent.WithObserver(rec.observer()))
		require.NoError(t, err)
		_, err = c.Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
		require.NoError(t, err)
		op := rec.of("op.start")[0].Op
		assert.Equal(t, tt.base, op.BaseURL)
		assert.Equal(t, tt.host, op.ServerAddress)
		assert.Equal(t, tt.port, op.ServerPort)
	}
}

// A server that puts an address or a phone number where the notification's
// id or status belongs hands neither to the observer; a UUID and a status
// word pass.
func TestObserverGetsNoPersonalDataFromEchoedIDs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, id, status   string
		wantID, wantStatus string
	}{
		{"an email as the id", "alice@example.com", "completed", "", "completed"},
		{"a phone as the id", "46701234567", "completed", "", "completed"},
		{"an email as the status", "550e8400-e29b-41d4-a716-446655440000", "bob@example.com", "550e8400-e29b-41d4-a716-446655440000", ""},
		{"the service's forms", "550E8400-E29B-41D4-A716-446655440000", "waiting_for_x", "550E8400-E29B-41D4-A716-446655440000", "waiting_for_x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := fmt.Sprintf(`{"id":%q,"event":"welcome","status":%q,"messages":[]}`, tt.id, tt.status)
			srv := newScriptedServer(t, status(200, body))
			rec := &recorder{}
			c := observedClient(t, srv.URL, rec)
			n, err := c.GetNotification(context.Background(), "n1")
			require.NoError(t, err)
			assert.Equal(t, tt.id, n.ID, "the caller gets the answer as it came")
			ends := rec.of("op.end")
			require.Len(t, ends, 1)
			e := ends[0].Arg.(sendivent.OperationEnd)
			assert.Equal(t, tt.wantID, e.NotificationID)
			assert.Equal(t, sendivent.NotificationStatus(tt.wantStatus), e.NotificationStatus)
		})
	}
}

// A poll's status reaches the Poll hook only in the service's form, as an
// operation's end does: a server that echoes an address there hands it to
// no observer.
func TestObserverPollGetsNoPersonalDataFromEchoedStatus(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, status, want string }{
		{"an email as the status", "bob@example.com", ""},
		{"a phone as the status", "+46701234567", ""},
		{"a status word", "running", "running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := fmt.Sprintf(`{"id":"550e8400-e29b-41d4-a716-446655440000","event":"welcome","status":%q,"messages":[]}`, tt.status)
			srv := newScriptedServer(t, status(200, body))
			rec := &recorder{}
			c := observedClient(t, srv.URL, rec)
			for n, err := range c.Watch(context.Background(), "n1") {
				require.NoError(t, err)
				assert.Equal(t, sendivent.NotificationStatus(tt.status), n.Status, "the caller gets the answer as it came")
				break
			}
			polls := rec.of("poll")
			require.Len(t, polls, 1)
			assert.Equal(t, sendivent.NotificationStatus(tt.want), polls[0].Arg.(sendivent.Poll).Status)
		})
	}
}
