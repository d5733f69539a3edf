package sendiventtest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fake as a network server, attacked with raw TCP clients: hand-written
// requests, lying or huge lengths, bodies and headers that never end,
// idle connections, odd paths and methods, resets, HTTP/1.0, pipelining.
// It must answer or close in bounded time, keep serving others, never
// crash, and hold memory to what its doc says.

// testLimits are the port's limits, short, so that a test sees them act.
var testLimits = portLimits{readHeader: 300 * time.Millisecond, read: 500 * time.Millisecond, idle: 300 * time.Millisecond, maxConns: 16}

// portServer is a fake on a loopback port, with the test's limits.
func portServer(t *testing.T, opts ...Option) *Server {
	t.Helper()
	return newTestServer(t, append([]Option{WithAddr("127.0.0.1:0"), withPortLimits(testLimits), WithManualLifecycle()}, opts...)...)
}

// dial opens a raw connection to srv, closed at the end of the test.
func dial(t *testing.T, srv *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// readAnswer reads one HTTP answer from c, within bound.
func readAnswer(t *testing.T, c net.Conn, br *bufio.Reader) (*http.Response, []byte, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(bound))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// bound is how long a test waits for what must happen: generous, for a
// loaded machine.
const bound = 20 * time.Second

// healthy checks that srv answers an ordinary request.
func healthy(t *testing.T, srv *Server) {
	t.Helper()
	c := &http.Client{Timeout: bound}
	resp, err := c.Get(srv.URL + "/_fake/health")
	require.NoError(t, err, "the fake no longer answers")
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
}

// A wrong key is answered at once, before the body it declares: a client
// that declares 8 MB and sends 10 bytes gets its 401 without the server
// waiting, or holding, anything.
func TestPortWrongKeyIsAnsweredBeforeTheBody(t *testing.T) {
	t.Parallel()
	srv := portServer(t)
	c := dial(t, srv)
	fmt.Fprintf(c, "POST /v1/send/welcome HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nContent-Length: 8000000\r\n\r\n{\"to\":\"a")
	resp, body, err := readAnswer(t, c, bufio.NewReader(c))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s", body)
	rec, _ := srv.LastRequest()
	assert.Nil(t, rec.RawBody)
	healthy(t, srv)
}

// Bodies that lie or never end: each is answered or cut within the read
// timeout, never read past 1 MiB, and the fake keeps serving.
func TestPortHostileBodies(t *testing.T) {
	t.Parallel()
	srv := portServer(t)
	auth := "Authorization: Bearer " + srv.APIKey() + "\r\n"
	tests := []struct {
		name   string
		head   string
		body   func(w io.Writer) // writes the body, possibly for ever
		status int               // 0: the connection is cut without an answer
	}{
		{"declares more than it sends", "Content-Length: 1000\r\n", func(w io.Writer) { io.WriteString(w, `{"to":"a@example.com"}`) }, http.StatusBadRequest},
		{"declares 2^62 and streams", "Content-Length: 4611686018427387904\r\n", streamForever, http.StatusRequestEntityTooLarge},
		{"declares 2 MiB and sends them", fmt.Sprintf("Content-Length: %d\r\n", 2<<20), func(w io.Writer) { w.Write(bytes.Repeat([]byte(" "), 2<<20)) }, http.StatusRequestEntityTooLarge},
		{"chunked without end", "Transfer-Encoding: chunked\r\n", func(w io.Writer) {
			chunk := []byte(fmt.Sprintf("%x\r\n%s\r\n", 4096, strings.Repeat(" ", 4096)))
			for {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}, http.StatusRequestEntityTooLarge},
		{"chunked that stalls", "Transfer-Encoding: chunked\r\n", func(w io.Writer) { io.WriteString(w, "5\r\n{\"to\"\r\n") }, http.StatusBadRequest},
		{"slow body", "Content-Length: 100\r\n", func(w io.Writer) {
			for range 100 {
				if _, err := w.Write([]byte(" ")); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}, http.StatusBadRequest},
		{"negative length", "Content-Length: -1\r\n", func(io.Writer) {}, http.StatusBadRequest},
		{"two lengths", "Content-Length: 5\r\nContent-Length: 6\r\n", func(w io.Writer) { io.WriteString(w, "{}") }, http.StatusBadRequest},
		{"length and chunked", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", func(w io.Writer) { io.WriteString(w, "0\r\n\r\n") }, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dial(t, srv)
			br := bufio.NewReader(c)
			_, err := fmt.Fprintf(c, "POST /v1/send/welcome HTTP/1.1\r\nHost: x\r\n%sContent-Type: application/json\r\n%s\r\n", auth, tt.head)
			require.NoError(t, err)
			go tt.body(c)
			start := time.Now()
			resp, body, err := readAnswer(t, c, br)
			if tt.status == 0 {
				assert.Error(t, err)
				return
			}
			if tt.status == http.StatusRequestEntityTooLarge && errors.Is(err, syscall.ECONNRESET) {
				// The fake answered and closed a connection it stopped
				// reading; the client may see the reset before the answer
				// (as in refused).
				healthy(t, srv)
				return
			}
			require.NoError(t, err, "no answer after %v", time.Since(start))
			assert.Equal(t, tt.status, resp.StatusCode, "%s", body)
			healthy(t, srv)
		})
	}
}

func streamForever(w io.Writer) {
	buf := bytes.Repeat([]byte(" "), 32<<10)
	for {
		if _, err := w.Write(buf); err != nil {
			return
		}
	}
}

// A header sent a byte at a time (slowloris), or one that never ends, is
// cut at the header timeout; a header over 64 KiB is refused with 431.
func TestPortHostileHeaders(t *testing.T) {
	t.Parallel()
	srv := portServer(t)
	t.Run("slowloris", func(t *testing.T) {
		t.Parallel()
		c := dial(t, srv)
		io.WriteString(c, "GET /_fake/health HTTP/1.1\r\nHost: x\r\n")
		cut := make(chan error, 1)
		go func() {
			for {
				if _, err := c.Write([]byte("X-A: b\r\n")); err != nil {
					cut <- err
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}()
		select {
		case <-cut:
		case <-time.After(bound):
			t.Fatal("a header that never ends still held its connection")
		}
	})
	t.Run("silent after the request line", func(t *testing.T) {
		t.Parallel()
		c := dial(t, srv)
		io.WriteString(c, "GET /_fake/health HTTP/1.1\r\n")
		_ = c.SetReadDeadline(time.Now().Add(bound))
		_, err := io.ReadAll(c) // the server answers 408 or just closes
		assert.NoError(t, err)
	})
	t.Run("over 64 KiB", func(t *testing.T) {
		t.Parallel()
		refused(t, srv, fmt.Sprintf("GET /_fake/health HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", strings.Repeat("a", 100<<10)))
	})
	healthy(t, srv)
}

// Idle connections cannot hold the fake: at its connection cap a new
// client waits, and is served once the idle ones time out.
func TestPortIdleConnectionsTimeOut(t *testing.T) {
	t.Parallel()
	srv := portServer(t)
	for range testLimits.maxConns {
		dial(t, srv) // connected, never sends
	}
	healthy(t, srv) // served once the idle ones are closed
	// And connections that sent one request then idle.
	for range testLimits.maxConns {
		c := dial(t, srv)
		io.WriteString(c, "GET /_fake/health HTTP/1.1\r\nHost: x\r\n\r\n")
		_, _, err := readAnswer(t, c, bufio.NewReader(c))
		require.NoError(t, err)
	}
	healthy(t, srv)
}

// Odd paths are answered as JSON errors, never a crash nor a 5xx; a path
// over the header cap is refused.
func TestPortOddPaths(t *testing.T) {
	t.Parallel()
	srv := portServer(t)
	paths := []string{
		"/", "//", "///v1/send/welcome", "/v1//send/welcome", "/v1/send//", "/v1/send/%2F", "/v1/send/a%2Fb",
		"/v1/send/..", "/v1/send/%2e%2e", "/v1/send/../../_fake/reset", "/_fake", "/_fake/", "/_fake//health",
		"/_fake/../v1/send/welcome", "/_fake/notifications/%00", "/_fake/notifications/..%2F..",
		"/v1/send/%ZZ", "/v1/send/%", "/v1/notifications/" + strings.Repeat("n", 60<<10),
		"/v1/send/\xff\xfe", "/v1/send/welcome?to=%ZZ&&&=", "*",
	}
	for _, p := range paths {
		c := dial(t, srv)
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: 2\r\n\r\n{}", p, srv.APIKey())
		resp, body, err := readAnswer(t, c, bufio.NewReader(c))
		require.NoError(t, err, "%.60q", p)
		assert.Less(t, resp.StatusCode, 500, "%.60q: %s", p, body)
		assert.GreaterOrEqual(t, resp.StatusCode, 400, "%.60q: %s", p, body)
	}
	refused(t, srv, fmt.Sprintf("GET /v1/notifications/%s HTTP/1.1\r\nHost: x\r\n\r\n", strings.Repeat("n", 100<<10)))
	healthy(t, srv)
}

// refused sends req, a header over the cap, and checks that the fake
// answers 431 or, having answered, resets the connection it stopped
// reading (the client may then see the reset first).
func refused(t *testing.T, srv *Server, req string) {
	t.Helper()
	c := dial(t, srv)
	go io.WriteString(c, req)
	resp, _, err := readAnswer(t, c, bufio.NewReader(c))
	if err != nil {
		assert.ErrorIs(t, err, syscall.ECONNRESET)
		return
	}
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
}

// Every method on every route, with and without the key: an answer, never
// a 5xx, and for a method a route does not take, 405 with Allow.
func TestPortEveryMethodOnEveryRoute(t *testing.T) {
	t.Parallel()
	srv := portServer(t, WithServerRateLimit(0))
	var paths []string
	for _, r := range apiRoutes.routes {
		paths = append(paths, fill(r.segs))
	}
	for _, r := range controlRoutes.routes {
		if !strings.HasSuffix(fill(r.segs), "/reset") { // keep the server's state for the others
			paths = append(paths, fill(r.segs))
		}
	}
	methods := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "get"}
	hc := &http.Client{Timeout: bound}
	for _, p := range paths {
		for _, m := range methods {
			for _, key := range []string{srv.APIKey(), "wrong"} {
				req, err := http.NewRequest(m, srv.URL+p, strings.NewReader(`{"to":"a@example.com","timeout":"1ms"}`))
				require.NoError(t, err)
				req.Header.Set("Authorization", "Bearer "+key)
				resp, err := hc.Do(req)
				require.NoError(t, err, "%s %s", m, p)
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				assert.Less(t, resp.StatusCode, 500, "%s %s: %s", m, p, body)
				if resp.StatusCode == http.StatusMethodNotAllowed {
					assert.NotEmpty(t, resp.Header.Get("Allow"), "%s %s", m, p)
				}
			}
		}
	}
	healthy(t, srv)
}

// fill puts a value in each {name} of a route's segments.
func fill(segs []string) string {
	out := make([]string, len(segs))
	for i, s := range segs {
		if isWildcard(s) {
			s = "x"
		}
		out[i] = s
	}
	return "/" + strings.Join(out, "/")
}

// Clients that reset their connections mid-request, at every stage, while
// others send: the fake keeps answering and keeps its records whole.
func TestPortConcurrentResets(t *testing.T) {
	t.Parallel()
	srv := portServer(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	req := fmt.Sprintf("POST /v1/send/welcome HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n{\"to\":\"a@example.com\"}", srv.APIKey())
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			io.WriteString(c, req[:i*len(req)/200])
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0) // a reset, not a close
			}
			c.Close()
		}()
	}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := try(t, srv, call{path: "/v1/send/welcome", body: map[string]any{"to": "b@example.com"}})
			if assert.NoError(t, err) {
				assert.Equal(t, http.StatusOK, a.status)
			}
		}()
	}
	wg.Wait()
	healthy(t, srv)
	for _, r := range srv.Requests() {
		assert.NotZero(t, r.Status, "a record without an answer: %+v", r)
	}
	assert.GreaterOrEqual(t, srv.NotificationCount(""), 20)
}

