package sendiventotel_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/webhook"
)

// Personal data and secrets that the scan test feeds to every call. None
// may appear in anything exported.
const (
	piiEmail     = "ada.lovelace.pii@example.com"
	piiEmail2    = "grace.hopper.pii@example.org"
	piiPhone     = "+46701234599"
	piiUserID    = "user-4242-pii"
	piiName      = "Ada Piiname"
	piiToken     = "ExponentPushToken[piiTokenAbcdef123456]"
	piiSlack     = "U0PIISLACK1"
	piiPayload   = "order-for-ada-pii-9912"
	piiAPIKey    = "test_piiApiKey0123456789abcdef"
	piiHookToken = "hookpathsecretpii77"
)

// TestNoPersonalDataExported runs every public call, and webhook
// deliveries, with inputs full of personal data and secrets, on their
// happy paths and on their failures, and fails if any of them (or a
// telling piece of one) appears in a span name, an attribute, an event, a
// status message or a metric attribute.
func TestNoPersonalDataExported(t *testing.T) {
	t.Parallel()
	tel := newTelemetry(t)
	srv := newFake(t, sendiventtest.WithAPIKey(piiAPIKey), sendiventtest.WithManualLifecycle())
	c := srv.Client(tel.option(), sendivent.WithRateLimit(1000, 5))
	ctx := context.Background()
	ada := sendivent.Contact{Email: piiEmail, Phone: piiPhone, ID: piiUserID, Name: piiName, Slack: piiSlack, PushTokens: []string{piiToken}}
	payload := sendivent.Payload{"order": piiPayload, "email": piiEmail, "phone": piiPhone}

	// Sends: one recipient, several, a forced channel, a sender, a retry
	// whose error body echoes the address, a rejected idempotency key.
	res, err := c.Event("welcome").To(ada).Payload(payload).IdempotencyKey("key-" + piiUserID).Send(ctx)
	require.NoError(t, err)
	_, _ = c.Event("welcome").To(sendivent.Address(piiEmail2), sendivent.Address(piiPhone)).Payload(payload).Send(ctx)
	_, _ = c.Event("welcome").To(sendivent.Address(piiEmail)).Channel(sendivent.ChannelEmail).
		From(sendivent.Address(piiEmail2)).Send(ctx)
	srv.Inject(sendiventtest.FailNext(1, 503).WithBody(`{"error":"` + piiEmail + ` ` + piiPhone + ` is busy"}`))
	_, _ = c.Event("welcome").To(sendivent.Address(piiEmail)).Send(ctx)
	srv.Inject(sendiventtest.FailNext(3, 422).WithBody(`{"error":"invalid ` + piiEmail + `","field":"` + piiEmail + `"}`))
	_, _ = c.Event("welcome").To(sendivent.Address(piiEmail)).Send(ctx)
	_, _ = c.SendBatch(ctx, []sendivent.BatchItem{
		{Event: "welcome", Request: sendivent.SendRequest{To: []sendivent.Recipient{ada}, Payload: payload}},
		{Event: "welcome", Request: sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address(piiPhone)}}},
	}, sendivent.BatchKeys(piiUserID))

	// Status: get, wait (timing out), watch, and an id that is an address.
	_, _ = c.GetNotification(ctx, res.ID)
	_, _ = c.GetNotification(ctx, piiEmail)
	_, _ = c.Wait(ctx, res.ID, sendivent.PollEvery(time.Second, time.Second), sendivent.WaitAtMost(2*time.Second))
	_, _ = c.Wait(ctx, piiEmail, sendivent.WaitAtMost(time.Second))
	for range c.Watch(ctx, res.ID) {
		break
	}
	_, _ = c.Cancel(ctx, "welcome", sendivent.Address(piiEmail))
	_, _ = c.Cancel(ctx, "welcome", ada)

	// Contacts, by every kind of identifier, found and not.
	_, _ = c.Contacts.Upsert(ctx, ada)
	for _, id := range []string{piiEmail, piiPhone, piiUserID, piiEmail2} {
		_, _ = c.Contacts.Get(ctx, id)
		_, _ = c.Contacts.Update(ctx, id, sendivent.Contact{Name: piiName, Email: piiEmail})
		_ = c.Contacts.AddPushToken(ctx, id, piiToken)
		_ = c.Contacts.RemovePushToken(ctx, id, piiToken)
	}
	_, _ = c.Contacts.ListPage(ctx, sendivent.ContactListParams{Search: piiEmail})
	for _, err := range c.Contacts.List(ctx, sendivent.ContactListParams{Search: piiPhone}) {
		_ = err
	}
	_ = c.Contacts.Delete(ctx, piiEmail)
	_ = c.Contacts.Delete(ctx, piiEmail)

	// The rest of the API.
	hook, err := c.Webhooks.Create(ctx, sendivent.WebhookConfig{URL: "https://hooks.example.com/" + piiHookToken,
		EnabledEvents: []webhook.EventType{webhook.DeliveryDelivered}, Description: piiName})
	require.NoError(t, err)
	secret := string(hook.SigningSecret)
	require.NotEmpty(t, secret)
	_, _ = c.Webhooks.Get(ctx)
	desc := piiEmail
	_, _ = c.Webhooks.Update(ctx, hook.UUID, sendivent.WebhookUpdate{Description: &desc})
	_ = c.Webhooks.Delete(ctx, hook.UUID)
	_, _ = c.Events.List(ctx)
	_, _ = c.Events.Get(ctx, "welcome")
	_, _ = c.Deliveries.ListPage(ctx, sendivent.DeliveryListParams{})
	_, _ = c.Deliveries.Trace(ctx, piiEmail)
	_, _ = c.Integrations.List(ctx, sendivent.ChannelEmail)

	// Webhook deliveries whose bodies hold personal data and the signing
	// secret: verified (the function fails with all of it in its error,
	// then succeeds, then a repeat comes), forged with the secret's bytes
	// as the signature, stale, of a type that is an address, with
	// credentials in their headers and a token in their URL.
	hookCalls := 0
	hooks := webhook.Handler(secret, func(context.Context, *webhook.Event) error {
		if hookCalls++; hookCalls == 1 {
			return fmt.Errorf("cannot suppress %s (%s, %s): %s", piiEmail, piiPhone, piiName, secret)
		}
		return nil
	}, tel.webhookOption())
	piiBody := func(typ string) []byte {
		return []byte(`{"event":"` + typ + `","delivery":{"uuid":"` + res.ID + `","channel":"email","status":"bounced",` +
			`"event_name":"welcome","message_id":"` + piiPhone + `","to":"` + piiEmail + `","error":{"code":"HARD_BOUNCE",` +
			`"message":"550 ` + piiEmail + ` ` + piiName + ` ` + secret + `"}},"request_id":"` + piiUserID + `",` +
			`"payload":{"order":"` + piiPayload + `","token":"` + piiToken + `","slack":"` + piiSlack + `"}}`)
	}
	secretSig := func(t time.Time) string { // the secret's bytes where a signature goes
		return fmt.Sprintf("t=%d,v1=%x,v1=%s", t.Unix(), []byte(strings.Repeat(secret, 2))[:32], secret)
	}
	for _, d := range []struct {
		method, typ string
		sig         func(body []byte) string
	}{
		{"POST", "delivery.bounced", func(b []byte) string { return webhook.Sign(b, secret, time.Now()) }}, // fn fails
		{"POST", "delivery.bounced", func(b []byte) string { return webhook.Sign(b, secret, time.Now()) }}, // handled
		{"POST", "delivery.bounced", func(b []byte) string { return webhook.Sign(b, secret, time.Now()) }}, // a repeat
		{"POST", "delivery.bounced", func([]byte) string { return secretSig(time.Now()) }},
		{"POST", piiEmail, func([]byte) string { return secretSig(time.Now()) }},
		{"POST", piiEmail, func(b []byte) string { return webhook.Sign(b, secret, time.Now().Add(-time.Hour)) }},
		{"POST", "delivery.bounced", func([]byte) string { return "t=" + piiPhone + ",v1=" + piiEmail }},
		{"GET", "delivery.bounced", func(b []byte) string { return webhook.Sign(b, secret, time.Now()) }},
	} {
		body := piiBody(d.typ)
		r := httptest.NewRequest(d.method, "https://receiver.example/hooks/"+piiHookToken+"?to="+url.QueryEscape(piiEmail), bytes.NewReader(body))
		r.Header.Set(webhook.SignatureHeader, d.sig(body))
		r.Header.Set(webhook.WebhookIDHeader, piiUserID)
		r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(piiEmail+":"+secret)))
		r.Header.Set("Cookie", "session="+piiUserID)
		r.Header.Set("X-Forwarded-For", piiEmail)
		hooks.ServeHTTP(httptest.NewRecorder(), r)
	}
	require.Equal(t, 2, hookCalls)

	forbidden := []string{piiEmail, piiEmail2, piiPhone, piiUserID, piiName, piiToken, piiSlack, piiPayload,
		piiAPIKey, piiHookToken, secret, secret[len(secret)-10:]}
	// Telling pieces: the local part of an address, its escaped form, the
	// phone's digits, the token's secret part, a piece of the key.
	forbidden = append(forbidden, "ada.lovelace", "grace.hopper", url.PathEscape(piiEmail), url.QueryEscape(piiEmail),
		strings.TrimPrefix(piiPhone, "+"), "piiTokenAbcdef", piiAPIKey[5:13], "Piiname", "pii")

	exported := everythingExported(t, tel)
	require.NotEmpty(t, exported)
	seen := strings.Join(exported, "\n")
	for _, s := range forbidden {
		if s == "" {
			continue
		}
		if strings.Contains(strings.ToLower(seen), strings.ToLower(s)) {
			for _, line := range exported {
				if strings.Contains(strings.ToLower(line), strings.ToLower(s)) {
					t.Errorf("exported %q holds %q", line, s)
				}
			}
		}
	}
	// The scan saw what it should: a span of each kind of call.
	for _, want := range []string{"sendivent send", "sendivent send_batch", "sendivent wait", "sendivent watch",
		"sendivent cancel", "sendivent contacts.get", "sendivent webhooks.create", "GET /v1/contacts/{identifier}",
		"url.full=" + srv.URL + "/v1/contacts/REDACTED", "sendivent webhook delivery.bounced",
		"error.type=callback_error", "sendivent.webhook.outcome=duplicate", "error.type=no_valid_signature",
		"error.type=timestamp_out_of_range", "error.type=malformed_header", "error.type=method_not_allowed",
		"sendivent.webhook.deliveries sendivent.webhook.outcome=refused"} {
		require.Contains(t, seen, want)
	}
}

