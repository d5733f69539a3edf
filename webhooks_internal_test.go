package sendivent

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

func TestWebhooksCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  WebhookConfig
		body string
	}{
		{"documented", WebhookConfig{URL: "https://example.com/hooks", EnabledEvents: []webhook.EventType{webhook.DeliverySent, webhook.DeliveryFailed}, Description: "prod"},
			`{"url":"https://example.com/hooks","enabled_events":["delivery.sent","delivery.failed"],"description":"prod"}`},
		{"no description, an unknown type", WebhookConfig{URL: "https://example.com/hooks?team=a&b=1", EnabledEvents: []webhook.EventType{"delivery.opened"}},
			`{"url":"https://example.com/hooks?team=a&b=1","enabled_events":["delivery.opened"]}`},
		{"loopback over http", WebhookConfig{URL: "http://127.0.0.1:8080/hooks", EnabledEvents: []webhook.EventType{webhook.DeliverySent}},
			`{"url":"http://127.0.0.1:8080/hooks","enabled_events":["delivery.sent"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(201, createdJSON))
			w, err := h.c.Webhooks.Create(context.Background(), tt.cfg)
			require.NoError(t, err)

			checkRequest(t, h.last(), wantRequest{method: "POST", path: "/v1/webhooks", body: tt.body, key: true})

			assert.Equal(t, "wh-1", w.UUID)
			assert.Equal(t, "https://example.com/hooks", w.URL)
			assert.Equal(t, []webhook.EventType{webhook.DeliverySent, webhook.DeliveryFailed}, w.EnabledEvents)
			assert.True(t, w.Active)
			assert.Equal(t, "prod", w.Description)
			assert.Equal(t, time.Date(2026, 3, 30, 12, 0, 0, 123e6, time.UTC), w.CreatedAt)
			assert.Equal(t, hookSecret, string(w.SigningSecret))
			assert.NotContains(t, string(w.Raw), hookSecret, "Raw masks the secret")
			assert.JSONEq(t, strings.Replace(createdJSON, hookSecret, "whsec_****", 1), string(w.Raw))
		})
	}
}

// TestWebhooksCreateConflict: the application has an endpoint already. A
// 409 that does not say the request is still in flight is final: one
// attempt, an error matching ErrConflict that says what to do.
func TestWebhooksCreateConflict(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(409, `{"error":"Webhook already exists","code":"CONFLICT"}`), reply(201, createdJSON))
	w, err := h.c.Webhooks.Create(context.Background(), WebhookConfig{URL: "https://example.com/hooks", EnabledEvents: []webhook.EventType{webhook.DeliverySent}})
	assert.Nil(t, w)
	require.ErrorIs(t, err, ErrConflict)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, 409, ae.StatusCode)
	assert.Equal(t, "CONFLICT", ae.Code)
	assert.Len(t, ae.Attempts, 1)
	assert.Equal(t, 1, h.mt.GetTotalCallCount(), "not retried")
	assert.Equal(t, "sendivent: the application already has a webhook endpoint (one per application: Get it, then Update or Delete it): 409 Conflict: Webhook already exists (CONFLICT)", err.Error())
	assert.False(t, ae.Temporary())
}

// TestWebhooksCreateRetries: transient failures, and a 409 saying the same
// key is still being handled, are retried under one key with the same
// body.
func TestWebhooksCreateRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		first httpmock.Responder
	}{
		{"503", reply(503, `{"error":"busy"}`)},
		{"409 in flight", reply(409, `{"error":"Request in progress","code":"IDEMPOTENCY_KEY_IN_PROGRESS"}`)},
		{"409 with Retry-After", reply(409, `{"error":"Conflict"}`, "Retry-After", "0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(tt.first, reply(201, createdJSON))
			w, err := h.c.Webhooks.Create(context.Background(), WebhookConfig{URL: "https://example.com/hooks", EnabledEvents: []webhook.EventType{webhook.DeliverySent}})
			require.NoError(t, err)
			assert.Equal(t, hookSecret, string(w.SigningSecret))
			rs := h.requests()
			require.Len(t, rs, 2)
			assert.Equal(t, rs[0].Header.Get("X-Idempotency-Key"), rs[1].Header.Get("X-Idempotency-Key"))
			assert.Equal(t, string(rs[0].Body), string(rs[1].Body))
		})
	}
}

func TestWebhooksGet(t *testing.T) {
	t.Parallel()
	want := &Webhook{UUID: "wh-1", URL: "https://example.com/hooks", EnabledEvents: []webhook.EventType{webhook.DeliverySent}}
	tests := []struct {
		name, body string
		active     bool
	}{
		{"documented", gotJSON, false},
		{"under data", `{"data":{"uuid":"wh-1","url":"https://example.com/hooks","enabled_events":["delivery.sent"],"active":true}}`, true},
		{"bare", `{"uuid":"wh-1","url":"https://example.com/hooks","enabled_events":["delivery.sent"]}`, false},
		{"a list of one", `{"webhooks":[{"id":"wh-1","url":"https://example.com/hooks","events":["delivery.sent"],"is_active":true}]}`, true},
		{"webhook in the data envelope", `{"success":true,"data":{"webhook":{"uuid":"wh-1","url":"https://example.com/hooks","enabled_events":["delivery.sent"]}}}`, false},
		{"numeric id, odd time", `{"webhook":{"id":1,"url":"https://example.com/hooks","enabled_events":["delivery.sent"],"created_at":"yesterday"}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, tt.body))
			w, err := h.c.Webhooks.Get(context.Background())
			require.NoError(t, err)
			checkRequest(t, h.last(), wantRequest{method: "GET", path: "/v1/webhooks"})

			exp := *want
			exp.Active, exp.Raw = tt.active, []byte(tt.body)
			if tt.name == "numeric id, odd time" {
				exp.UUID = "1"
			}
			assert.Equal(t, &exp, w)
			assert.Empty(t, w.SigningSecret)
		})
	}
}