// HTTP/1.0, and requests pipelined on one connection, are answered in
// order.
func TestPortHTTP10AndPipelining(t *testing.T) {
	t.Parallel()
	srv := portServer(t)
	c := dial(t, srv)
	fmt.Fprintf(c, "POST /v1/send/welcome HTTP/1.0\r\nAuthorization: Bearer %s\r\nContent-Length: 22\r\n\r\n{\"to\":\"a@example.com\"}", srv.APIKey())
	_ = c.SetReadDeadline(time.Now().Add(bound))
	all, err := io.ReadAll(c) // HTTP/1.0: the server closes after the answer
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(all), "HTTP/1.0 200 OK\r\n"), "%.200s", all)

	c = dial(t, srv)
	var reqs strings.Builder
	for i := range 3 {
		fmt.Fprintf(&reqs, "POST /v1/send/welcome HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s",
			srv.APIKey(), len(fmt.Sprintf(`{"to":"p%d@example.com"}`, i)), fmt.Sprintf(`{"to":"p%d@example.com"}`, i))
	}
	fmt.Fprintf(&reqs, "GET /_fake/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	_, err = io.WriteString(c, reqs.String())
	require.NoError(t, err)
	br := bufio.NewReader(c)
	for i := range 3 {
		resp, body, err := readAnswer(t, c, br)
		require.NoError(t, err, "answer %d", i)
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	}
	resp, _, err := readAnswer(t, c, br)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	sends := srv.Requests(EndpointSend)
	require.Len(t, sends, 4)
	for i, r := range sends[1:] {
		assert.Equal(t, fmt.Sprintf(`{"to":"p%d@example.com"}`, i), string(r.RawBody), "in order")
	}
}

