package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/sendivent/sendivent-go"
)

func TestStatusLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		n    sendivent.Notification
		want string
	}{
		{"no messages", sendivent.Notification{ID: "n1", Status: sendivent.StatusStopped}, "n1 stopped"},
		{"two messages", sendivent.Notification{ID: "n1", Status: sendivent.StatusRunning, Messages: []sendivent.Message{
			{Channel: sendivent.ChannelEmail, Status: sendivent.MessageFailed, Error: `bounced "hard"`},
			{Channel: sendivent.ChannelSMS, Status: sendivent.MessageQueued},
		}}, `n1 running email:failed "bounced \"hard\"" sms:queued`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := statusLine(&tt.n); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// On a terminal each state overwrites the last, on one line, and a shorter
// line blanks what is left of a longer one.
func TestLiveLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := liveLine{w: &buf}
	l.end() // nothing shown: nothing to end
	l.show("n1 running email:queued")
	l.show("n1 running email:sent")
	l.show("n1 completed émail:délivered")
	l.end()
	want := "\rn1 running email:queued" +
		"\rn1 running email:sent  " +
		"\rn1 completed émail:délivered\n"
	if buf.String() != want {
		t.Errorf("got  %q\nwant %q", buf.String(), want)
	}
	l.end()
	if strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("a second end wrote again: %q", buf.String())
	}
}

// The change printer rewrites the line on a terminal, prints a line per
// change when piped, and a JSON object per change under --json.
func TestChangePrinter(t *testing.T) {
	t.Parallel()
	states := []*sendivent.Notification{
		{ID: "n1", Status: sendivent.StatusRunning, Messages: []sendivent.Message{{Channel: "email", Status: "queued"}}},
		{ID: "n1", Status: sendivent.StatusCompleted, Messages: []sendivent.Message{{Channel: "email", Status: "delivered"}}},
	}
	tests := []struct {
		name      string
		tty, json bool
		want      string
	}{
		{"tty", true, false, "\rn1 running email:queued\rn1 completed email:delivered\n"},
		{"piped", false, false, "n1 running email:queued\nn1 completed email:delivered\n"},
		{"json on a tty", true, true, `{"id":"n1","event":"","contact":{},"status":"running","started_at":"0001-01-01T00:00:00Z","completed_at":null,"messages":[{"id":"","channel":"email","status":"queued","sent_at":null,"delivered_at":null,"error":null}]}` + "\n" +
			`{"id":"n1","event":"","contact":{},"status":"completed","started_at":"0001-01-01T00:00:00Z","completed_at":null,"messages":[{"id":"","channel":"email","status":"delivered","sent_at":null,"delivered_at":null,"error":null}]}` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := printed(tt.tty, tt.json, func(a *app) {
				show, end := a.changePrinter()
				for _, n := range states {
					show(n)
				}
				end()
			})
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// printed is what print writes to the stdout of an app with stdout a
// terminal or not (tty) and --json or not.
func printed(tty, json bool, print func(a *app)) string {
	var buf bytes.Buffer
	a := &app{stdout: &buf, stdoutTTY: tty}
	a.conn.json = json
	print(a)
	return buf.String()
}

func TestNotificationIDs(t *testing.T) {
	t.Parallel()
	one := &sendivent.SendResponse{ID: "a"}
	if got := notificationIDs(one); len(got) != 1 || got[0] != "a" {
		t.Errorf("one: %q", got)
	}
	many := &sendivent.SendResponse{ID: "a", Notifications: []sendivent.SentNotification{{ID: "a"}, {ID: ""}, {ID: "b"}}}
	if got := notificationIDs(many); strings.Join(got, ",") != "a,b" {
		t.Errorf("many: %q", got)
	}
	if got := notificationIDs(&sendivent.SendResponse{}); len(got) != 0 {
		t.Errorf("none: %q", got)
	}
}
