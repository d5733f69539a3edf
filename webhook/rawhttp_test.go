package webhook_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The attack tests speak HTTP/1.1 by hand over net.Dial, so that they can
// send what no http.Client would: lying lengths, cut bodies, duplicated
// headers, bodies that never end.

// rawServer is an http.Server on a loopback port serving h, counting the
// requests that reach h and those that have left it.
type rawServer struct {
	*httptest.Server
	entered, left atomic.Int64
}

// serveRaw starts h on a loopback port; configure adjusts the http.Server
// (timeouts) before it starts. The server's own log (a handler's panic) is
// dropped.
func serveRaw(t *testing.T, h http.Handler, configure ...func(*http.Server)) *rawServer {
	t.Helper()
	s := &rawServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.entered.Add(1)
		defer s.left.Add(1)
		h.ServeHTTP(w, r)
	}))
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	for _, c := range configure {
		c(s.Config)
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// waitFor polls cond every millisecond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// rawConn is one client connection.
type rawConn struct {
	t *testing.T
	net.Conn
	br *bufio.Reader
}

func (s *rawServer) dial(t *testing.T) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{t: t, Conn: c, br: bufio.NewReader(c)}
}

// send writes s; an error fails the test.
func (c *rawConn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.Conn, s); err != nil {
		c.t.Fatalf("writing: %v", err)
	}
}

// closeWrite half-closes the connection: the server reads EOF.
func (c *rawConn) closeWrite() {
	c.t.Helper()
	if err := c.Conn.(*net.TCPConn).CloseWrite(); err != nil {
		c.t.Fatal(err)
	}
}

// response reads one answer, within 10 s.
func (c *rawConn) response() (*http.Response, error) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, nil
}

// status reads one answer's status; it fails the test if there is none.
func (c *rawConn) status() int {
	c.t.Helper()
	resp, err := c.response()
	if err != nil {
		c.t.Fatalf("reading the answer: %v", err)
	}
	return resp.StatusCode
}

// closed reports whether the server closed (or reset) the connection
// within 10 s, without another answer.
func (c *rawConn) closed() bool {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := c.br.ReadByte()
	var ne net.Error
	return err != nil && !(errors.As(err, &ne) && ne.Timeout())
}

// head is a request's start line and headers; body follows it.
type head struct {
	method string
	lines  []string // "Name: value"
}

func postHead(lines ...string) head { return head{method: http.MethodPost, lines: lines} }

func (h head) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s /webhook HTTP/1.1\r\nHost: receiver.example\r\n", h.method)
	for _, l := range h.lines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

// delivery is a whole, correct delivery of body signed by sig, with extra
// header lines.
func delivery(body []byte, sig string, extra ...string) string {
	lines := append([]string{"Content-Length: " + strconv.Itoa(len(body)), "X-Sendivent-Signature: " + sig}, extra...)
	return postHead(lines...).String() + string(body)
}
