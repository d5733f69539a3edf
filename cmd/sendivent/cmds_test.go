package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// bound is how long a script command waits for something to happen before
// it fails: generous, as a noisy 2-core machine can stall for seconds.
const bound = 60 * time.Second

var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"exitcode": cmdExitCode,
	"fake":     cmdFake,
	"freeport": cmdFreePort,
	"waithttp": cmdWaitHTTP,
	"httpget":  cmdHTTPGet,
	"jsonget":  cmdJSONGet,
	"nosecret": cmdNoSecret, // in scrub_test.go
	// in fake_webhook_test.go
	"hookserver": cmdHookServer,
	"hookwait":   cmdHookWait,
}

// jsonget VAR KEY sets $VAR to the string or number at KEY of the JSON
// object that the last command printed on stdout (its first line).
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: jsonget VAR KEY")
	}
	line, _, _ := strings.Cut(ts.ReadFile("stdout"), "\n")
	var obj map[string]any
	if err := json.Unmarshal([]byte(line), &obj); err != nil {
		ts.Fatalf("jsonget: stdout is not a JSON object: %v", err)
	}
	v, ok := obj[args[1]]
	if !ok {
		ts.Fatalf("jsonget: no %q in %s", args[1], line)
	}
	ts.Setenv(args[0], fmt.Sprint(v))
}

// exitcode N PROG ARGS... runs PROG and checks that it exits with N; its
// stdout and stderr are kept for the stdout and stderr commands.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: %v", err)
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d", got, want)
	}
}

// fake drives the script's in-process fake:
//
//	fake restart [-manual] [-event NAME[=STEPS]]...  replace it (URL and key env too)
//	fake lastid VAR            set $VAR to the id of the last notification
//	fake nthid N VAR           wait for the N-th notification, set $VAR to its id
//	fake polls ID N            wait until the fake has answered N polls of ID
//	fake advance ID            once ID was polled twice since its last move, advance it
//	fake fail ID REASON        fail ID's current message
//	fake status ID STATUS      check ID's status on the fake
//	fake sends EVENT N         check how many sends of EVENT created notifications
//	fake lastbody              print the last request's body to stdout
//	fake lastkey VAR           set $VAR to the last request's idempotency key
//	fake requests ENDPOINT     print "METHOD PATH[?QUERY]" of each request to ENDPOINT
//	[!] fake contact IDENT     print the stored contact (with !: check there is none)
//	fake delay DURATION        delay the next request by DURATION
//	fake failnext STATUS       answer the next request with STATUS
func cmdFake(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) > 0 && args[0] == "contact" {
		fakeContact(ts, neg, args)
		return
	}
	if neg || len(args) == 0 {
		ts.Fatalf("usage: fake restart|lastid|polls|advance|fail|status|sends|lastbody|lastkey|requests|contact|delay|failnext ...")
	}
	h := ts.Value(fakeKey{}).(*fakeHolder)
	srv := h.srv
	want := func(n int) {
		if len(args) != n+1 {
			ts.Fatalf("fake %s: want %d arguments", args[0], n)
		}
	}
	switch args[0] {
	case "restart":
		fs := flag.NewFlagSet("fake restart", flag.ContinueOnError)
		var opts []sendiventtest.Option
		fs.BoolFunc("manual", "", func(string) error {
			opts = append(opts, sendiventtest.WithManualLifecycle())
			return nil
		})
		fs.Func("event", "", func(s string) error {
			e, err := sendiventtest.ParseEvent(s)
			opts = append(opts, sendiventtest.WithEvents(e))
			return err
		})
		ts.Check(fs.Parse(args[1:]))
		h.close()
		h.start(opts)
		ts.Setenv("SENDIVENT_API_URL", h.srv.URL)
	case "lastid":
		want(1)
		ns := srv.Notifications()
		if len(ns) == 0 {
			ts.Fatalf("fake lastid: no notification")
		}
		ts.Setenv(args[1], ns[len(ns)-1].ID)
	case "nthid":
		want(2)
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		deadline := time.Now().Add(bound)
		ns := srv.Notifications()
		for ; len(ns) < n; ns = srv.Notifications() {
			if time.Now().After(deadline) {
				ts.Fatalf("fake nthid: no notification %d after %v", n, bound)
			}
			time.Sleep(5 * time.Millisecond)
		}
		ts.Setenv(args[2], ns[n-1].ID)
	case "polls":
		want(2)
		n, err := strconv.Atoi(args[2])
		ts.Check(err)
		waitPolls(ts, srv, args[1], n)
	case "advance":
		want(1)
		// A poll answered after the last move saw it: the client's next poll
		// started after that answer. The fake records a request before it
		// answers, so two more records mean the client has seen the move.
		id := args[1]
		seen, ok := h.seen[id]
		if !ok {
			seen = -1 // the first move needs only the first poll
		}
		waitPolls(ts, srv, id, seen+2)
		ts.Check(srv.Advance(id))
		h.seen[id] = pollCount(srv, id)
	case "fail":
		want(2)
		ts.Check(srv.FailMessage(args[1], args[2]))
	case "status":
		want(2)
		n, ok := srv.Notification(args[1])
		if !ok {
			ts.Fatalf("fake status: no notification %s", args[1])
		}
		if string(n.Status) != args[2] {
			ts.Fatalf("fake status: %s is %s, want %s", args[1], n.Status, args[2])
		}
	case "sends":
		want(2)
		n, err := strconv.Atoi(args[2])
		ts.Check(err)
		if got := sendCount(srv, args[1]); got != n {
			ts.Fatalf("fake sends: %d sends of %q, want %d", got, args[1], n)
		}
	case "lastbody":
		want(0)
		r, ok := srv.LastRequest()
		if !ok {
			ts.Fatalf("fake lastbody: no request")
		}
		fmt.Fprintf(ts.Stdout(), "%s\n", r.RawBody)
	case "lastkey":
		want(1)
		r, ok := srv.LastRequest()
		if !ok {
			ts.Fatalf("fake lastkey: no request")
		}
		ts.Setenv(args[1], r.IdempotencyKey)
	case "requests":
		want(1)
		for _, r := range srv.Requests(sendiventtest.Endpoint(args[1])) {
			line := r.Method + " " + r.Path
			if len(r.Query) > 0 {
				line += "?" + r.Query.Encode()
			}
			fmt.Fprintln(ts.Stdout(), line)
		}
	case "delay":
		want(1)
		d, err := time.ParseDuration(args[1])
		ts.Check(err)
		srv.Inject(sendiventtest.DelayNext(1, d))
	case "failnext":
		want(1)
		status, err := strconv.Atoi(args[1])
		ts.Check(err)
		srv.Inject(sendiventtest.FailNext(1, status))
	default:
		ts.Fatalf("fake: unknown subcommand %q", args[0])
	}
}

