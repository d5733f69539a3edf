package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/sendivent/sendivent-go"
)

// sendView is the --json shape of a send's answer.
type sendView struct {
	ID             string                       `json:"id"`
	Event          string                       `json:"event"`
	Status         sendivent.SendStatus         `json:"status"`
	IdempotencyKey string                       `json:"idempotency_key"`
	Replayed       bool                         `json:"replayed"`
	Notifications  []sendivent.SentNotification `json:"notifications"`
	// Results holds each notification's final state, with --wait.
	Results []*notificationJSON `json:"results,omitempty"`
}

func newSendView(res *sendivent.SendResponse) *sendView {
	v := &sendView{
		ID: res.ID, Event: res.Event, Status: res.Status,
		IdempotencyKey: res.IdempotencyKey, Replayed: res.Replayed,
		Notifications: res.Notifications,
	}
	if v.Notifications == nil {
		v.Notifications = []sendivent.SentNotification{}
	}
	return v
}

// notificationIDs lists the ids a send created: every listed notification,
// or the one ID when the service lists none.
func notificationIDs(res *sendivent.SendResponse) []string {
	var ids []string
	for _, n := range res.Notifications {
		if n.ID != "" {
			ids = append(ids, n.ID)
		}
	}
	if len(ids) == 0 && res.ID != "" {
		ids = append(ids, res.ID)
	}
	return ids
}

// notificationJSON is a notification as --json prints it: the SDK's
// fields in the shape of the service's own answer (GET
// /v1/notifications/{id}), which the fake's /_fake/ endpoints show too: a
// message's "error" is null when it has none, and "messages" a list, empty
// rather than null.
type notificationJSON struct {
	sendivent.Notification
	Messages []messageJSON `json:"messages"` // over Notification's own
}

type messageJSON struct {
	sendivent.Message
	Error *string `json:"error"` // over Message's own, a string
}

func notificationView(n *sendivent.Notification) *notificationJSON {
	if n == nil {
		return nil
	}
	v := &notificationJSON{Notification: *n, Messages: make([]messageJSON, 0, len(n.Messages))}
	for _, m := range n.Messages {
		mj := messageJSON{Message: m}
		if m.Error != "" {
			mj.Error = &m.Error
		}
		v.Messages = append(v.Messages, mj)
	}
	return v
}

func printSend(w io.Writer, res *sendivent.SendResponse) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\n", clean(res.ID))
	fmt.Fprintf(tw, "event\t%s\n", clean(res.Event))
	fmt.Fprintf(tw, "status\t%s\n", clean(string(res.Status)))
	fmt.Fprintf(tw, "idempotency key\t%s\n", clean(res.IdempotencyKey))
	if res.Replayed {
		fmt.Fprintf(tw, "replayed\tyes: answered from an earlier send with this key; nothing new was sent\n")
	}
	if len(res.Notifications) > 1 {
		for i, n := range res.Notifications {
			fmt.Fprintf(tw, "notification %d\t%s\t%s\n", i+1, clean(n.ID), clean(string(n.Status)))
		}
	}
	tw.Flush()
}

func printNotification(w io.Writer, n *sendivent.Notification) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "id\t%s\n", clean(n.ID))
	fmt.Fprintf(tw, "event\t%s\n", clean(n.Event))
	fmt.Fprintf(tw, "status\t%s\n", clean(string(n.Status)))
	if c := contactSummary(n.Contact); c != "" {
		fmt.Fprintf(tw, "contact\t%s\n", clean(c))
	}
	if !n.StartedAt.IsZero() {
		fmt.Fprintf(tw, "started\t%s\n", stamp(n.StartedAt))
	}
	if n.CompletedAt != nil {
		fmt.Fprintf(tw, "completed\t%s\n", stamp(*n.CompletedAt))
	}
	for _, m := range n.Messages {
		line := fmt.Sprintf("message\t%s\t%s", clean(string(m.Channel)), clean(string(m.Status)))
		if m.SentAt != nil {
			line += "\tsent " + stamp(*m.SentAt)
		}
		if m.DeliveredAt != nil {
			line += "\tdelivered " + stamp(*m.DeliveredAt)
		}
		if m.Error != "" {
			line += "\terror: " + clean(m.Error)
		}
		fmt.Fprintln(tw, line)
	}
	tw.Flush()
}

func contactSummary(c sendivent.NotificationContact) string {
	var parts []string
	for _, s := range []string{c.Name, c.Email, c.Phone} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// statusLine is the one-line summary that wait prints per change:
// "ID STATUS channel:status …", with a failed message's reason quoted.
// The service's values are cleaned of control characters: a line is one
// line, and nothing drives the terminal.
func statusLine(n *sendivent.Notification) string {
	var b strings.Builder
	b.WriteString(clean(n.ID))
	b.WriteByte(' ')
	b.WriteString(clean(string(n.Status)))
	for _, m := range n.Messages {
		fmt.Fprintf(&b, " %s:%s", clean(string(m.Channel)), clean(string(m.Status)))
		if m.Error != "" {
			fmt.Fprintf(&b, " %q", m.Error)
		}
	}
	return b.String()
}

// liveLine writes status lines to a terminal, each over the last: a carriage
// return, the line, and spaces over what is left of a longer previous line.
type liveLine struct {
	w    io.Writer
	prev int // runes of the line on screen, 0 when none
}

func (l *liveLine) show(s string) {
	n := utf8.RuneCountInString(s)
	fmt.Fprintf(l.w, "\r%s%s", s, strings.Repeat(" ", max(l.prev-n, 0)))
	l.prev = n
	if f, ok := l.w.(interface{ Flush() error }); ok {
		_ = f.Flush() // the scrubbing writer holds a line until it ends
	}
}

// end moves past the line on screen, if any.
func (l *liveLine) end() {
	if l.prev > 0 {
		fmt.Fprintln(l.w)
		l.prev = 0
	}
}
