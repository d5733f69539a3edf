package webhook_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

// ctxKey marks the contexts the tests follow: the request's, and the one
// the observer's DeliveryStart returns.
type ctxKey string

// recorder is an Observer that keeps what its hooks are handed, in order,
// and checks that each hook after DeliveryStart gets the context it
// returned.
type recorder struct {
	mu       sync.Mutex
	hooks    []string
	starts   []webhook.DeliveryStart
	verified []webhook.Verification
	ends     []webhook.DeliveryEnd
	lostCtx  int // hooks that did not get DeliveryStart's context
}

func (rec *recorder) observer() webhook.Observer {
	return webhook.Observer{
		DeliveryStart: func(ctx context.Context, d webhook.DeliveryStart) context.Context {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			rec.hooks = append(rec.hooks, "start")
			rec.starts = append(rec.starts, d)
			return context.WithValue(ctx, ctxKey("delivery"), "observed")
		},
		Verified: func(ctx context.Context, v webhook.Verification) {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			rec.hooks = append(rec.hooks, "verified")
			rec.verified = append(rec.verified, v)
			rec.check(ctx)
		},
		DeliveryEnd: func(ctx context.Context, e webhook.DeliveryEnd) {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			rec.hooks = append(rec.hooks, "end")
			rec.ends = append(rec.ends, e)
			rec.check(ctx)
		},
	}
}

func (rec *recorder) check(ctx context.Context) {
	if ctx.Value(ctxKey("delivery")) != "observed" {
		rec.lostCtx++
	}
}

func (rec *recorder) lastEnd(t *testing.T) webhook.DeliveryEnd {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	require.NotEmpty(t, rec.ends)
	return rec.ends[len(rec.ends)-1]
}

// A verified delivery, handled: the hooks in order, the function under
// the observer's context, the event described and timed.
func TestObserverHandled(t *testing.T) {
	t.Parallel()
	var rec recorder
	var fnCtx context.Context
	h := webhook.Handler(secret, func(ctx context.Context, _ *webhook.Event) error {
		fnCtx = ctx
		time.Sleep(5 * time.Millisecond) // what CallbackDuration must measure
		return nil
	}, at(now), webhook.WithObserver(rec.observer()))
	body := []byte(payload)
	r := httptest.NewRequestWithContext(context.WithValue(context.Background(), ctxKey("request"), "r1"),
		http.MethodPost, "/webhook", bytes.NewReader(body))
	r.Header.Set(webhook.SignatureHeader, signature(secret, now, body))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusNoContent, w.Code)

	assert.Equal(t, []string{"start", "verified", "end"}, rec.hooks)
	assert.Zero(t, rec.lostCtx, "every hook gets DeliveryStart's context")
	require.NotNil(t, fnCtx)
	assert.Equal(t, "observed", fnCtx.Value(ctxKey("delivery")), "fn runs under the observer's context")
	assert.Equal(t, "r1", fnCtx.Value(ctxKey("request")), "which derives from the request's")

	info := webhook.EventInfo{Type: webhook.DeliveryFailed, DeliveryUUID: "5f0c6f5e-8a34-4d1e-9d7e-1c2b3a4d5e6f",
		Channel: "email", EventName: "welcome"}
	require.Len(t, rec.verified, 1)
	assert.Equal(t, info, rec.verified[0].Event)
	assert.Empty(t, rec.verified[0].ErrorType)
	end := rec.lastEnd(t)
	assert.Equal(t, info, end.Event)
	assert.Equal(t, http.StatusNoContent, end.StatusCode)
	assert.Equal(t, webhook.OutcomeHandled, end.Outcome)
	assert.Empty(t, end.ErrorType)
	assert.Equal(t, webhook.Acquired, end.Claim)
	assert.Empty(t, end.DedupeError)
	assert.GreaterOrEqual(t, end.CallbackDuration, 5*time.Millisecond)
	assert.GreaterOrEqual(t, end.Duration, end.CallbackDuration+rec.verified[0].Duration)
}

// brokenBody fails its first read.
type brokenBody struct{}

func (brokenBody) Read([]byte) (int, error) { return 0, errors.New("connection reset by peer") }

