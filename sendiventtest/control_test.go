package sendiventtest

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ctl calls a control endpoint, without the API key.
func ctl(t *testing.T, srv *Server, method, path string, body any) answer {
	t.Helper()
	return do(t, srv, call{method: method, path: path, body: body, noAuth: true})
}

func TestControlBasics(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t)
	srv.Inject(FailNext(1, http.StatusServiceUnavailable))
	tests := []struct {
		method, path string
		body         any
		status       int
		want, allow  string
	}{
		{http.MethodGet, "/_fake/health", nil, 200, `{"status":"ok"}`, ""},
		{http.MethodPost, "/_fake/health", nil, 405, `{"error":"/_fake/health takes GET","code":"METHOD_NOT_ALLOWED"}`, "GET"},
		{http.MethodDelete, "/_fake/faults", nil, 405, `{"error":"/_fake/faults takes GET, POST","code":"METHOD_NOT_ALLOWED"}`, "GET, POST"},
		{http.MethodGet, "/_fake/nope", nil, 404, `{"error":"no control endpoint GET /_fake/nope","code":"NOT_FOUND"}`, ""},
		{http.MethodGet, "/_fake", nil, 404, `{"error":"no control endpoint GET /_fake","code":"NOT_FOUND"}`, ""},
		{http.MethodGet, "/_fake/", nil, 404, `{"error":"no control endpoint GET /_fake/","code":"NOT_FOUND"}`, ""},
		{http.MethodPost, "/_fake/reset", strings.Repeat(" ", maxControlBody+1), 413, `{"error":"body over 1048576 bytes","code":"TOO_LARGE"}`, ""},
	}
	for _, tt := range tests {
		a := ctl(t, srv, tt.method, tt.path, tt.body)
		assert.Equal(t, tt.status, a.status, "%s %s", tt.method, tt.path)
		assert.JSONEq(t, tt.want, string(a.body), "%s %s", tt.method, tt.path)
		assert.Equal(t, "application/json", a.header.Get("Content-Type"))
		assert.Equal(t, tt.allow, a.header.Get("Allow"))
	}
	assert.Empty(t, srv.Requests(), "control requests are not recorded")
	assert.Len(t, srv.PendingFaults(), 1, "nor hit by faults")
}

// wantNotification is the control shape of notification id, as built from
// its snapshot, with extra fields (JSON) after the wire ones.
func wantNotification(t *testing.T, srv *Server, id, extra string) string {
	t.Helper()
	n, ok := srv.Notification(id)
	require.True(t, ok)
	wire := strings.TrimSuffix(string(n.Raw), "}")
	return wire + "," + extra + "}"
}

