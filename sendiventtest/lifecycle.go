package sendiventtest

import (
	"errors"
	"time"

	"github.com/sendivent/sendivent-go"
)

// Notification and message statuses, as the service spells them: the SDK's
// own constants, untyped here because the fake's snapshots hold strings.
const (
	StatusRunning   = string(sendivent.StatusRunning)
	StatusWaiting   = string(sendivent.StatusWaiting)
	StatusCompleted = string(sendivent.StatusCompleted)
	StatusFailed    = string(sendivent.StatusFailed)
	StatusStopped   = string(sendivent.StatusStopped)

	MessageQueued    = string(sendivent.MessageQueued)
	MessageSent      = string(sendivent.MessageSent)
	MessageDelivered = string(sendivent.MessageDelivered)
	MessageFailed    = string(sendivent.MessageFailed)
)

// Errors returned by the lifecycle drivers.
var (
	ErrUnknownNotification = errors.New("sendiventtest: unknown notification id")
	ErrTerminal            = errors.New("sendiventtest: notification is already completed, failed or stopped")
	ErrNoMessageInFlight   = errors.New("sendiventtest: notification is at a wait step, no message in flight")
)

// timeFormat is the service's timestamp format (UTC, milliseconds).
const timeFormat = "2006-01-02T15:04:05.000Z"

// Message is a snapshot of one message (one channel attempt) of a notification.
type Message struct {
	ID          string
	Channel     sendivent.Channel
	Status      string // queued, sent, delivered or failed
	Error       string // the failure reason, "" unless failed
	SentAt      *time.Time
	DeliveredAt *time.Time
}

// Notification is a snapshot of one notification the server created. The
// maps and Recipient are shared with the server's records: do not modify them.
type Notification struct {
	ID    string
	Event string
	// Channel is the channel forced in the path, "" when auto-routed.
	Channel sendivent.Channel
	// Channels lists the channels of the notification's send steps after
	// routing, in order (one entry for an auto-routed event).
	Channels []sendivent.Channel
	// Recipient is this notification's `to` entry as decoded from JSON: a
	// string or a map[string]any.
	Recipient any
	// ContactID is the uuid of the fake's contact the recipient resolved to.
	ContactID      string
	Status         string // running, waiting, completed, failed or stopped
	Messages       []Message
	Payload        map[string]any
	Language       string
	Overrides      map[string]any
	From           any
	IdempotencyKey string
	CreatedAt      time.Time
	CompletedAt    *time.Time
}

// Terminal reports whether the status is completed, failed or stopped.
func (n Notification) Terminal() bool { return terminal(n.Status) }

func terminal(status string) bool {
	return status == StatusCompleted || status == StatusFailed || status == StatusStopped
}

type message struct {
	id, status, err     string
	channel             sendivent.Channel
	sentAt, deliveredAt *time.Time
}

type notification struct {
	id, event   string
	forced      sendivent.Channel
	plan        []Step
	step        int
	cur         *message // message of the current send step; nil at a wait
	status      string
	contactID   string
	contact     identity // as known when the notification was created
	recipient   any
	payload     map[string]any
	language    string
	overrides   map[string]any
	from        any
	idemKey     string
	createdAt   time.Time
	completedAt *time.Time
	messages    []*message
	timer       *time.Timer
	gen         uint64
}

func now() *time.Time { t := time.Now().UTC(); return &t }

// startLocked enters the first step of a new notification.
func (s *Server) startLocked(n *notification) { s.enterLocked(n, 0) }

// enterLocked makes step i current, or completes n after its last step.
func (s *Server) enterLocked(n *notification, i int) {
	n.step, n.cur = i, nil
	if i >= len(n.plan) {
		s.finishLocked(n, StatusCompleted)
		return
	}
	st := n.plan[i]
	if st.kind == stepWait {
		n.status = StatusWaiting
		s.scheduleLocked(n, st.wait)
		return
	}
	n.cur = &message{id: newUUID(), channel: st.channel, status: MessageQueued}
	n.messages = append(n.messages, n.cur)
	n.status = StatusRunning
	s.scheduleLocked(n, s.stepDelay)
}

// advanceLocked moves n one step: queued → sent, sent → delivered (and on to
// the next step), or out of a wait.
func (s *Server) advanceLocked(n *notification) error {
	if terminal(n.status) {
		return ErrTerminal
	}
	m := n.cur
	switch {
	case m == nil:
		s.enterLocked(n, n.step+1)
	case m.status == MessageQueued:
		m.status, m.sentAt = MessageSent, now()
		s.scheduleLocked(n, s.stepDelay)
	default:
		s.deliverLocked(n)
	}
	return nil
}

// deliverLocked marks the current message delivered and enters the next step.
func (s *Server) deliverLocked(n *notification) {
	m := n.cur
	t := now()
	if m.sentAt == nil {
		m.sentAt = t
	}
	m.status, m.deliveredAt = MessageDelivered, t
	s.enterLocked(n, n.step+1)
}

// finishLocked ends n with a terminal status.
func (s *Server) finishLocked(n *notification, status string) {
	s.stopTimerLocked(n)
	n.status, n.cur, n.completedAt = status, nil, now()
}

// scheduleLocked arms n's automatic next step after d (automatic lifecycle
// only). Every armed timer is counted in s.timers until it is stopped or its
// callback returns, so Close can wait for all of them.
func (s *Server) scheduleLocked(n *notification, d time.Duration) {
	s.stopTimerLocked(n)
	if s.manual || s.closed {
		return
	}
	gen := n.gen
	s.timers.Add(1)
	n.timer = time.AfterFunc(d, func() {
		defer s.timers.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed || n.gen != gen {
			return // stopped or superseded while this callback was starting
		}
		n.timer = nil
		_ = s.advanceLocked(n)
	})
}