// Every way a delivery ends, as DeliveryEnd reports it.
func TestObserverOutcomes(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	good := signature(secret, now, body)
	storeDown := errors.New("store down")
	fnFailed := errors.New("fn failed")
	claimedBefore := func() webhook.Deduper { // the event, already being handled
		d := webhook.NewMemoryDeduper(0, 0)
		ev, err := webhook.Verify(body, headers(good), secret, at(now))
		if err != nil {
			panic(err)
		}
		_, _, _ = d.Claim(context.Background(), ev.DedupeKey())
		return d
	}
	type want struct {
		code              int
		outcome, class    string
		claim             webhook.ClaimResult
		dedupeErr         string
		called, verified  bool
		verificationClass string // Verified's, when not verified
	}
	tests := []struct {
		name   string
		method string
		body   io.Reader
		sig    string
		opts   []webhook.Option
		fnErr  error
		hangUp bool
		posts  int // the last is observed; 1 when 0
		want   want
	}{
		{name: "handled", sig: good,
			want: want{code: 204, outcome: "handled", claim: webhook.Acquired, called: true, verified: true}},
		{name: "handled without a Deduper", sig: good, opts: []webhook.Option{webhook.WithDeduper(nil)},
			want: want{code: 204, outcome: "handled", called: true, verified: true}},
		{name: "duplicate", sig: good, posts: 2,
			want: want{code: 200, outcome: "duplicate", claim: webhook.AlreadyDone, verified: true}},
		{name: "in progress", sig: good, opts: []webhook.Option{webhook.WithDeduper(claimedBefore())},
			want: want{code: 503, outcome: "in_progress", claim: webhook.InProgress, verified: true}},
		{name: "callback error", sig: good, fnErr: fnFailed,
			want: want{code: 500, outcome: "failed", class: "callback_error", claim: webhook.Acquired, called: true, verified: true}},
		{name: "method", method: http.MethodGet, sig: good,
			want: want{code: 405, outcome: "refused", class: "method_not_allowed"}},
		{name: "too large", sig: good, opts: []webhook.Option{webhook.WithMaxBodyBytes(100)},
			want: want{code: 413, outcome: "refused", class: "body_too_large"}},
		{name: "too large, chunked", body: io.MultiReader(bytes.NewReader(body)), sig: good,
			opts: []webhook.Option{webhook.WithMaxBodyBytes(100)},
			want: want{code: 413, outcome: "refused", class: "body_too_large"}},
		{name: "unreadable", body: brokenBody{}, sig: good,
			want: want{code: 400, outcome: "refused", class: "body_unreadable"}},
		{name: "missing header",
			want: want{code: 400, outcome: "refused", class: "missing_header"}},
		{name: "malformed header", sig: "t=1",
			want: want{code: 400, outcome: "refused", class: "malformed_header"}},
		{name: "forged", sig: signature("whsec_another", now, body),
			want: want{code: 400, outcome: "refused", class: "no_valid_signature"}},
		{name: "stale", sig: signature(secret, now.Add(-time.Hour), body),
			want: want{code: 400, outcome: "refused", class: "timestamp_out_of_range"}},
		{name: "not an object", body: strings.NewReader("[1]"), sig: signature(secret, now, []byte("[1]")),
			want: want{code: 400, outcome: "refused", class: "invalid_payload"}},
		{name: "claim fails", sig: good, opts: []webhook.Option{webhook.WithDeduper(&storeSpy{claimErr: storeDown})},
			want: want{code: 503, outcome: "failed", class: "dedupe_store", verified: true}},
		{name: "acquired without a lease", sig: good, opts: []webhook.Option{webhook.WithDeduper(deduperFunc(
			func(context.Context, string) (webhook.ClaimResult, webhook.Lease, error) {
				return webhook.Acquired, nil, nil
			}))},
			want: want{code: 503, outcome: "failed", class: "dedupe_store", verified: true}},
		{name: "the peer left during the claim", sig: good, hangUp: true, opts: []webhook.Option{webhook.WithDeduper(deduperFunc(
			func(ctx context.Context, _ string) (webhook.ClaimResult, webhook.Lease, error) {
				return 0, nil, ctx.Err()
			}))},
			want: want{code: 503, outcome: "failed", class: "canceled", verified: true}},
		{name: "handled, not recorded", sig: good, opts: []webhook.Option{webhook.WithDeduper(&storeSpy{completeErr: storeDown})},
			want: want{code: 204, outcome: "handled", claim: webhook.Acquired, dedupeErr: "not_recorded", called: true, verified: true}},
		{name: "handled, claim lost", sig: good,
			opts: []webhook.Option{webhook.WithDeduper(&storeSpy{completeErr: fmt.Errorf("%w: taken", webhook.ErrClaimLost)})},
			want: want{code: 204, outcome: "handled", claim: webhook.Acquired, dedupeErr: "claim_lost", called: true, verified: true}},
		{name: "failed, not released", sig: good, fnErr: fnFailed, opts: []webhook.Option{webhook.WithDeduper(&storeSpy{releaseErr: storeDown})},
			want: want{code: 500, outcome: "failed", class: "callback_error", claim: webhook.Acquired, dedupeErr: "not_released", called: true, verified: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rec recorder
			c := calls{err: tt.fnErr}
			h := webhook.Handler(secret, c.fn, append([]webhook.Option{at(now), webhook.WithObserver(rec.observer())}, tt.opts...)...)
			for i := range max(tt.posts, 1) {
				c.mu.Lock()
				c.events = nil
				c.mu.Unlock()
				ctx, cancel := context.WithCancel(context.Background())
				if tt.hangUp {
					cancel()
				}
				var src io.Reader = bytes.NewReader(body)
				if tt.body != nil && i == max(tt.posts, 1)-1 {
					src = tt.body
				}
				r := httptest.NewRequestWithContext(ctx, cmp.Or(tt.method, http.MethodPost), "/webhook", src)
				if tt.body != nil {
					r.ContentLength = -1 // as a chunked request: the cap holds while reading
				}
				if tt.sig != "" {
					r.Header.Set(webhook.SignatureHeader, tt.sig)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				cancel()
				if i == max(tt.posts, 1)-1 {
					require.Equal(t, tt.want.code, w.Code)
				}
			}
			end := rec.lastEnd(t)
			got := want{code: end.StatusCode, outcome: end.Outcome, class: end.ErrorType, claim: end.Claim,
				dedupeErr: end.DedupeError, called: c.n() > 0, verified: end.Event.Type != ""}
			v := rec.verified[len(rec.verified)-1]
			if v.ErrorType != "" {
				got.verificationClass = v.ErrorType
				assert.Zero(t, v.Event)
			}
			wantV := tt.want
			if !wantV.verified {
				wantV.verificationClass = wantV.class
			}
			assert.Equal(t, wantV, got)
			assert.Equal(t, got.called, end.CallbackDuration > 0, "CallbackDuration when fn ran")
			assert.Equal(t, max(tt.posts, 1)*3, len(rec.hooks), "three hooks a delivery")
			assert.Zero(t, rec.lostCtx)
		})
	}
}

// A panic reaches DeliveryEnd, then goes on to net/http as it was; the
// event is released.
func TestObserverPanic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fn    func(context.Context, *webhook.Event) error
		store webhook.Deduper
		class string
		claim webhook.ClaimResult
	}{
		{"in the function", func(context.Context, *webhook.Event) error { panic("boom") }, webhook.NewMemoryDeduper(0, 0),
			"callback_panic", webhook.Acquired},
		{"in the Deduper", func(context.Context, *webhook.Event) error { return nil },
			deduperFunc(func(context.Context, string) (webhook.ClaimResult, webhook.Lease, error) { panic("boom") }),
			"panic", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var rec recorder
			h := webhook.Handler(secret, tt.fn, at(now), webhook.WithDeduper(tt.store), webhook.WithObserver(rec.observer()))
			body := event(webhook.DeliverySent, "d1")
			assert.PanicsWithValue(t, "boom", func() { post(h, body, signature(secret, now, body)) })
			end := rec.lastEnd(t)
			assert.Equal(t, 0, end.StatusCode, "net/http answers nothing")
			assert.Equal(t, webhook.OutcomeFailed, end.Outcome)
			assert.Equal(t, tt.class, end.ErrorType)
			assert.Equal(t, tt.claim, end.Claim)
			assert.Equal(t, tt.class == "callback_panic", end.CallbackDuration > 0)
			assert.Equal(t, webhook.DeliverySent, end.Event.Type)
			assert.Equal(t, []string{"start", "verified", "end"}, rec.hooks)
		})
	}
}

