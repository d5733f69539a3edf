package sendiventtest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sendivent/sendivent-go"
)

// What the inbox page sees change: every notification's timeline (each
// status it and its messages took, with the time), a version that every
// change bumps, and the event stream that tells the page of each change.

// inboxState is the server's side of the page; guarded by Server.mu except
// loopback, which is set before the server starts.
type inboxState struct {
	loopback bool   // listening on a loopback address: Host must name it (inbox_guard.go)
	epoch    string // changes with Reset, so that a page across one starts afresh
	version  uint64 // bumped by every change a page shows
	seq      uint64 // the last notification's number, in creation order
	wake     chan struct{}
	streams  int // event streams open
}

// inboxNote is what a notification keeps for the page.
type inboxNote struct {
	seq    uint64 // creation order, for the page's cursor
	rev    uint64 // the version of its last change
	status sendivent.NotificationStatus
	log    []inboxStep
}

// inboxStep is one status that a notification (msg -1) or its message
// number msg took, at a time in Unix milliseconds: small, as 10,000
// notifications keep theirs.
type inboxStep struct {
	at     int64
	msg    int32
	status string
}

// lastStatus is the status last logged for message i, "" if none.
func (in *inboxNote) lastStatus(i int) string {
	for j := len(in.log) - 1; j >= 0; j-- {
		if int(in.log[j].msg) == i {
			return in.log[j].status
		}
	}
	return ""
}

const (
	// maxInboxStreams caps the event streams open at once; more are
	// answered 503.
	maxInboxStreams = 32
	// inboxBatch is the most notifications an update carries; more
	// changed at once and the page reloads its list instead.
	inboxBatch = 50
	// inboxGap is the least time between two updates of one stream, so
	// that a burst of changes makes one update.
	inboxGap = 100 * time.Millisecond
	// inboxHeartbeat keeps an idle stream's connection known to be alive.
	inboxHeartbeat = 15 * time.Second
)

// inboxWriteTimeout bounds one write to a stream: a client that stops
// reading is dropped, and Close waits no longer for it.
var inboxWriteTimeout = 10 * time.Second

// epochLocked is the server's current epoch, made on first use.
func (st *inboxState) epochLocked() string {
	if st.epoch == "" {
		st.epoch = randHex(6)
	}
	return st.epoch
}

// resetLocked starts a new epoch: pages reload.
func (st *inboxState) resetLocked() {
	st.epoch = randHex(6)
	st.version++
	st.wakeLocked()
}

// waitLocked returns a channel closed at the next change.
func (st *inboxState) waitLocked() <-chan struct{} {
	if st.wake == nil {
		st.wake = make(chan struct{})
	}
	return st.wake
}

func (st *inboxState) wakeLocked() {
	if st.wake != nil {
		close(st.wake)
		st.wake = nil
	}
}

// inboxTouchLocked logs what changed in n's status and its messages'
// since the last call, with the times, and tells the pages. The lifecycle
// calls it after each change.
func (s *Server) inboxTouchLocked(n *notification) {
	in := &n.inbox
	if in.seq == 0 {
		s.inbox.seq++
		in.seq = s.inbox.seq
	}
	if in.log == nil {
		in.log = make([]inboxStep, 0, 6) // one message's life, without growing
	}
	changed := false
	note := func(at time.Time, msg int, status string) {
		in.log = append(in.log, inboxStep{at: at.UnixMilli(), msg: int32(msg), status: status})
		changed = true
	}
	ended := n.status.Terminal()
	if !ended && n.status != in.status {
		in.status = n.status
		note(stamp(), -1, string(n.status))
	}
	for i, m := range n.messages {
		if in.lastStatus(i) != string(m.status) {
			note(messageTime(m), i, string(m.status))
		}
	}
	if ended && n.status != in.status {
		in.status = n.status
		at := stamp()
		if n.completedAt != nil {
			at = *n.completedAt
		}
		note(at, -1, string(n.status))
	}
	if changed {
		s.inboxChangedLocked(n)
	}
}

// messageTime is when m took its current status.
func messageTime(m *message) time.Time {
	var t *time.Time
	switch m.status {
	case sendivent.MessageQueued:
		return m.queuedAt
	case sendivent.MessageSent:
		t = m.sentAt
	case sendivent.MessageDelivered:
		t = m.deliveredAt
	default:
		t = m.endedAt
	}
	if t == nil {
		return stamp()
	}
	return *t
}

// inboxChangedLocked tells the pages that n changed (its request was
// recorded, a webhook delivery made, its status moved).
func (s *Server) inboxChangedLocked(n *notification) {
	s.inbox.version++
	n.inbox.rev = s.inbox.version
	s.inbox.wakeLocked()
}

