package sendiventredis_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go/webhook"
)

// Every delivery's function runs once while deliveries are retried across
// OS processes: three receivers (this test binary, re-executed; see
// deduper_receiver_test.go) share one Deduper on a real redis-server, and
// the test plays the service, delivering and retrying each event until a
// receiver answers 2xx.
func TestDeduperAcrossProcesses(t *testing.T) {
	t.Parallel()
	rs := startRedis(t)
	const lease = time.Second
	rcv := startReceivers(t, 3, receiverConfig{RedisAddr: rs.Addr, Prefix: "procs:", Lease: lease, Slow: 30 * time.Millisecond, FailRate: 0.3})

	t.Run("the same delivery to two processes at the same moment", func(t *testing.T) {
		const n = 40
		var wg sync.WaitGroup
		for i := range n {
			uuid := fmt.Sprintf("same-%d", i)
			a, b := i%3, (i+1)%3
			wg.Add(1)
			go func() {
				defer wg.Done()
				rcv.deliverTogether(t, uuid, a, b)
			}()
		}
		wg.Wait()
		busy, done := rcv.count("503", "same-"), rcv.count("200", "same-")
		t.Logf("%d events delivered to two processes at once: %d copies answered 503 (in progress), %d answered 200 (done)", n, busy, done)
		if busy+done == 0 {
			t.Error("no copy was recognised as a repeat: the test did not race")
		}
	})

	t.Run("a function that fails on one process is retried on another", func(t *testing.T) {
		for i := range 10 {
			uuid := fmt.Sprintf("fail-%d", i)
			if code, _ := rcv.deliver(uuid, 0); code != http.StatusInternalServerError {
				t.Errorf("%s on receiver 0: %d; want 500 (its function fails there)", uuid, code)
			}
			rcv.deliverUntilHandled(t, uuid, 1, 2)
			if code, _ := rcv.deliver(uuid, 2); code != http.StatusOK {
				t.Errorf("%s again: %d; want 200", uuid, code)
			}
		}
	})

	t.Run("deliveries retried at random across processes, functions failing 30% of the time", func(t *testing.T) {
		const n = 60
		var wg sync.WaitGroup
		for i := range n {
			uuid := fmt.Sprintf("chaos-%d", i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				rcv.deliverTogether(t, uuid, rand.IntN(3), rand.IntN(3))
			}()
		}
		wg.Wait()
	})

	t.Run("a process killed in the middle of a function: the claim's lease lets a retry run it", func(t *testing.T) {
		const uuid = "hang-1"
		go func() { _, _ = rcv.deliver(uuid, 0) }() // its answer never comes: the process dies
		rcv.waitLine(t, "start 0 "+uuid)
		killed := time.Now()
		if err := rcv.procs[0].cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		busy := rcv.deliverUntilHandled(t, uuid, 1, 2)
		t.Logf("killed mid-function; the retries were answered 503 %d times, then run %v after the kill (lease %v)",
			busy, time.Since(killed).Round(time.Millisecond), lease)
		if busy == 0 {
			t.Error("no retry was answered 503 while the dead process's claim stood")
		}
	})

	rcv.stop(t)
	runs := rcv.runs()
	for _, prefix := range []string{"same-", "fail-", "chaos-", "hang-"} {
		events, once := 0, 0
		for uuid, n := range runs {
			if !strings.HasPrefix(uuid, prefix) {
				continue
			}
			events++
			if n != 1 {
				t.Errorf("%s: the function succeeded %d times; want once", uuid, n)
			} else {
				once++
			}
		}
		t.Logf("%s…: %d events, %d of them run to success exactly once", prefix, events, once)
	}
	if want := 40 + 10 + 60 + 1; len(runs) != want {
		t.Errorf("%d events run; want %d", len(runs), want)
	}
	t.Logf("functions failed %d times (retried elsewhere), started %d times in all", rcv.count("fail ", ""), rcv.count("start ", ""))
}

// receivers are the receiver processes and what they reported.
type receivers struct {
	procs  []*receiverProc
	client *http.Client

	mu    sync.Mutex
	lines []string // every report line, and "<status> <uuid>" for each answer
	cond  *sync.Cond
}

type receiverProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	addr  string
	read  chan struct{} // closed when its stdout is read to the end
}

