package sendivent

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One escaping rule for every identifier in every path: JavaScript's
// encodeURIComponent, as the official SDKs use it. The expected paths are
// written out by hand, not computed by the SDK's own function.

// escapeCases are identifiers and their encodeURIComponent form.
var escapeCases = []struct{ raw, escaped string }{
	{"a+b", "a%2Bb"},
	{"user+tag@example.com", "user%2Btag%40example.com"},
	{"+46701234567", "%2B46701234567"},
	{"a b/c?d#e%f", "a%20b%2Fc%3Fd%23e%25f"},
	{";,=&$:[x]", "%3B%2C%3D%26%24%3A%5Bx%5D"},
	{"keep-_.!~*'()", "keep-_.!~*'()"},
	{"é漢", "%C3%A9%E6%BC%A2"},
	{`q"<>\^` + "`{|}", "q%22%3C%3E%5C%5E%60%7B%7C%7D"},
}

// escapeMethod calls one method with id in its path, and gives the path it
// must request, with the escaped id in it.
type escapeMethod struct {
	name string
	path func(esc string) string
	body string // a 2xx answer the method accepts
	call func(ctx context.Context, c *Client, id string) error
}

func escapeMethods() []escapeMethod {
	to := Address("alice@example.com")
	accepted := `{"id":"n-1","event":"e","status":"accepted"}`
	done := `{"id":"n-1","event":"e","status":"completed"}`
	hook := `{"success":true,"webhook":{"uuid":"w-1","url":"https://example.com/h"}}`
	ok := `{"success":true}`
	return []escapeMethod{
		{"Send", func(e string) string { return "/v1/send/" + e }, accepted,
			func(ctx context.Context, c *Client, id string) error {
				_, err := c.Send(ctx, id, SendRequest{To: []Recipient{to}})
				return err
			}},
		{"Event.Send with a channel", func(e string) string { return "/v1/send/" + e + "/email" }, accepted,
			func(ctx context.Context, c *Client, id string) error {
				_, err := c.Event(id).To(to).Channel(ChannelEmail).Send(ctx)
				return err
			}},
		{"SendBatch", func(e string) string { return "/v1/send/" + e }, accepted,
			func(ctx context.Context, c *Client, id string) error {
				_, err := c.SendBatch(ctx, []BatchItem{{Event: id, Request: SendRequest{To: []Recipient{to}}}})
				return err
			}},
		{"Cancel", func(e string) string { return "/v1/cancel/" + e }, `{"success":true,"cancelled":0}`,
			func(ctx context.Context, c *Client, id string) error {
				_, err := c.Cancel(ctx, id, to)
				return err
			}},
		{"GetNotification", func(e string) string { return "/v1/notifications/" + e }, done,
			func(ctx context.Context, c *Client, id string) error {
				_, err := c.GetNotification(ctx, id)
				return err
			}},
		{"Wait", func(e string) string { return "/v1/notifications/" + e }, done,
			func(ctx context.Context, c *Client, id string) error {
				_, err := c.Wait(ctx, id)
				return err
			}},
		{"Watch", func(e string) string { return "/v1/notifications/" + e }, done,
			func(ctx context.Context, c *Client, id string) error {
				for _, err := range c.Watch(ctx, id) {
					if err != nil {
						return err
					}
				}
				return nil
			}},
		{"Events.Get", func(e string) string { return "/v1/events/" + e }, `{"event":{"identifier":"e"}}`,
			func(ctx context.Context, c *Client, id string) error {
				_, err := c.Events.Get(ctx, id)
				return err
			}},
		{"Contacts.Get", func(e string) string { return "/v1/contacts/" + e }, `{"contact":{"uuid":"c-1"}}`,
			func(ctx context.Context, c *Client, id string) error {
				_, err := c.Contacts.Get(ctx, id)
				return err
			}},
		{"Contacts.Update", func(e string) string { return "/v1/contacts/" + e }, `{"contact":{"uuid":"c-1"}}`,
			func(ctx context.Context, c *Client, id string) error {
				_, err := c.Contacts.Update(ctx, id, Contact{Name: "Ada"})
				return err
			}},
		{"Contacts.Delete", func(e string) string { return "/v1/contacts/" + e }, ok,
			func(ctx context.Context, c *Client, id string) error { return c.Contacts.Delete(ctx, id) }},
		{"Contacts.AddPushToken", func(e string) string { return "/v1/contacts/" + e + "/push-tokens" }, ok,
			func(ctx context.Context, c *Client, id string) error { return c.Contacts.AddPushToken(ctx, id, "tok") }},
		{"Contacts.RemovePushToken", func(e string) string { return "/v1/contacts/" + e + "/push-tokens" }, ok,
			func(ctx context.Context, c *Client, id string) error {
				return c.Contacts.RemovePushToken(ctx, id, "tok")
			}},
		{"Deliveries.Trace", func(e string) string { return "/v1/deliveries/" + e + "/trace" }, `{"delivery":{"uuid":"d-1"}}`,
			func(ctx context.Context, c *Client, id string) error {
				_, err := c.Deliveries.Trace(ctx, id)
				return err
			}},
		{"Webhooks.Update", func(e string) string { return "/v1/webhooks/" + e }, hook,
			func(ctx context.Context, c *Client, id string) error {
				_, err := c.Webhooks.Update(ctx, id, WebhookUpdate{Active: Ptr(false)})
				return err
			}},
		{"Webhooks.Delete", func(e string) string { return "/v1/webhooks/" + e }, ok,
			func(ctx context.Context, c *Client, id string) error { return c.Webhooks.Delete(ctx, id) }},
	}
}