// Deep or huge JSON: refused cleanly, or taken within the retention. The
// port's own limits: the test's short ones would cut a 500 KB body that a
// loaded machine reads slowly, and they are not what this test is about.
func TestPortHostileJSON(t *testing.T) {
	t.Parallel()
	srv := portServer(t, withPortLimits(defaultPortLimits), WithRetention(100))
	many := `{"to":[` + strings.TrimSuffix(strings.Repeat(`"r@example.com",`, 30_000), ",") + `]}`
	tests := []struct {
		name, body string
		status     int
	}{
		{"deep array", `{"to":` + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + `}`, http.StatusBadRequest},
		{"deep payload", `{"to":"a@example.com","payload":` + strings.Repeat(`{"a":`, 9000) + "1" + strings.Repeat("}", 9000) + `}`, http.StatusOK},
		{"deep recipient", `{"to":` + strings.Repeat(`{"meta":`, 9000) + "1" + strings.Repeat("}", 9000) + `}`, http.StatusBadRequest},
		{"30,000 recipients", many, http.StatusOK},
		{"huge number", `{"to":"a@example.com","payload":{"n":1e999999}}`, http.StatusOK},
		{"invalid UTF-8", "{\"to\":\"a\xff@example.com\",\"payload\":{\"\xfe\":1}}", http.StatusOK},
		{"NUL in strings", `{"to":"a@example.com","payload":{"k\u0000":"\u0000"}}`, http.StatusOK},
		{"duplicate keys", `{"to":"a@example.com","to":"b@example.com"}`, http.StatusOK},
	}
	for _, tt := range tests {
		a, err := try(t, srv, call{path: "/v1/send/welcome", body: tt.body})
		require.NoError(t, err, tt.name)
		assert.Less(t, a.status, 500, "%s: %.200s", tt.name, a.body)
		if tt.status == http.StatusOK {
			assert.Equal(t, tt.status, a.status, "%s: %.200s", tt.name, a.body)
		}
	}
	assert.LessOrEqual(t, len(srv.Notifications()), 100)
	healthy(t, srv)
}

