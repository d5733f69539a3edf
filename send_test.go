package sendivent_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// The service does not document its answer to an array send. The fake
// answers a list; a proxy in front of it rewrites that list into the other
// shape the SDK reads, an object with a "notifications" array.
func TestE2EArraySendOneNotificationPerRecipient(t *testing.T) {
	t.Parallel()
	for _, shape := range []string{"list", "wrapped"} {
		t.Run(shape, func(t *testing.T) {
			t.Parallel()
			srv := sendiventtest.New(t)
			base, wrapped := srv.URL, new(atomic.Int32)
			if shape == "wrapped" {
				base = wrapArrayAnswers(t, srv.URL, wrapped)
			}
			c := srv.Client(sendivent.WithBaseURL(base))
			res, err := c.Send(context.Background(), "welcome", sendivent.SendRequest{
				To: []sendivent.Recipient{
					sendivent.Contact{Email: "alice@example.com", Name: "Alice"},
					sendivent.Contact{Email: "bob@example.com", Name: "Bob"},
				},
				Payload: sendivent.Payload{"company": "ACME"},
			})
			require.NoError(t, err)
			require.Len(t, res.Notifications, 2)
			assert.Equal(t, res.Notifications[0].ID, res.ID)
			created := srv.Notifications()
			require.Len(t, created, 2)
			for i, name := range []string{"Alice", "Bob"} {
				assert.Equal(t, created[i].ID, res.Notifications[i].ID, "request order")
				n, err := c.GetNotification(context.Background(), res.Notifications[i].ID)
				require.NoError(t, err)
				assert.Equal(t, name, n.Contact.Name)
			}
			if shape == "wrapped" {
				assert.EqualValues(t, 1, wrapped.Load(), "the send's answer was rewritten")
			}
		})
	}
}

// wrapArrayAnswers is a proxy to target that answers a JSON array as
// {"id", "event", "status" of the first, "notifications": the array}, and
// counts the answers it rewrote.
func wrapArrayAnswers(t *testing.T, target string, rewrote *atomic.Int32) string {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	p := httputil.NewSingleHostReverseProxy(u)
	p.ModifyResponse = func(r *http.Response) error {
		body, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return err
		}
		var list []map[string]any
		if json.Unmarshal(body, &list) == nil && len(list) > 0 {
			w := map[string]any{"id": list[0]["id"], "event": list[0]["event"], "status": list[0]["status"], "notifications": list}
			if body, err = json.Marshal(w); err != nil {
				return err
			}
			rewrote.Add(1)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		r.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return nil
	}
	ts := httptest.NewServer(p)
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestE2ERetriesMakeOneNotification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault sendiventtest.Script
	}{
		{"503 twice then success", sendiventtest.FailNext(2, 503).WithRetryAfter("0")},
		{"drop after commit", sendiventtest.DropNext(1)},
		{"malformed body after commit", sendiventtest.MalformedNext(1)},
		{"truncated body after commit", sendiventtest.TruncateNext(1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := sendiventtest.NewServer()
			defer srv.Close()
			srv.Inject(tt.fault.On(sendiventtest.EndpointSend))
			res, err := srv.Client().Event("welcome").To(alice()...).Send(context.Background())
			require.NoError(t, err)
			require.NotEmpty(t, res.ID)
			require.Len(t, srv.Notifications(), 1, "exactly one notification")
			assert.Equal(t, srv.Notifications()[0].ID, res.ID, "the caller gets the id of the one created")
			keys := map[string]bool{}
			for _, r := range srv.Requests(sendiventtest.EndpointSend) {
				keys[r.IdempotencyKey] = true
			}
			assert.Len(t, keys, 1, "every attempt carried the same key")
			assert.GreaterOrEqual(t, len(srv.Requests(sendiventtest.EndpointSend)), 2, "it was retried")
		})
	}
}

func TestE2EReplayWithTheSameKey(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer()
	defer srv.Close()
	c := srv.Client()
	key := sendivent.IdempotencyKeyFrom("order-42", "welcome")
	first, err := c.Event("welcome").To(alice()...).IdempotencyKey(key).Send(context.Background())
	require.NoError(t, err)
	second, err := c.Event("welcome").To(alice()...).IdempotencyKey(key).Send(context.Background())
	require.NoError(t, err)
	assert.Equal(t, first.ID, second.ID)
	assert.True(t, second.Replayed)
	assert.Len(t, srv.Notifications(), 1)

	_, err = c.Event("welcome").To(sendivent.Address("bob@example.com")).IdempotencyKey(key).Send(context.Background())
	assert.ErrorIs(t, err, sendivent.ErrConflict, "the same key with another body")
}

