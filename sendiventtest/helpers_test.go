package sendiventtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newTestServer starts a server closed at the end of the test.
func newTestServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	srv := NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the answer's body into a generic value.
func (a answer) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(a.body, &m), "body: %s", a.body)
	return m
}

type call struct {
	method, path string
	body         any // string or []byte sent as is, anything else JSON-encoded
	key          string
	noAuth       bool
	client       *http.Client
}

func encodeBody(t *testing.T, body any) []byte {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	case []byte:
		return b
	}
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	return raw
}

// try performs c against srv and returns the answer or the transport error.
func try(t *testing.T, srv *Server, c call) (answer, error) {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	req, err := http.NewRequest(c.method, srv.URL+c.path, bytes.NewReader(encodeBody(t, c.body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if !c.noAuth {
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
	}
	if c.key != "" {
		req.Header.Set("X-Idempotency-Key", c.key)
	}
	hc := c.client
	if hc == nil {
		hc = srv.ts.Client()
	}
	res, err := hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, header: res.Header, body: body}, err
}

// do performs c and fails the test on a transport error.
func do(t *testing.T, srv *Server, c call) answer {
	t.Helper()
	a, err := try(t, srv, c)
	require.NoError(t, err)
	return a
}

// send POSTs body to /v1/send/{event} and requires a 200.
func send(t *testing.T, srv *Server, event string, body any) map[string]any {
	t.Helper()
	a := do(t, srv, call{path: "/v1/send/" + event, body: body})
	require.Equal(t, http.StatusOK, a.status, "body: %s", a.body)
	return a.json(t)
}

// getNotification GETs /v1/notifications/{id}.
func getNotification(t *testing.T, srv *Server, id string) answer {
	t.Helper()
	return do(t, srv, call{method: http.MethodGet, path: "/v1/notifications/" + id})
}

// eventually polls cond every 5 ms for up to 2 s.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 2*time.Second, 5*time.Millisecond, msg)
}

// freshClient is an HTTP client with no connection reuse, so that the
// transport never silently resends a request on a reused connection.
func freshClient(t *testing.T) *http.Client {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}
