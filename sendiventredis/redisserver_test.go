package sendiventredis_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a real redis-server the test started on a loopback port,
// without persistence. Stop and Start stop it and start it again on the
// same port, to make an outage.
type redisServer struct {
	t    *testing.T
	bin  string
	dir  string
	Addr string
	port int

	mu  sync.Mutex
	cmd *exec.Cmd // nil while stopped

	outMu sync.Mutex
	out   bytes.Buffer // the server's log, shown if the test fails
}

// startRedis starts a redis-server for t and stops it when t ends. Without
// a redis-server binary it skips t, or fails it when $CI is set: CI must
// install Debian's redis-server package.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("redis-server not found, and CI is set: .ci/run must install it (apt-get install -y redis-server)")
		}
		t.Skip("redis-server not found: install it (Debian: apt-get install redis-server) to run the Redis tests")
	}
	r := &redisServer{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(func() {
		r.Stop()
		if t.Failed() {
			r.outMu.Lock()
			t.Logf("redis-server log:\n%s", r.out.String())
			r.outMu.Unlock()
		}
	})
	var lastErr error
	for range 5 { // the free port may be taken between the probe and the start
		if r.port, lastErr = freePort(); lastErr != nil {
			continue
		}
		r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port))
		if lastErr = r.start(); lastErr == nil {
			return r
		}
	}
	t.Fatalf("starting redis-server: %v", lastErr)
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start starts the server again on its port after Stop.
func (r *redisServer) Start() {
	r.t.Helper()
	if err := r.start(); err != nil {
		r.t.Fatalf("restarting redis-server: %v", err)
	}
}

func (r *redisServer) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return fmt.Errorf("already running")
	}
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--daemonize", "no")
	cmd.Stdout = syncWriter{&r.outMu, &r.out}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited at start (port %d taken?)", r.port)
		default:
		}
		if ping(r.Addr) == nil {
			r.cmd = cmd
			go func() { <-exited; r.mu.Lock(); r.cmd = nilIf(r.cmd, cmd); r.mu.Unlock() }()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	<-exited
	return fmt.Errorf("redis-server did not answer PING on %s within 10 s", r.Addr)
}

func nilIf(cur, c *exec.Cmd) *exec.Cmd {
	if cur == c {
		return nil
	}
	return cur
}

// Stop stops the server (SIGTERM, then SIGKILL after 5 s) and waits until
// it has exited, so its port refuses connections. Stopping a stopped server
// does nothing.
func (r *redisServer) Stop() {
	r.mu.Lock()
	cmd := r.cmd
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		gone := r.cmd != cmd
		r.mu.Unlock()
		if gone {
			return
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			deadline = time.Now().Add(time.Hour)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Client returns a go-redis client for the server set up as the package doc
// advises; it is closed when the test ends.
func (r *redisServer) Client() *redis.Client {
	rdb := redis.NewClient(clientOptions(r.Addr))
	r.t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// ping sends PING over a fresh connection and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

type syncWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// clientOptions are the package doc's advice for the Redis client of a
// Limiter or a Deduper: an outage is seen after one short try, not after
// go-redis's default of five dials times four tries (about 2 s).
func clientOptions(addr string) *redis.Options {
	return &redis.Options{Addr: addr,
		DialTimeout: 500 * time.Millisecond, DialerRetries: 1,
		ReadTimeout: 500 * time.Millisecond, WriteTimeout: 500 * time.Millisecond,
		MaxRetries: 1}
}

// Without a redis-server binary the Redis tests skip, saying why, unless CI
// is set: then they fail, so that CI cannot pass without running them.
func TestMissingRedisServer(t *testing.T) {
	t.Parallel()
	for _, ci := range []string{"", "true"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestFailClosed$", "-test.v")
		cmd.Env = append(withoutEnv(os.Environ(), "CI", "PATH", workerEnv, receiverEnv), "PATH="+t.TempDir())
		if ci != "" {
			cmd.Env = append(cmd.Env, "CI="+ci)
		}
		out, err := cmd.CombinedOutput()
		switch {
		case ci == "" && (err != nil || !bytes.Contains(out, []byte("--- SKIP")) ||
			!bytes.Contains(out, []byte("redis-server not found: install it"))):
			t.Errorf("CI unset: exit %v; want a skip that says why:\n%s", err, out)
		case ci != "" && (err == nil || !bytes.Contains(out, []byte("--- FAIL")) ||
			!bytes.Contains(out, []byte("CI is set"))):
			t.Errorf("CI set: exit %v; want a failure:\n%s", err, out)
		}
	}
}

func withoutEnv(env []string, names ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, n := range names {
			if len(kv) > len(n) && kv[:len(n)+1] == n+"=" {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