func TestControlNotifications(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle(),
		WithEvent("welcome"), WithEvent("drip", Send("email"), Wait(time.Second), Send("sms")))
	a := do(t, srv, call{path: "/v1/send/welcome", key: "k1", body: `{"to":{"id":"u_1","email":"a@example.com","name":"Al"},"payload":{"n":1},"language":"sv","overrides":{"email":{"subject":"Hi"}},"from":"team@acme.example"}`})
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	first := a.json(t)["id"].(string)
	drip := send(t, srv, "drip", map[string]any{"to": map[string]any{"email": "d@example.com", "phone": "+46701234567"}})["id"].(string)
	n, _ := srv.Notification(first)
	reqID := n.RequestID
	contactID := n.ContactID

	full := wantNotification(t, srv, first, fmt.Sprintf(`"recipient":{"id":"u_1","email":"a@example.com","name":"Al"},
		"contact_id":%q,"channels":["email"],"payload":{"n":1},"language":"sv","overrides":{"email":{"subject":"Hi"}},
		"from":"team@acme.example","idempotency_key":"k1","request_id":%q`, contactID, reqID))
	a = ctl(t, srv, http.MethodGet, "/_fake/notifications/"+first, nil)
	assert.Equal(t, http.StatusOK, a.status)
	assert.JSONEq(t, full, string(a.body))
	assert.Contains(t, full, `"status":"running"`)

	a = ctl(t, srv, http.MethodGet, "/_fake/notifications?event=welcome", nil)
	assert.JSONEq(t, `{"notifications":[`+full+`]}`, string(a.body))
	a = ctl(t, srv, http.MethodGet, "/_fake/notifications?event=none", nil)
	assert.JSONEq(t, `{"notifications":[]}`, string(a.body))
	a = ctl(t, srv, http.MethodGet, "/_fake/notifications", nil)
	assert.Len(t, a.json(t)["notifications"], 2)

	a = ctl(t, srv, http.MethodGet, "/_fake/notifications/nope", nil)
	assert.Equal(t, http.StatusNotFound, a.status)
	assert.JSONEq(t, `{"error":"no notification \"nope\"","code":"NOT_FOUND"}`, string(a.body))

	// Driving the lifecycle.
	status := func(a answer) string {
		m := a.json(t)
		return fmt.Sprint(m["status"], "/", m["messages"].([]any)[len(m["messages"].([]any))-1].(map[string]any)["status"])
	}
	steps := []struct {
		path, body string
		status     int
		want       string
	}{
		{"/_fake/notifications/" + first + "/advance", "", 200, "running/sent"},
		{"/_fake/notifications/" + first + "/advance", "{}", 200, "completed/delivered"},
		{"/_fake/notifications/" + first + "/advance", "", 409, `{"error":"notification \"` + first + `\" is already completed, failed or stopped","code":"TERMINAL"}`},
		{"/_fake/notifications/" + first + "/complete", `{"x":1}`, 400, `{"error":"invalid JSON body: json: unknown field \"x\"","code":"INVALID_REQUEST"}`},
		{"/_fake/notifications/nope/deliver", "", 404, `{"error":"no notification \"nope\"","code":"NOT_FOUND"}`},
		{"/_fake/notifications/" + drip + "/deliver", "", 200, "waiting/delivered"},
		{"/_fake/notifications/" + drip + "/fail", `{"error":"x"}`, 409, `{"error":"notification \"` + drip + `\" is at a wait step: advance it","code":"NO_MESSAGE_IN_FLIGHT"}`},
		{"/_fake/notifications/" + drip + "/advance", "", 200, "running/queued"},
		{"/_fake/notifications/" + drip + "/fail", `{"status":"bounced"}`, 400, `{"error":"status \"bounced\": want \"failed\" or \"suppressed\"","code":"INVALID_REQUEST"}`},
		{"/_fake/notifications/" + drip + "/fail", `{"error":"opted out","status":"suppressed"}`, 200, "failed/suppressed"},
	}
	for _, st := range steps {
		a := ctl(t, srv, http.MethodPost, st.path, st.body)
		require.Equal(t, st.status, a.status, "%s %s: %s", st.path, st.body, a.body)
		if st.status == 200 {
			assert.Equal(t, st.want, status(a), st.path)
		} else {
			assert.JSONEq(t, st.want, string(a.body), st.path)
		}
	}
	m := ctl(t, srv, http.MethodGet, "/_fake/notifications/"+drip, nil).json(t)
	assert.Equal(t, "opted out", m["messages"].([]any)[1].(map[string]any)["error"])

	third := send(t, srv, "welcome", map[string]any{"to": "b@example.com"})["id"].(string)
	a = ctl(t, srv, http.MethodPost, "/_fake/notifications/"+third+"/fail", `{"error":"mailbox full"}`)
	assert.Equal(t, "failed/failed", status(a))
	fourth := send(t, srv, "welcome", map[string]any{"to": "c@example.com"})["id"].(string)
	send(t, srv, "welcome", map[string]any{"to": "d@example.com"})
	a = ctl(t, srv, http.MethodPost, "/_fake/notifications/"+fourth+"/complete", nil)
	assert.Equal(t, "completed/delivered", status(a))
	a = ctl(t, srv, http.MethodPost, "/_fake/advance", nil)
	assert.JSONEq(t, `{"moved":1}`, string(a.body))
}