func startReceivers(t *testing.T, n int, cfg receiverConfig) *receivers {
	t.Helper()
	r := &receivers{client: &http.Client{Timeout: 30 * time.Second}}
	r.cond = sync.NewCond(&r.mu)
	for id := range n {
		cfg.ID = id
		raw, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0])
		cmd.Env = append(os.Environ(), receiverEnv+"="+string(raw))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p := &receiverProc{cmd: cmd, stdin: stdin, read: make(chan struct{})}
		r.procs = append(r.procs, p)
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		listening := make(chan string, 1)
		go func() {
			defer close(p.read)
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				line := sc.Text()
				if addr, ok := strings.CutPrefix(line, "listening "); ok {
					listening <- addr
					continue
				}
				r.add(line)
			}
		}()
		select {
		case p.addr = <-listening:
		case <-time.After(30 * time.Second):
			t.Fatalf("receiver %d did not start", id)
		}
	}
	return r
}

func (r *receivers) add(line string) {
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
	r.cond.Broadcast()
}

// deliver sends one signed delivery of uuid to receiver i, as the service
// would, and returns the answer's status (0 when there was none).
func (r *receivers) deliver(uuid string, i int) (int, error) {
	body := []byte(`{"event":"delivery.sent","delivery":{"uuid":"` + uuid + `"}}`)
	req, err := webhook.NewRequest(context.Background(), "http://"+r.procs[i].addr+"/webhook", body, hookSecret, time.Now())
	if err != nil {
		return 0, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		r.add(fmt.Sprintf("error %s", uuid))
		return 0, err
	}
	resp.Body.Close()
	r.add(fmt.Sprintf("%d %s", resp.StatusCode, uuid))
	return resp.StatusCode, nil
}

// deliverUntilHandled delivers uuid to the receivers in order, over and
// over, 20 ms apart, until one answers 2xx, as the service retries; it
// returns how many answers were 503.
func (r *receivers) deliverUntilHandled(t *testing.T, uuid string, order ...int) (busy int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		code, _ := r.deliver(uuid, order[i%len(order)])
		if code/100 == 2 {
			return busy
		}
		if code == http.StatusServiceUnavailable {
			busy++
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: no receiver handled it within 30 s", uuid)
			return busy
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deliverTogether delivers uuid to receivers a and b at the same moment,
// then retries, each copy on a random receiver, until each copy got 2xx.
func (r *receivers) deliverTogether(t *testing.T, uuid string, a, b int) {
	var start, wg sync.WaitGroup
	start.Add(1)
	for _, i := range []int{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start.Wait()
			if code, _ := r.deliver(uuid, i); code/100 == 2 {
				return
			}
			time.Sleep(time.Duration(20+rand.IntN(40)) * time.Millisecond)
			r.deliverUntilHandled(t, uuid, rand.Perm(len(r.procs))...)
		}()
	}
	start.Done()
	wg.Wait()
}

// waitLine waits until a receiver reports line.
func (r *receivers) waitLine(t *testing.T, line string) {
	t.Helper()
	timeout := time.AfterFunc(30*time.Second, func() { r.add("") })
	defer timeout.Stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	for {
		for _, l := range r.lines {
			if l == line {
				return
			}
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("no receiver reported %q", line)
		}
		r.cond.Wait()
	}
}

// stop ends the receivers that are still running and reads their reports
// to the end.
func (r *receivers) stop(t *testing.T) {
	for _, p := range r.procs {
		_ = p.stdin.Close()
	}
	for i, p := range r.procs {
		select {
		case <-p.read:
		case <-time.After(30 * time.Second):
			t.Fatalf("receiver %d did not stop", i)
		}
	}
}

// runs counts, per event, the functions that succeeded.
func (r *receivers) runs() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for _, l := range r.lines {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "done" {
			out[f[2]]++
		}
	}
	return out
}

// count counts the lines that start with what and hold an event starting
// with prefix.
func (r *receivers) count(what, prefix string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, l := range r.lines {
		if f := strings.Fields(l); len(f) >= 2 && strings.HasPrefix(l, strings.TrimSpace(what)+" ") && strings.HasPrefix(f[len(f)-1], prefix) {
			n++
		}
	}
	return n
}