// The numbers: 30 POSTs of 8 MB with a wrong key grew the heap by
// 174 MiB. Now neither those nor 30 with the right key (413) grow it.
func TestPortLargeBodiesDoNotGrowTheHeap(t *testing.T) {
	srv := portServer(t, withPortLimits(defaultPortLimits))
	before := heapInUse()
	for _, key := range []string{"wrong", srv.APIKey()} {
		for range 30 {
			c := dial(t, srv)
			fmt.Fprintf(c, "POST /v1/send/welcome HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n", key, 8<<20)
			go func() {
				_, _ = c.Write(bytes.Repeat([]byte("x"), 8<<20))
			}()
			resp, _, err := readAnswer(t, c, bufio.NewReader(c))
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				require.NoError(t, err)
			}
			if resp != nil {
				assert.Contains(t, []int{401, 413}, resp.StatusCode)
			}
			c.Close()
		}
	}
	growth := int64(heapInUse()) - int64(before)
	t.Logf("heap growth after 60 POSTs of 8 MB: %.1f MiB", float64(growth)/(1<<20))
	assert.Less(t, growth, int64(16<<20))
	assert.Equal(t, 60, srv.Stats().Requests)
	for _, r := range srv.Requests() {
		assert.Nil(t, r.RawBody)
	}
}
