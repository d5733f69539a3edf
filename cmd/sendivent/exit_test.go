package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

func TestExitCode(t *testing.T) {
	t.Parallel()
	failed := &sendivent.Notification{ID: "n1", Status: sendivent.StatusFailed}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, exitOK},
		{"plain", errors.New("boom"), exitOther},
		{"usage", usagef("bad"), exitUsage},
		{"validation", &sendivent.ValidationError{Field: "channel"}, exitUsage},
		{"wrapped validation", fmt.Errorf("x: %w", &sendivent.ValidationError{}), exitUsage},
		{"api", &sendivent.APIError{StatusCode: 404}, exitAPI},
		// The SDK stopped retrying because the deadline was near, but the
		// context had not ended: the service's answer is what counts.
		{"api cut by deadline", &sendivent.APIError{StatusCode: 503, Err: context.DeadlineExceeded}, exitAPI},
		{"transport", &sendivent.TransportError{Err: errors.New("refused")}, exitTransport},
		// A per-attempt timeout matches DeadlineExceeded, but while the
		// command's context is alive it is a transport error.
		{"per-attempt timeout", &sendivent.TransportError{Err: context.DeadlineExceeded}, exitTransport},
		{"wait ran out", &sendivent.WaitTimeoutError{ID: "n1"}, exitTimeout},
		{"command deadline", &timeoutError{&sendivent.TransportError{Err: context.DeadlineExceeded}}, exitTimeout},
		{"command deadline over api", &timeoutError{&sendivent.APIError{StatusCode: 503}}, exitTimeout},
		{"not completed", &notCompleteError{failed}, exitNotComplete},
		{"interrupted", &interruptedError{&sendivent.TransportError{Err: context.Canceled}}, exitInterrupted},
		{"interrupted wait", &interruptedError{&sendivent.WaitTimeoutError{Err: context.Canceled}}, exitInterrupted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestMarkContextEnd(t *testing.T) {
	t.Parallel()
	cause := &sendivent.TransportError{Err: context.Canceled}

	alive := context.Background()
	if got := markContextEnd(alive, cause); got != error(cause) {
		t.Errorf("alive context: got %v, want the error unchanged", got)
	}
	if got := markContextEnd(alive, nil); got != nil {
		t.Errorf("nil error: got %v", got)
	}

	deadline, cancel := context.WithTimeout(context.Background(), -time.Second)
	defer cancel()
	if got := exitCode(markContextEnd(deadline, cause)); got != exitTimeout {
		t.Errorf("deadline passed: exit %d, want %d", got, exitTimeout)
	}

	signalled, cancelSig := context.WithCancelCause(context.Background())
	cancelSig(fmt.Errorf("%w: interrupt", errSignal))
	// A --timeout context under a signalled one keeps the signal's cause.
	child, cancelChild := context.WithTimeout(signalled, time.Hour)
	defer cancelChild()
	err := markContextEnd(child, cause)
	if got := exitCode(err); got != exitInterrupted {
		t.Errorf("signal: exit %d, want %d", got, exitInterrupted)
	}
	if !strings.HasPrefix(err.Error(), "interrupted: ") {
		t.Errorf("signal: message %q", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("signal: %v does not wrap the cause", err)
	}
}

func TestWriteErrorJSON(t *testing.T) {
	t.Parallel()
	last := &sendivent.Notification{ID: "n1", Status: sendivent.StatusRunning}
	tests := []struct {
		name string
		err  error
		want map[string]any // fields of "error" to check
	}{
		{"api", &sendivent.APIError{StatusCode: 429, Code: "RATE_LIMITED", Field: "to", RequestID: "req_1", IdempotencyKey: "k1", RetryAfter: 2 * time.Second},
			map[string]any{"kind": "api", "exit_code": 3.0, "status": 429.0, "code": "RATE_LIMITED", "field": "to", "request_id": "req_1", "idempotency_key": "k1", "retry_after_seconds": 2.0}},
		{"validation", &sendivent.ValidationError{Field: "channel", Reason: "unknown"},
			map[string]any{"kind": "usage", "exit_code": 2.0, "field": "channel"}},
		{"transport", &sendivent.TransportError{StatusCode: 200, IdempotencyKey: "k2", Err: errors.New("bad body")},
			map[string]any{"kind": "transport", "exit_code": 4.0, "status": 200.0, "idempotency_key": "k2"}},
		{"wait timeout", &sendivent.WaitTimeoutError{ID: "n1", Last: last},
			map[string]any{"kind": "timeout", "exit_code": 5.0}},
		{"other", errors.New("boom"),
			map[string]any{"kind": "other", "exit_code": 1.0, "message": "sendivent: boom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			code := exitCode(tt.err)
			writeError(&buf, tt.err, code, true, "sendivent x")
			if strings.Count(buf.String(), "\n") != 1 {
				t.Fatalf("want one line, got %q", buf.String())
			}
			var got struct{ Error map[string]any }
			if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
				t.Fatalf("not JSON: %v: %s", err, buf.String())
			}
			for k, v := range tt.want {
				if got.Error[k] != v {
					t.Errorf("error.%s = %#v, want %#v", k, got.Error[k], v)
				}
			}
			if !strings.HasPrefix(got.Error["message"].(string), "sendivent: ") {
				t.Errorf("message %q lacks the prefix", got.Error["message"])
			}
		})
	}
}

func TestWriteErrorText(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	writeError(&buf, usagef("missing EVENT argument"), exitUsage, false, "sendivent send")
	want := "sendivent: missing EVENT argument\nRun 'sendivent send --help' for usage.\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
	buf.Reset()
	writeError(&buf, &sendivent.APIError{StatusCode: 404, Message: "nope"}, exitAPI, false, "sendivent status")
	if got := buf.String(); got != "sendivent: 404 Not Found: nope\n" {
		t.Errorf("api error printed as %q", got)
	}
}

// A signal during a wait (its context cancelled with errSignal) ends the
// command with exit code 130 and says so; the script interrupt.txtar sends
// a real SIGINT to a separate process.
func TestInterruptedWaitExits130(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	defer srv.Close()
	res, err := srv.Client().Event("welcome").To(sendivent.Address("alice@example.com")).Send(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	a := &app{stdout: &stdout, stderr: &stderr, getenv: env{
		"SENDIVENT_API_KEY": srv.APIKey(), "SENDIVENT_API_URL": srv.URL,
	}.get}
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan int, 1)
	go func() { done <- run(ctx, a, []string{"wait", res.ID, "--poll", "10ms"}) }()

	deadline := time.Now().Add(bound)
	for !strings.Contains(stdout.String(), "running email:queued") {
		if time.Now().After(deadline) {
			t.Fatalf("no status line after %v: %q %q", bound, stdout.String(), stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel(fmt.Errorf("%w: interrupt", errSignal))
	if code := <-done; code != exitInterrupted {
		t.Fatalf("exit code %d, want %d; stderr %q", code, exitInterrupted, stderr.String())
	}
	if !strings.HasPrefix(stderr.String(), "sendivent: interrupted: ") {
		t.Errorf("stderr %q", stderr.String())
	}
}