func TestControlRequests(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle())
	id := send(t, srv, "welcome", map[string]any{"to": "a@example.com"})["id"].(string)
	do(t, srv, call{method: http.MethodGet, path: "/v1/notifications/" + id})
	do(t, srv, call{path: "/v1/send/welcome", body: "not json", key: "k"})

	a := ctl(t, srv, http.MethodGet, "/_fake/requests?endpoint=send", nil)
	require.Equal(t, http.StatusOK, a.status)
	recs := srv.Requests(EndpointSend)
	require.Len(t, recs, 2)
	want := fmt.Sprintf(`{"requests":[
		{"method":"POST","path":"/v1/send/welcome","endpoint":"send","event":"welcome",
		 "headers":{"Accept-Encoding":["gzip"],"Content-Length":["22"],"Content-Type":["application/json"],"User-Agent":["Go-http-client/1.1"]},
		 "body":{"to":"a@example.com"},"created":[%q],"status":200,"request_id":%q,"time":%q},
		{"method":"POST","path":"/v1/send/welcome","endpoint":"send","event":"welcome",
		 "headers":{"Accept-Encoding":["gzip"],"Content-Length":["8"],"Content-Type":["application/json"],"User-Agent":["Go-http-client/1.1"],"X-Idempotency-Key":["k"]},
		 "idempotency_key":"k","status":400,"request_id":%q,"time":%q}]}`,
		id, recs[0].RequestID, recs[0].Time.Format("2006-01-02T15:04:05.999999999Z07:00"),
		recs[1].RequestID, recs[1].Time.Format("2006-01-02T15:04:05.999999999Z07:00"))
	assert.JSONEq(t, want, string(a.body))
	assert.NotContains(t, string(a.body), srv.APIKey(), "never the key")

	a = ctl(t, srv, http.MethodGet, "/_fake/requests", nil)
	assert.Len(t, a.json(t)["requests"], 3)
	a = ctl(t, srv, http.MethodGet, "/_fake/requests?endpoint=notification&endpoint=cancel", nil)
	assert.Len(t, a.json(t)["requests"], 1)
	a = ctl(t, srv, http.MethodGet, "/_fake/requests?endpoint=nope", nil)
	assert.Equal(t, http.StatusBadRequest, a.status)
	assert.JSONEq(t, `{"error":"unknown endpoint \"nope\"","code":"INVALID_REQUEST"}`, string(a.body))
}

