package sendiventredis_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Redis servers that misbehave, for the tests of what the Limiter and the
// Deduper do against them.

// stallingRedis is a TCP listener that accepts connections, reads what
// comes, and never answers: a Redis that hangs, or a port that something
// else holds.
func stallingRedis(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// A fault is what faultyRedis does to a script call (EVAL, EVALSHA: every
// call the Limiter and the Deduper make); the commands go-redis sends to
// set a connection up pass through to the real server.
type fault string

const (
	pass    fault = "pass"    // forward it
	stall   fault = "stall"   // never answer
	half    fault = "half"    // answer half a reply, then nothing
	cut     fault = "cut"     // answer half a reply, then close the connection
	drop    fault = "drop"    // close the connection at once
	garbage fault = "garbage" // answer bytes that are not RESP
	errRep  fault = "error"   // answer an error reply; the connection goes on
)

// faultyRedis is a proxy in front of a real redis-server that applies its
// current fault to every script call.
type faultyRedis struct {
	Addr  string
	fault atomic.Value // fault
	calls atomic.Int64 // script calls seen
}

func newFaultyRedis(t *testing.T, upstream string, f fault) *faultyRedis {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultyRedis{Addr: ln.Addr().String()}
	p.fault.Store(f)
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", upstream)
			if err != nil {
				c.Close()
				continue
			}
			track(c)
			track(up)
			go p.serve(c, up)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return p
}

func (p *faultyRedis) set(f fault) { p.fault.Store(f) }

func (p *faultyRedis) serve(c, up net.Conn) {
	defer c.Close()
	defer up.Close()
	var wmu sync.Mutex // the relay and the faults both write to c
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := up.Read(buf)
			if n > 0 {
				wmu.Lock()
				_, _ = c.Write(buf[:n])
				wmu.Unlock()
			}
			if err != nil {
				c.Close()
				return
			}
		}
	}()
	r := bufio.NewReader(c)
	for {
		raw, name, err := readCommand(r)
		if err != nil {
			return
		}
		f := pass
		if name == "EVAL" || name == "EVALSHA" {
			p.calls.Add(1)
			f = p.fault.Load().(fault)
		}
		wmu.Lock()
		switch f {
		case pass:
			_, err = up.Write(raw)
		case stall:
		case half:
			_, err = io.WriteString(c, "*4\r\n:1\r\n")
		case cut:
			_, _ = io.WriteString(c, "*4\r\n:1\r\n")
			err = errors.New("cut")
		case drop:
			err = errors.New("dropped")
		case garbage:
			_, err = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\n\r\n")
		case errRep:
			_, err = io.WriteString(c, "-ERR injected failure\r\n")
		}
		wmu.Unlock()
		if err != nil {
			return
		}
		if f == stall || f == half {
			_, _ = io.Copy(io.Discard, r) // hold the connection, answer nothing more
			return
		}
	}
}

// readCommand reads one RESP command (an array of bulk strings, as go-redis
// sends them) and returns its bytes and its name in upper case.
func readCommand(r *bufio.Reader) (raw []byte, name string, err error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, "", err
	}
	raw = append(raw, line...)
	if !strings.HasPrefix(line, "*") {
		return nil, "", fmt.Errorf("not an array: %q", line)
	}
	n, err := strconv.Atoi(strings.TrimSpace(line[1:]))
	if err != nil {
		return nil, "", err
	}
	for i := range n {
		hdr, err := r.ReadString('\n')
		if err != nil {
			return nil, "", err
		}
		raw = append(raw, hdr...)
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(hdr, "$")))
		if err != nil {
			return nil, "", err
		}
		arg := make([]byte, size+2)
		if _, err := io.ReadFull(r, arg); err != nil {
			return nil, "", err
		}
		raw = append(raw, arg...)
		if i == 0 {
			name = strings.ToUpper(string(arg[:size]))
		}
	}
	return raw, name, nil
}

// Pause stops the server with SIGSTOP: the kernel still accepts its
// connections, and nothing answers. Resume continues it.
func (r *redisServer) Pause() { r.signal(syscall.SIGSTOP) }

// Resume continues a paused server.
func (r *redisServer) Resume() { r.signal(syscall.SIGCONT) }

func (r *redisServer) signal(sig syscall.Signal) {
	r.t.Helper()
	r.mu.Lock()
	cmd := r.cmd
	r.mu.Unlock()
	if cmd == nil {
		r.t.Fatal("redis-server is not running")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		r.t.Fatal(err)
	}
}

// hostileClients are the two client setups every hostile test runs with:
// the package doc's short timeouts, and go-redis's defaults (3 s reads,
// several tries), under which a Wait that waited for Redis took seconds.
var hostileClients = []struct {
	name string
	opts func(addr string) *redis.Options
}{
	{"doc's options", clientOptions},
	{"go-redis defaults", func(addr string) *redis.Options { return &redis.Options{Addr: addr} }},
}

// hostile is one misbehaving Redis for a test. start returns its address
// and functions that make it misbehave and make it well again; both are nil
// for a Redis that misbehaves from the start and for good.
type hostile struct {
	name  string
	start func(t *testing.T) (addr string, breakIt, heal func())
}

// hostileRedis lists the misbehaving servers: a listener that never
// answers, the faults of faultyRedis in front of a real server, and a real
// server paused with SIGSTOP.
func hostileRedis() []hostile {
	out := []hostile{{"a listener that never answers", func(t *testing.T) (string, func(), func()) {
		return stallingRedis(t), nil, nil
	}}}
	for _, f := range []fault{stall, half, cut, drop, garbage, errRep} {
		out = append(out, hostile{"a proxy that " + faultName[f], func(t *testing.T) (string, func(), func()) {
			rs := startRedis(t)
			p := newFaultyRedis(t, rs.Addr, pass)
			return p.Addr, func() { p.set(f) }, func() { p.set(pass) }
		}})
	}
	out = append(out, hostile{"a redis-server paused with SIGSTOP", func(t *testing.T) (string, func(), func()) {
		rs := startRedis(t)
		var mu sync.Mutex
		paused := false
		t.Cleanup(func() {
			mu.Lock()
			defer mu.Unlock()
			if paused {
				rs.Resume()
			}
		})
		return rs.Addr, func() {
				mu.Lock()
				defer mu.Unlock()
				rs.Pause()
				paused = true
			}, func() {
				mu.Lock()
				defer mu.Unlock()
				rs.Resume()
				paused = false
			}
	}})
	return out
}

var faultName = map[fault]string{
	stall:   "stalls on a call",
	half:    "answers half a reply",
	cut:     "closes the connection mid-reply",
	drop:    "drops the connection",
	garbage: "answers garbage",
	errRep:  "answers an error",
}

// stalls reports whether h never answers (rather than failing at once).
func (h hostile) stalls() bool {
	return !strings.Contains(h.name, "mid-reply") && !strings.Contains(h.name, "drops") &&
		!strings.Contains(h.name, "garbage") && !strings.Contains(h.name, "an error")
}