// The header an observer sees hides the signature and credentials,
// however the request spells them, and cannot change the request's.
func TestObserverHeader(t *testing.T) {
	t.Parallel()
	var got webhook.RequestHeader
	h := webhook.Handler(secret, func(context.Context, *webhook.Event) error { return nil }, at(now),
		webhook.WithObserver(webhook.Observer{DeliveryStart: func(ctx context.Context, d webhook.DeliveryStart) context.Context {
			got = d.Header
			return nil // keeps ctx
		}}))
	body := []byte(payload)
	sig := signature(secret, now, body)
	r := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body))
	r.Header.Set(webhook.SignatureHeader, sig)
	r.Header.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	r.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	r.Header.Set("Proxy-Authorization", "Bearer proxy-token")
	r.Header.Set("Cookie", "session=abc")
	r.Header["x-sendivent-signature"] = []string{"t=1,v1=lowercased"} // a hand-built map
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	require.Equal(t, http.StatusNoContent, w.Code)

	assert.Equal(t, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", got.Get("traceparent"))
	assert.ElementsMatch(t, []string{"Traceparent"}, got.Keys())
	for _, k := range []string{webhook.SignatureHeader, "x-sendivent-signature", "Authorization", "proxy-authorization", "Cookie"} {
		assert.Empty(t, got.Get(k), k)
		assert.Empty(t, got.Values(k), k)
	}
	v := got.Values("Traceparent")
	v[0] = "changed"
	assert.NotEqual(t, "changed", r.Header.Get("Traceparent"), "Values is a copy")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		s := fmt.Sprintf(verb, webhook.DeliveryStart{Header: got})
		assert.Contains(t, s, "Traceparent")
		for _, hidden := range []string{sig[len(sig)-8:], "lowercased", "dXNlcjpwYXNz", "proxy-token", "session", "0af7651916cd"} {
			assert.NotContains(t, s, hidden, "%s of a DeliveryStart", verb)
		}
	}
}