func TestControlFaults(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithManualLifecycle())
	a := ctl(t, srv, http.MethodPost, "/_fake/faults", `{"status":503,"count":2,"retry_after":"1","endpoint":"send"}`)
	require.Equal(t, http.StatusOK, a.status, "%s", a.body)
	assert.JSONEq(t, `{"faults":[{"kind":"status","count":2,"status":503,"retry_after":"1","endpoint":"send"}]}`, string(a.body))
	assert.Equal(t, []Script{FailNext(2, 503).WithRetryAfter("1").On(EndpointSend)}, srv.PendingFaults())

	for _, in := range []string{
		`{"kind":"latency","latency":"20ms"}`,
		`{"kind":"drop","endpoint":"cancel","count":3}`,
		`{"kind":"malformed"}`,
		`{"kind":"truncated","endpoint":"notification"}`,
		`{"status":500,"body":"<html>oops</html>"}`,
	} {
		a := ctl(t, srv, http.MethodPost, "/_fake/faults", in)
		require.Equal(t, http.StatusOK, a.status, "%s: %s", in, a.body)
	}
	a = ctl(t, srv, http.MethodGet, "/_fake/faults", nil)
	assert.JSONEq(t, `{"faults":[
		{"kind":"status","count":2,"status":503,"retry_after":"1","endpoint":"send"},
		{"kind":"latency","count":1,"latency":"20ms"},
		{"kind":"drop","count":3,"endpoint":"cancel"},
		{"kind":"malformed","count":1},
		{"kind":"truncated","count":1,"endpoint":"notification"},
		{"kind":"status","count":1,"status":500,"body":"<html>oops</html>"}]}`, string(a.body))

	// The scripts act on the API.
	for i := 0; i < 2; i++ {
		a = do(t, srv, call{path: "/v1/send/welcome", body: `{"to":"a@example.com"}`})
		assert.Equal(t, http.StatusServiceUnavailable, a.status)
		assert.Equal(t, "1", a.header.Get("Retry-After"))
	}
	a = do(t, srv, call{path: "/v1/send/welcome", body: `{"to":"a@example.com"}`})
	assert.Equal(t, http.StatusOK, a.status)
	assert.Equal(t, FaultLatency, srv.Requests()[2].Fault)

	bad := map[string]string{
		``:                                   `a fault is required, such as {\"status\":503}`,
		`{"status":200}`:                     `status 200: want an error status, 400 to 599`,
		`{}`:                                 `status 0: want an error status, 400 to 599`,
		`{"status":503,"count":-1}`:          `count -1: want 1 or more`,
		`{"kind":"flood"}`:                   `kind \"flood\": want status, latency, malformed, truncated or drop`,
		`{"kind":"rate_limit"}`:              `kind \"rate_limit\": want status, latency, malformed, truncated or drop`,
		`{"kind":"latency"}`:                 `latency \"\": want a positive Go duration such as \"2s\"`,
		`{"kind":"latency","latency":"-1s"}`: `latency \"-1s\": want a positive Go duration such as \"2s\"`,
		`{"kind":"drop","status":503}`:       `status, retry_after and body belong to a status fault, not drop`,
		`{"status":503,"latency":"1s"}`:      `latency belongs to a latency fault, not status`,
		`{"status":503,"endpoint":"fax"}`:    `unknown endpoint \"fax\"`,
		`{"status":503,"retries":2}`:         `invalid JSON body: json: unknown field \"retries\"`,
		`{"status":"503"}`:                   `invalid JSON body: json: cannot unmarshal string into Go struct field controlFault.status of type int`,
		`{"status":503} {}`:                  `invalid JSON body: more than one value`,
	}
	before := len(srv.PendingFaults())
	for in, want := range bad {
		a := ctl(t, srv, http.MethodPost, "/_fake/faults", in)
		assert.Equal(t, http.StatusBadRequest, a.status, in)
		assert.JSONEq(t, `{"error":"`+want+`","code":"INVALID_REQUEST"}`, string(a.body), in)
	}
	assert.Len(t, srv.PendingFaults(), before, "a bad fault queues nothing")
}

func TestControlReset(t *testing.T) {
	t.Parallel()
	srv := newTestServer(t, WithServerRateLimit(2), WithEvent("welcome"))
	for i := 0; i < 3; i++ {
		do(t, srv, call{path: "/v1/send/welcome", key: "k", body: `{"to":"a@example.com"}`})
	}
	do(t, srv, call{path: "/v1/send/welcom", body: `{"to":"a@example.com"}`})
	srv.Inject(FailNext(1, 503).On(EndpointCancel))
	require.Len(t, srv.Notifications(), 1)

	a := ctl(t, srv, http.MethodPost, "/_fake/reset", nil)
	require.Equal(t, http.StatusOK, a.status)
	assert.JSONEq(t, `{"status":"ok"}`, string(a.body))
	assert.Empty(t, srv.Notifications())
	assert.Empty(t, srv.Requests())
	assert.Empty(t, srv.PendingFaults())
	assert.Equal(t, Stats{Faults: map[FaultKind]int{}, ByStatus: map[int]int{}}, srv.Stats())
	assert.Empty(t, srv.problems())

	// The key is forgotten too: the same request creates a new notification.
	a = do(t, srv, call{path: "/v1/send/welcome", key: "k", body: `{"to":"a@example.com"}`})
	assert.Equal(t, http.StatusOK, a.status)
	assert.Empty(t, a.header.Get("X-Idempotent-Replay"))
	assert.Len(t, srv.Notifications(), 1)
}

func TestWithAddr(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	srv := newTestServer(t, WithAddr(addr))
	assert.Equal(t, "http://"+addr, srv.URL)
	a := ctl(t, srv, http.MethodGet, "/_fake/health", nil)
	assert.Equal(t, http.StatusOK, a.status)

	assert.PanicsWithValue(t, "sendiventtest: listen tcp "+addr+": bind: address already in use",
		func() { NewServer(WithAddr(addr)) })
}