// everythingExported is every string the exporters hold: span names,
// attribute keys and values, event names and attributes, status
// descriptions, links, and metric names and data-point attributes.
func everythingExported(t *testing.T, tel *telemetry) []string {
	t.Helper()
	var out []string
	kv := func(prefix string, kvs []attribute.KeyValue) {
		for _, a := range kvs {
			out = append(out, fmt.Sprintf("%s %s=%s", prefix, a.Key, a.Value.String()))
		}
	}
	for _, s := range tel.spans.GetSpans() {
		out = append(out, s.Name, s.Status.Description)
		kv(s.Name, s.Attributes)
		for _, ev := range s.Events {
			out = append(out, ev.Name)
			kv(ev.Name, ev.Attributes)
		}
		for _, l := range s.Links {
			kv("link", l.Attributes)
		}
		kv("resource", s.Resource.Attributes())
		kv("scope", s.InstrumentationScope.Attributes.ToSlice())
	}
	var rm metricdata.ResourceMetrics
	require.NoError(t, tel.reader.Collect(context.Background(), &rm))
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			out = append(out, m.Name, m.Description, m.Unit)
			switch d := m.Data.(type) {
			case metricdata.Histogram[float64]:
				for _, dp := range d.DataPoints {
					kv(m.Name, dp.Attributes.ToSlice())
				}
			case metricdata.Histogram[int64]:
				for _, dp := range d.DataPoints {
					kv(m.Name, dp.Attributes.ToSlice())
				}
			case metricdata.Sum[int64]:
				for _, dp := range d.DataPoints {
					kv(m.Name, dp.Attributes.ToSlice())
				}
			default:
				t.Fatalf("metric %s of a type the scan does not read: %T", m.Name, m.Data)
			}
		}
	}
	return out
}