// TestPathEscapingOneRule: every method, every identifier, the same
// encoding, as the request's URL carries it (RawPath when the escaping is
// not Go's default, which is what goes on the wire).
func TestPathEscapingOneRule(t *testing.T) {
	t.Parallel()
	for _, m := range escapeMethods() {
		for _, ec := range escapeCases {
			t.Run(m.name+"/"+ec.raw, func(t *testing.T) {
				t.Parallel()
				h := newMockHarness(t)
				var mu sync.Mutex
				var raw, escaped, decoded []string
				h.script(func(r *http.Request) (*http.Response, error) {
					mu.Lock()
					raw, escaped, decoded = append(raw, r.URL.RawPath), append(escaped, r.URL.EscapedPath()), append(decoded, r.URL.Path)
					mu.Unlock()
					return reply(200, m.body)(r)
				})
				require.NoError(t, m.call(context.Background(), h.c, ec.raw))
				want := m.path(ec.escaped)
				require.NotEmpty(t, escaped)
				assert.Equal(t, want, escaped[0], "the path on the wire")
				if want != m.path(ec.raw) && strings.ContainsAny(ec.raw, "+@$&,;=:") {
					// Go's default escaping leaves these: only RawPath carries ours.
					assert.Equal(t, want, raw[0], "RawPath")
				}
				assert.Equal(t, m.path(ec.raw), decoded[0], "decodes to the identifier")
			})
		}
	}
}

// TestPathEscapingOnTheWire reads the request line a server receives, for
// every method, with the identifier that the two old rules disagreed on.
func TestPathEscapingOnTheWire(t *testing.T) {
	t.Parallel()
	for _, m := range escapeMethods() {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			lines := make(chan string, 4)
			srv := rawLineServer(t, lines, m.body)
			c, err := NewClient("test_key", WithBaseURL(srv))
			require.NoError(t, err)
			defer c.CloseIdleConnections()
			const id = "a+b@c d!'()*"
			require.NoError(t, m.call(context.Background(), c, id))
			line := <-lines
			assert.Equal(t, m.path("a%2Bb%40c%20d!'()*"), line)
		})
	}
}

// rawLineServer answers body to every request and sends the request-target
// of each request line, as the client wrote it, to lines.
func rawLineServer(t *testing.T, lines chan<- string, body string) string {
	t.Helper()
	ts := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case lines <- r.RequestURI: // the request-target, unparsed
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { _ = ts.Serve(l) }()
	t.Cleanup(func() { _ = ts.Close() })
	return "http://" + l.Addr().String()
}

func TestServicesOfAZeroClient(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var zero Client
	_, err := zero.Contacts.Get(ctx, "a@example.com")
	assert.True(t, errors.Is(err, errNoClient), err)
	_, err = zero.Events.List(ctx)
	assert.ErrorIs(t, err, errNoClient)
	_, err = zero.Deliveries.Trace(ctx, "d-1")
	assert.ErrorIs(t, err, errNoClient)
	_, err = zero.Integrations.List(ctx, "")
	assert.ErrorIs(t, err, errNoClient)
}