// inboxRequestLocked tells the pages of the notifications a recorded
// request created: their detail shows it.
func (s *Server) inboxRequestLocked(rec *Request) {
	for _, id := range rec.Created {
		if n, ok := s.notifs[id]; ok {
			s.inboxChangedLocked(n)
		}
	}
}

// inboxDeliveryLocked tells the pages of a webhook delivery attempt.
func (s *Server) inboxDeliveryLocked(d *WebhookDelivery) {
	if n, ok := s.notifs[d.NotificationID]; ok {
		s.inboxChangedLocked(n)
	}
}

// inboxUpdate is one event of the stream: the notifications changed since
// the page's version, newest first, or Resync when the page must reload
// its list (a Reset, more changes than one update carries, a page of
// another epoch).
type inboxUpdate struct {
	Epoch         string      `json:"epoch"`
	Version       uint64      `json:"version"`
	Resync        bool        `json:"resync,omitempty"`
	Held          int         `json:"held"`
	Created       int         `json:"created"`
	Oldest        uint64      `json:"oldest"` // the number of the oldest notification held
	Notifications []inboxView `json:"notifications"`
}

// inboxUpdateLocked is the update for a page at version since of epoch, and
// false when there is nothing new.
func (s *Server) inboxUpdateLocked(epoch string, since uint64) (inboxUpdate, bool) {
	st := &s.inbox
	u := inboxUpdate{Epoch: st.epochLocked(), Version: st.version, Held: len(s.order), Created: s.counters.notifs,
		Notifications: []inboxView{}}
	if len(s.order) > 0 {
		u.Oldest = s.order[0].inbox.seq
	}
	if epoch != u.Epoch || since > st.version {
		u.Resync = true
		return u, true
	}
	if since == st.version {
		return u, false
	}
	for i := len(s.order) - 1; i >= 0; i-- {
		if n := s.order[i]; n.inbox.rev > since {
			if len(u.Notifications) == inboxBatch {
				u.Resync, u.Notifications = true, []inboxView{}
				break
			}
			u.Notifications = append(u.Notifications, s.viewLocked(n))
		}
	}
	return u, true
}

// inboxStream serves GET /_inbox/stream?epoch=E&since=V: server-sent
// events, an "update" (an inboxUpdate, its id "epoch-version") at each
// change, at most one per inboxGap, until the client leaves or the server
// closes. EventSource's reconnection sends Last-Event-ID, which wins over
// the query. Nothing queues per client: each update is made from the
// server's state when it is sent.
func (s *Server) inboxStream(w http.ResponseWriter, r *http.Request, _ params) {
	q := r.URL.Query()
	epoch, since := q.Get("epoch"), q.Get("since")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		epoch, since, _ = strings.Cut(id, "-")
	}
	version, _ := strconv.ParseUint(since, 10, 64)
	s.mu.Lock()
	if s.closed || s.inbox.streams >= maxInboxStreams {
		s.mu.Unlock()
		w.Header().Set("Retry-After", "5")
		writeControlJSON(w, r, http.StatusServiceUnavailable, controlError{
			Error: fmt.Sprintf("%d event streams are open, the most the fake serves", maxInboxStreams), Code: "TOO_MANY_STREAMS"})
		return
	}
	s.inbox.streams++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inbox.streams--
		s.mu.Unlock()
	}()

	rc := http.NewResponseController(w)
	// A server on a port reads a request within its ReadTimeout; a stream
	// lives longer, and its connection's read deadline would end it.
	_ = rc.SetReadDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	write := func(chunk string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(inboxWriteTimeout))
		if _, err := fmt.Fprint(w, chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write("retry: 1000\n\n") {
		return
	}
	beat := time.NewTicker(inboxHeartbeat)
	defer beat.Stop()
	for {
		s.mu.Lock()
		u, fresh := s.inboxUpdateLocked(epoch, version)
		wake := s.inbox.waitLocked()
		secrets := s.secretsLocked()
		s.mu.Unlock()
		if fresh {
			epoch, version = u.Epoch, u.Version
			data := redactJSON(mustJSON(u), secrets)
			if !write(fmt.Sprintf("id: %s-%d\nevent: update\ndata: %s\n\n", u.Epoch, u.Version, data)) ||
				!s.sleep(r.Context(), inboxGap) {
				return
			}
			continue
		}
		select {
		case <-wake:
		case <-beat.C:
			if !write(": still here\n\n") {
				return
			}
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		}
	}
}