// Nothing a hook is handed holds the body's personal data, the provider's
// words, the function's error, the secret or a signature.
func TestObserverSeesNoPersonalData(t *testing.T) {
	t.Parallel()
	const (
		email = "ada.lovelace@example.com"
		phone = "+46701234599"
	)
	body := []byte(`{"event":"delivery.bounced","delivery":{"uuid":"d-7","channel":"email","status":"bounced",` +
		`"event_name":"welcome","message_id":"msg-` + phone + `","to":"` + email + `",` +
		`"error":{"code":"HARD_BOUNCE","message":"550 ` + email + ` unknown, call ` + phone + `"}},"request_id":"req-1"}`)
	var seen []string
	keep := func(args ...any) {
		for _, a := range args {
			seen = append(seen, fmt.Sprintf("%+v", a), fmt.Sprintf("%#v", a))
		}
	}
	o := webhook.Observer{
		DeliveryStart: func(ctx context.Context, d webhook.DeliveryStart) context.Context {
			keep(d)
			for _, k := range d.Header.Keys() {
				keep(k, d.Header.Values(k))
			}
			return ctx
		},
		Verified:    func(_ context.Context, v webhook.Verification) { keep(v) },
		DeliveryEnd: func(_ context.Context, e webhook.DeliveryEnd) { keep(e) },
	}
	h := webhook.Handler(secret, func(context.Context, *webhook.Event) error {
		return errors.New("cannot suppress " + email + " with " + secret)
	}, at(now), webhook.WithObserver(o))
	post(h, body, signature(secret, now, body))                                                       // verified, fn fails
	post(h, body, signature("whsec_another", now, body))                                              // forged
	post(h, body, "t="+fmt.Sprint(now.Unix())+",v1="+fmt.Sprintf("%x", []byte(secret + secret)[:32])) // forged with the secret's bytes
	post(h, body, "t=1,v1="+secret)                                                                   // the secret as the signature
	all := strings.Join(seen, "\n")
	require.Contains(t, all, "d-7", "the delivery's id is there")
	require.Contains(t, all, "callback_error")
	for _, s := range []string{email, "ada.lovelace", phone, "46701234599", "unknown", "HARD_BOUNCE", "cannot suppress",
		"req-1", fmt.Sprintf("%x", []byte(secret + secret)[:32])[:16]} {
		assert.NotContains(t, all, s)
	}
	assertNoSecrets(t, all)
}

// An observer with no hooks is none; a later WithObserver replaces an
// earlier one; a nil hook is skipped.
func TestWithObserverReplaces(t *testing.T) {
	t.Parallel()
	var first, second recorder
	var ends int
	only := webhook.Observer{DeliveryEnd: func(context.Context, webhook.DeliveryEnd) { ends++ }}
	tests := []struct {
		name string
		opts []webhook.Option
		want [3]int // first's hooks, second's, only's ends
	}{
		{"the later one", []webhook.Option{webhook.WithObserver(first.observer()), webhook.WithObserver(second.observer())}, [3]int{0, 3, 0}},
		{"none after one", []webhook.Option{webhook.WithObserver(first.observer()), webhook.WithObserver(webhook.Observer{})}, [3]int{0, 3, 0}},
		{"one hook", []webhook.Option{webhook.WithObserver(only)}, [3]int{0, 3, 1}},
	}
	for _, tt := range tests { // in sequence: they share the counts
		h := webhook.Handler(secret, func(context.Context, *webhook.Event) error { return nil }, append(tt.opts, at(now))...)
		body := event(webhook.DeliverySent, tt.name)
		assert.Equal(t, http.StatusNoContent, post(h, body, signature(secret, now, body)).Code, tt.name)
		assert.Equal(t, tt.want, [3]int{len(first.hooks), len(second.hooks), ends}, tt.name)
	}
}