// fakeContact is "[!] fake contact IDENT".
func fakeContact(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: fake contact IDENT")
	}
	c, ok := ts.Value(fakeKey{}).(*fakeHolder).srv.Contact(args[1])
	switch {
	case ok && neg:
		ts.Fatalf("fake contact: %s exists: %s", args[1], c.Raw)
	case !ok && !neg:
		ts.Fatalf("fake contact: no contact %s", args[1])
	case ok:
		fmt.Fprintf(ts.Stdout(), "%s\n", c.Raw)
	}
}

// waitPolls waits until the fake has answered n GETs of notification id.
func waitPolls(ts *testscript.TestScript, srv *sendiventtest.Server, id string, n int) {
	deadline := time.Now().Add(bound)
	for pollCount(srv, id) < n {
		if time.Now().After(deadline) {
			ts.Fatalf("fake: %s was not polled %d times in %v", id, n, bound)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pollCount is how many GETs of notification id the fake has answered.
func pollCount(srv *sendiventtest.Server, id string) int {
	n := 0
	for _, r := range srv.Requests(sendiventtest.EndpointNotification) {
		if r.NotificationID == id {
			n++
		}
	}
	return n
}

// sendCount is how many sends of event created notifications.
func sendCount(srv *sendiventtest.Server, event string) int {
	n := 0
	for _, r := range srv.Requests(sendiventtest.EndpointSend) {
		if r.Event == event && len(r.Created) > 0 {
			n++
		}
	}
	return n
}

// freeport VAR sets $VAR to a loopback TCP port that was free a moment ago.
func cmdFreePort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: freeport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	port := ln.Addr().(*net.TCPAddr).Port
	ts.Check(ln.Close())
	ts.Setenv(args[0], strconv.Itoa(port))
}

// waithttp URL waits until a GET of URL answers 200.
func cmdWaitHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waithttp URL")
	}
	c := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(bound)
	for {
		resp, err := c.Get(args[0])
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waithttp: %s not up after %v (last: %v)", args[0], bound, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// httpget [-X METHOD] URL [BODY] prints the status and body of a request;
// a status of 400 or more fails unless negated.
func cmdHTTPGet(ts *testscript.TestScript, neg bool, args []string) {
	method := http.MethodGet
	if len(args) > 1 && args[0] == "-X" {
		method, args = args[1], args[2:]
	}
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: httpget [-X METHOD] URL [BODY]")
	}
	var body io.Reader
	if len(args) == 2 {
		body = strings.NewReader(args[1])
	}
	req, err := http.NewRequest(method, args[0], body)
	ts.Check(err)
	resp, err := (&http.Client{Timeout: bound}).Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d\n%s\n", resp.StatusCode, b)
	if failed := resp.StatusCode >= 400; failed != neg {
		ts.Fatalf("httpget: status %d", resp.StatusCode)
	}
}