// TestAttackSendShapes: 2xx answers to a send that are valid JSON of the
// wrong shape, or the right shape said oddly. Property: only an answer
// that names a notification and says "accepted" is a success; one that
// says another status is an *APIError matching ErrRejected (with the
// response); anything else is a *TransportError matching ErrMalformed.
// A whole answer is not retried: it would be the same again.
func TestAttackSendShapes(t *testing.T) {
	t.Parallel()
	deepArr := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	deepObj := strings.Repeat(`{"a":`, 100_000) + "1" + strings.Repeat("}", 100_000)
	tests := []struct {
		name, body string
		want       error // nil: accepted
	}{
		{"unicode escape in status", `{"id":"n1","status":"accepte\u0064"}`, nil},
		{"duplicate status, last accepted", `{"id":"n1","status":"failed","status":"accepted"}`, nil},
		{"older shape", `{"success":true,"deliveries":[{"email":"d1"}]}`, nil},
		{"array of two", `[{"id":"a","status":"accepted"},{"id":"b","status":"accepted"}]`, nil},
		{"deep nesting in an unknown field", `{"id":"n1","status":"accepted","x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `}`, nil},
		{"duplicate status, last failed", `{"id":"n1","status":"accepted","status":"failed"}`, sendivent.ErrRejected},
		{"status in capitals", `{"id":"n1","status":"ACCEPTED"}`, sendivent.ErrRejected},
		{"status with a space", `{"id":"n1","status":"accepted "}`, sendivent.ErrRejected},
		{"status queued", `{"id":"n1","status":"queued"}`, sendivent.ErrRejected},
		{"second recipient bounced", `[{"id":"a","status":"accepted"},{"id":"b","status":"bounced"}]`, sendivent.ErrRejected},
		{"older shape, success false", `{"success":false,"deliveries":[]}`, sendivent.ErrRejected},
		{"id a number", `{"id":123,"status":"accepted"}`, sendivent.ErrMalformed},
		{"id an array", `{"id":["n1"],"status":"accepted"}`, sendivent.ErrMalformed},
		{"status a number", `{"id":"n1","status":7}`, sendivent.ErrMalformed},
		{"nested arrays", `[[{"id":"n1","status":"accepted"}]]`, sendivent.ErrMalformed},
		{"100k nested arrays", deepArr, sendivent.ErrMalformed},
		{"100k nested objects", deepObj, sendivent.ErrMalformed},
		{"null", `null`, sendivent.ErrMalformed},
		{"true", `true`, sendivent.ErrMalformed},
		{"a string", `"accepted"`, sendivent.ErrMalformed},
		{"empty object", `{}`, sendivent.ErrMalformed},
		{"empty array", `[]`, sendivent.ErrMalformed},
		{"array of null", `[null]`, sendivent.ErrMalformed},
		{"empty id", `{"id":"","status":"accepted"}`, sendivent.ErrMalformed},
		{"one listed notification without id", `{"id":"n1","status":"accepted","notifications":[{"id":"n1"},{"status":"accepted"}]}`, sendivent.ErrMalformed},
		{"two values", atkAccepted + atkAccepted, sendivent.ErrMalformed},
		{"byte order mark", "\ufeff" + atkAccepted, sendivent.ErrMalformed},
		{"HTML", `<html><title>OK</title></html>`, sendivent.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, n := atkStatic(t, http.StatusOK, tt.body)
			c := atkClient(t, srv.URL, sendivent.WithMaxRetries(2), sendivent.WithTimeout(2*time.Second))
			var res *sendivent.SendResponse
			_, err := atkCall(t, 10*time.Second, func(ctx context.Context) (err error) { res, err = atkSend(ctx, c); return err })
			if tt.want == nil {
				require.NoError(t, err)
				assert.NotEmpty(t, res.ID)
				assert.Equal(t, sendivent.SendAccepted, res.Status)
				return
			}
			atkTyped(t, err)
			assert.ErrorIs(t, err, tt.want)
			assert.EqualValues(t, 1, n.Load(), "a whole answer is not retried")
			switch tt.want {
			case sendivent.ErrRejected:
				var ae *sendivent.APIError
				assert.ErrorAs(t, err, &ae)
				assert.NotNil(t, res, "a rejection comes with the response")
			case sendivent.ErrMalformed:
				var te *sendivent.TransportError
				assert.ErrorAs(t, err, &te)
				assert.Nil(t, res)
			}
		})
	}
}

// TestRefusedBeforeSending: input that cannot be right is a
// *ValidationError at the call, and nothing reaches the server.
func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	c := srv.Client()
	to := []sendivent.Recipient{sendivent.Address("a@example.com")}
	tests := []struct {
		name, field string
		event       string
		req         sendivent.SendRequest
	}{
		{"padded event", "event", " welcome ", sendivent.SendRequest{To: to}},
		{"newline in event", "event", "a\nb", sendivent.SendRequest{To: to}},
		{"NUL event", "event", "\x00", sendivent.SendRequest{To: to}},
		{"dot event", "event", ".", sendivent.SendRequest{To: to}},
		{"dot-dot event", "event", "..", sendivent.SendRequest{To: to}},
		{"long event", "event", strings.Repeat("e", 5000), sendivent.SendRequest{To: to}},
		{"invalid UTF-8 event", "event", "caf\xe9", sendivent.SendRequest{To: to}},
		{"blank idempotency key", "idempotency_key", "welcome", sendivent.SendRequest{To: to, IdempotencyKey: "   "}},
		{"padded idempotency key", "idempotency_key", "welcome", sendivent.SendRequest{To: to, IdempotencyKey: " k1"}},
		{"email without @", "to.email", "welcome", sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Contact{Email: "bob"}}}},
		{"email without domain", "to.email", "welcome", sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Contact{Email: "bob@"}}}},
		{"two emails in one", "to", "welcome", sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address("a@example.com, b@example.com")}}},
		{"blank address", "to", "welcome", sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address("   ")}}},
		{"padded address", "to[1]", "welcome", sendivent.SendRequest{To: []sendivent.Recipient{sendivent.Address("a@example.com"), sendivent.Address(" b@example.com")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := c.Send(context.Background(), tt.event, tt.req)
			var ve *sendivent.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field)
			assert.ErrorIs(t, err, sendivent.ErrValidation)
		})
	}
	_, err := c.Cancel(context.Background(), "..", sendivent.Address("a@example.com"))
	require.ErrorIs(t, err, sendivent.ErrValidation)
	assert.Empty(t, srv.Requests(sendiventtest.EndpointAll), "nothing was sent")

	// What is allowed stays allowed.
	for _, ok := range []sendivent.Recipient{sendivent.Address("@handle"), sendivent.Address("#general"), sendivent.Address("U123ABC"),
		sendivent.Contact{Email: "o'brien+tag@sub.example.co.uk"}} {
		_, err := c.Send(context.Background(), "order.shipped_v2-x", sendivent.SendRequest{To: []sendivent.Recipient{ok}})
		assert.NotErrorIs(t, err, sendivent.ErrValidation, "%v", ok)
	}
}

func TestE2EBroadcast(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithEvents(
		sendiventtest.EventConfig{Name: "deploy", Steps: []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelSlack), sendiventtest.Send(sendivent.ChannelEmail)},
			Listeners: []sendivent.Recipient{sendivent.Address("#ops"), sendivent.Contact{Email: "oncall@example.com", Name: "On Call"}}},
		sendiventtest.EventConfig{Name: "welcome"},
	))
	c := srv.Client()
	ctx := context.Background()

	res, err := c.Event("deploy").Broadcast().Payload(sendivent.Payload{"version": "1.2"}).Send(ctx)
	require.NoError(t, err)
	require.Len(t, res.Notifications, 2, "one per listener")
	ns := srv.Notifications()
	require.Len(t, ns, 2)
	assert.Equal(t, "#ops", ns[0].Recipient.Slack)
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelSlack}, ns[0].Channels)
	assert.Equal(t, "oncall@example.com", ns[1].Recipient.Email)
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelEmail}, ns[1].Channels)
	assert.Equal(t, sendivent.Payload{"version": "1.2"}, ns[1].Payload)
	r, _ := srv.LastRequest()
	assert.NotContains(t, r.Body, "to", "a broadcast has no to at all")
	stored := srv.Contacts()
	require.Len(t, stored, 1, "the person is a contact, the channel is not")
	assert.Equal(t, "oncall@example.com", stored[0].Email)

	_, err = c.Event("welcome").Broadcast().Send(ctx)
	var ae *sendivent.APIError
	require.ErrorAs(t, err, &ae, "an event without listeners")
	assert.Equal(t, 400, ae.StatusCode)
	assert.Equal(t, "to", ae.Field)
}

// TestHostileIdempotencyKeyHeaderInjection: CR, LF and other control
// characters in a caller's key are refused before anything is sent.
func TestHostileIdempotencyKeyHeaderInjection(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	defer srv.Close()
	c := srv.Client()
	for _, key := range []string{
		"order-42\r\nAuthorization: Bearer other",
		"order-42\nX-Evil: 1",
		"order-42\r",
		"order\x00-42",
		"order\t42",
		"order\x7f42",
		strings.Repeat("k", 256),
	} {
		_, err := c.Send(context.Background(), "welcome", sendivent.SendRequest{
			To:             []sendivent.Recipient{sendivent.Address("alice@example.com")},
			IdempotencyKey: key,
		})
		var ve *sendivent.ValidationError
		require.ErrorAs(t, err, &ve, "key %q", key)
		assert.Equal(t, "idempotency_key", ve.Field)
		assert.True(t, errors.Is(err, sendivent.ErrValidation))
	}
	assert.Zero(t, srv.Stats().Requests, "requests reached the server")
}