func TestWebhooksGetNone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		status int
		body   string
		want   error
	}{
		{"404", 404, `{"error":"Webhook not found","code":"NOT_FOUND"}`, ErrNotFound},
		{"null", 200, `{"success":true,"webhook":null}`, ErrNotFound},
		{"empty list", 200, `{"success":true,"webhooks":[]}`, ErrNotFound},
		{"no webhook at all", 200, `{"success":true}`, ErrMalformed},
		{"not an object", 200, `{"webhook":"wh-1"}`, ErrMalformed},
		{"not JSON", 200, `<html>`, ErrMalformed},
		{"success false", 200, `{"success":false,"error":"Subscription inactive"}`, ErrRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(tt.status, tt.body))
			w, err := h.c.Webhooks.Get(context.Background())
			assert.Nil(t, w)
			require.ErrorIs(t, err, tt.want)
			assert.Equal(t, 1, h.mt.GetTotalCallCount(), "not retried")
		})
	}
}

func TestWebhooksUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		uuid string
		u    WebhookUpdate
		path string
		body string
	}{
		{"url", "wh-1", WebhookUpdate{URL: "https://example.com/v2"}, "/v1/webhooks/wh-1", `{"url":"https://example.com/v2"}`},
		{"events", "wh-1", WebhookUpdate{EnabledEvents: []webhook.EventType{webhook.DeliveryBounced}}, "/v1/webhooks/wh-1", `{"enabled_events":["delivery.bounced"]}`},
		{"pause", "wh-1", WebhookUpdate{Active: Ptr(false)}, "/v1/webhooks/wh-1", `{"is_active":false}`},
		{"clear description", "wh-1", WebhookUpdate{Description: Ptr("")}, "/v1/webhooks/wh-1", `{"description":""}`},
		{"everything", "wh/1%", WebhookUpdate{URL: "https://example.com/v2", EnabledEvents: []webhook.EventType{webhook.DeliverySent},
			Active: Ptr(true), Description: Ptr("v2")}, "/v1/webhooks/wh%2F1%25",
			`{"url":"https://example.com/v2","enabled_events":["delivery.sent"],"is_active":true,"description":"v2"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, gotJSON))
			w, err := h.c.Webhooks.Update(context.Background(), tt.uuid, tt.u)
			require.NoError(t, err)
			assert.Equal(t, "wh-1", w.UUID)
			checkRequest(t, h.last(), wantRequest{method: "PATCH", path: tt.path, body: tt.body})
		})
	}

	t.Run("unknown uuid", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t)
		h.script(reply(404, `{"error":"Webhook not found"}`))
		_, err := h.c.Webhooks.Update(context.Background(), "wh-2", WebhookUpdate{Active: Ptr(true)})
		assert.ErrorIs(t, err, ErrNotFound)
	})
	t.Run("answer without a webhook", func(t *testing.T) {
		t.Parallel()
		h := newMockHarness(t)
		h.script(reply(200, `{"success":true,"webhook":null}`))
		_, err := h.c.Webhooks.Update(context.Background(), "wh-1", WebhookUpdate{Active: Ptr(true)})
		assert.ErrorIs(t, err, ErrMalformed)
	})
}

func TestWebhooksDelete(t *testing.T) {
	t.Parallel()
	notFound := reply(404, `{"error":"Webhook not found"}`)
	tests := []struct {
		name    string
		answers []httpmock.Responder
		want    error
		calls   int
	}{
		{"deleted", []httpmock.Responder{reply(200, `{"success":true,"deleted":true}`)}, nil, 1},
		{"no content", []httpmock.Responder{reply(204, ``)}, nil, 1},
		{"unknown", []httpmock.Responder{reply(404, `{"error":"Webhook not found"}`)}, ErrNotFound, 1},
		// The first attempt's answer was lost; it may have deleted it.
		{"gone after no answer", []httpmock.Responder{httpmock.NewErrorResponder(io.ErrUnexpectedEOF), notFound}, nil, 2},
		{"gone after a time-out", []httpmock.Responder{httpmock.NewErrorResponder(context.DeadlineExceeded), notFound}, nil, 2},
		{"gone after a 2xx cut short", []httpmock.Responder{brokenAnswer(200), notFound}, nil, 2},
		// The service answered the first attempt: it did not delete it.
		{"404 after a 503", []httpmock.Responder{reply(503, `{"error":"try later"}`), notFound}, ErrNotFound, 2},
		{"404 after a 502", []httpmock.Responder{reply(502, `bad gateway`), notFound}, ErrNotFound, 2},
		{"404 after a 429", []httpmock.Responder{reply(429, `{"error":"slow down"}`, "Retry-After", "0"), notFound}, ErrNotFound, 2},
		{"404 after a 503 and no answer", []httpmock.Responder{reply(503, `{}`), httpmock.NewErrorResponder(io.ErrUnexpectedEOF), notFound}, nil, 3},
		{"forbidden", []httpmock.Responder{reply(403, `{"error":"Subscription inactive"}`)}, ErrForbidden, 1},
		{"not deleted", []httpmock.Responder{reply(200, `{"success":true,"deleted":false}`)}, ErrRejected, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(tt.answers...)
			err := h.c.Webhooks.Delete(context.Background(), "wh-1")
			if tt.want == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.want)
			}
			assert.Equal(t, tt.calls, h.mt.GetTotalCallCount())
			checkRequest(t, h.last(), wantRequest{method: "DELETE", path: "/v1/webhooks/wh-1"})
		})
	}
}

// TestWebhooksValidation: bad input is a *ValidationError naming the
// field, and nothing is sent.
func TestWebhooksValidation(t *testing.T) {
	t.Parallel()
	sent := []webhook.EventType{webhook.DeliverySent}
	create := func(u string, ev []webhook.EventType) func(*WebhooksService) error {
		return func(s *WebhooksService) error {
			_, err := s.Create(context.Background(), WebhookConfig{URL: u, EnabledEvents: ev})
			return err
		}
	}
	update := func(uuid string, u WebhookUpdate) func(*WebhooksService) error {
		return func(s *WebhooksService) error {
			_, err := s.Update(context.Background(), uuid, u)
			return err
		}
	}
	del := func(uuid string) func(*WebhooksService) error {
		return func(s *WebhooksService) error { return s.Delete(context.Background(), uuid) }
	}
	tests := []struct {
		name  string
		call  func(*WebhooksService) error
		field string // "" when valid
	}{
		{"https", create("https://example.com/hooks", sent), ""},
		{"upper-case scheme", create("HTTPS://EXAMPLE.COM/hooks", sent), ""},
		{"http localhost", create("http://localhost:3000/hooks", sent), ""},
		{"http ::1", create("http://[::1]:3000/hooks", sent), ""},
		{"credentials", create("https://user:pass@example.com/hooks", sent), ""},
		{"empty url", create("", sent), "url"},
		{"no scheme", create("example.com/hooks", sent), "url"},
		{"path only", create("/hooks", sent), "url"},
		{"no host", create("https:///hooks", sent), "url"},
		{"port only", create("https://:443/hooks", sent), "url"},
		{"plain http", create("http://example.com/hooks", sent), "url"},
		{"http localhost lookalike", create("http://localhost.example.com/hooks", sent), "url"},
		{"ftp", create("ftp://example.com/hooks", sent), "url"},
		{"fragment", create("https://example.com/hooks#x", sent), "url"},
		{"empty fragment", create("https://example.com/hooks#", sent), "url"},
		{"space in host", create("https://exa mple.com/", sent), "url"},
		{"too long", create("https://example.com/"+strings.Repeat("a", maxWebhookURL), sent), "url"},
		{"no events", create("https://example.com/hooks", nil), "enabled_events"},
		{"empty events", create("https://example.com/hooks", []webhook.EventType{}), "enabled_events"},
		{"empty type", create("https://example.com/hooks", []webhook.EventType{webhook.DeliverySent, ""}), "enabled_events[1]"},
		{"spaced type", create("https://example.com/hooks", []webhook.EventType{"delivery sent"}), "enabled_events[0]"},
		{"control in type", create("https://example.com/hooks", []webhook.EventType{"delivery.sent\n"}), "enabled_events[0]"},
		{"unknown type", create("https://example.com/hooks", []webhook.EventType{"delivery.opened"}), ""},
		{"update nothing", update("wh-1", WebhookUpdate{}), "update"},
		{"update empty uuid", update("", WebhookUpdate{Active: Ptr(true)}), "uuid"},
		{"update dot-dot", update("..", WebhookUpdate{Active: Ptr(true)}), "uuid"},
		{"update bad url", update("wh-1", WebhookUpdate{URL: "http://example.com/"}), "url"},
		{"update empty events", update("wh-1", WebhookUpdate{EnabledEvents: []webhook.EventType{}}), "enabled_events"},
		{"update ok", update("wh-1", WebhookUpdate{Description: Ptr("")}), ""},
		{"delete empty uuid", del(""), "uuid"},
		{"delete dot", del("."), "uuid"},
		{"delete space around", del(" wh-1"), "uuid"},
		{"delete control", del("wh\x001"), "uuid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(201, createdJSON))
			err := tt.call(h.c.Webhooks)
			if tt.field == "" {
				require.NoError(t, err)
				assert.Equal(t, 1, h.mt.GetTotalCallCount())
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.ErrorIs(t, err, ErrValidation)
			assert.NotContains(t, err.Error(), "pass", "a URL's credentials are never quoted")
			assert.Zero(t, h.mt.GetTotalCallCount(), "nothing is sent")
		})
	}
}

func TestWebhooksOnAZeroClient(t *testing.T) {
	t.Parallel()
	var c Client
	_, err := c.Webhooks.Get(context.Background())
	assert.ErrorIs(t, err, errNoClient)
	err = c.Webhooks.Delete(context.Background(), "wh-1")
	assert.ErrorIs(t, err, errNoClient)
}

// brokenAnswer answers status with a body whose connection breaks midway.
func brokenAnswer(status int) httpmock.Responder {
	return func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: status, Header: http.Header{}, Body: &brokenBody{}, ContentLength: -1, Request: r}, nil
	}
}