// stopTimerLocked disarms n's timer, if any.
func (s *Server) stopTimerLocked(n *notification) {
	n.gen++
	if n.timer != nil {
		if n.timer.Stop() {
			s.timers.Done()
		}
		n.timer = nil
	}
}

// drive runs f on notification id under the server lock.
func (s *Server) drive(id string, f func(*notification) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notifs[id]
	if !ok {
		return ErrUnknownNotification
	}
	if terminal(n.status) {
		return ErrTerminal
	}
	return f(n)
}

// Advance moves notification id one step: its current message queued → sent,
// sent → delivered (then on to the next step, or completed after the last),
// or out of a Wait step. It works with either lifecycle mode; an automatic
// timer restarts from the new state.
func (s *Server) Advance(id string) error { return s.drive(id, s.advanceLocked) }

// AdvanceAll advances every notification that is not terminal by one step
// and returns how many it moved.
func (s *Server) AdvanceAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	moved := 0
	for _, n := range s.order {
		if s.advanceLocked(n) == nil {
			moved++
		}
	}
	return moved
}

// Deliver marks the current message of notification id delivered (setting
// sent_at too if it was still queued) and moves on to the next step; after the
// last step the notification is completed.
func (s *Server) Deliver(id string) error {
	return s.drive(id, func(n *notification) error {
		if n.cur == nil {
			return ErrNoMessageInFlight
		}
		s.deliverLocked(n)
		return nil
	})
}

// FailMessage marks the current message of notification id failed with
// reason as its error, and the notification failed (completed_at set).
func (s *Server) FailMessage(id, reason string) error {
	return s.drive(id, func(n *notification) error {
		if n.cur == nil {
			return ErrNoMessageInFlight
		}
		n.cur.status, n.cur.err = MessageFailed, reason
		s.finishLocked(n, StatusFailed)
		return nil
	})
}

// Complete delivers the current message of notification id, if one is in
// flight, skips any remaining steps and marks the notification completed.
func (s *Server) Complete(id string) error {
	return s.drive(id, func(n *notification) error {
		if m := n.cur; m != nil {
			t := now()
			if m.sentAt == nil {
				m.sentAt = t
			}
			m.status, m.deliveredAt = MessageDelivered, t
		}
		s.finishLocked(n, StatusCompleted)
		return nil
	})
}

// stopLocked cancels n: status stopped, completed_at set. Messages that were
// already sent (or delivered, or failed) stay as they are; a message still
// queued never went out and is removed.
func (s *Server) stopLocked(n *notification) {
	if m := n.cur; m != nil && m.status == MessageQueued {
		n.messages = n.messages[:len(n.messages)-1]
	}
	s.finishLocked(n, StatusStopped)
}

// Notifications returns snapshots of every notification, in creation order.
func (s *Server) Notifications() []Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Notification, 0, len(s.order))
	for _, n := range s.order {
		out = append(out, n.snapshot())
	}
	return out
}

// Notification returns a snapshot of notification id.
func (s *Server) Notification(id string) (Notification, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.notifs[id]
	if !ok {
		return Notification{}, false
	}
	return n.snapshot(), true
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

func (n *notification) snapshot() Notification {
	out := Notification{
		ID: n.id, Event: n.event, Channel: n.forced, Recipient: n.recipient,
		ContactID: n.contactID, Status: n.status, Payload: n.payload,
		Language: n.language, Overrides: n.overrides, From: n.from,
		IdempotencyKey: n.idemKey, CreatedAt: n.createdAt,
		CompletedAt: copyTime(n.completedAt),
		Messages:    make([]Message, 0, len(n.messages)),
	}
	for _, st := range n.plan {
		if st.kind == stepSend {
			out.Channels = append(out.Channels, st.channel)
		}
	}
	for _, m := range n.messages {
		out.Messages = append(out.Messages, Message{
			ID: m.id, Channel: m.channel, Status: m.status, Error: m.err,
			SentAt: copyTime(m.sentAt), DeliveredAt: copyTime(m.deliveredAt),
		})
	}
	return out
}

type wireContact struct {
	Email *string `json:"email"`
	Name  *string `json:"name"`
	Phone string  `json:"phone,omitempty"`
}

type wireMessage struct {
	ID          string  `json:"id"`
	Channel     string  `json:"channel"`
	Status      string  `json:"status"`
	SentAt      *string `json:"sent_at"`
	DeliveredAt *string `json:"delivered_at"`
	Error       *string `json:"error"`
}

type wireNotification struct {
	ID          string        `json:"id"`
	Event       string        `json:"event"`
	Contact     wireContact   `json:"contact"`
	Status      string        `json:"status"`
	StartedAt   string        `json:"started_at"`
	CompletedAt *string       `json:"completed_at"`
	Messages    []wireMessage `json:"messages"`
}

func fmtTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := t.UTC().Format(timeFormat)
	return &s
}

func strOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// wire renders n as GET /v1/notifications/{id} answers it.
func (n *notification) wire() wireNotification {
	w := wireNotification{
		ID: n.id, Event: n.event, Status: n.status,
		Contact: wireContact{
			Email: strOrNil(n.contact.email), Name: strOrNil(n.contact.name), Phone: n.contact.phone,
		},
		StartedAt:   n.createdAt.UTC().Format(timeFormat),
		CompletedAt: fmtTime(n.completedAt),
		Messages:    make([]wireMessage, 0, len(n.messages)),
	}
	for _, m := range n.messages {
		w.Messages = append(w.Messages, wireMessage{
			ID: m.id, Channel: string(m.channel), Status: m.status,
			SentAt: fmtTime(m.sentAt), DeliveredAt: fmtTime(m.deliveredAt), Error: strOrNil(m.err),
		})
	}
	return w
}
