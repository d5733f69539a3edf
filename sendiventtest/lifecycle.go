package sendiventtest

import (
	"errors"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/webhook"
)

// Errors returned by the lifecycle drivers.
var (
	ErrUnknownNotification = errors.New("sendiventtest: unknown notification id")
	ErrTerminal            = errors.New("sendiventtest: notification is already completed, failed or stopped")
	ErrNoMessageInFlight   = errors.New("sendiventtest: notification is at a wait step, no message in flight")
)

type message struct {
	id, err             string
	status              sendivent.MessageStatus
	channel             sendivent.Channel
	queuedAt            time.Time
	sentAt, deliveredAt *time.Time
	endedAt             *time.Time // when it failed or was suppressed
}

type notification struct {
	id, event   string
	forced      sendivent.Channel
	plan        []Step
	step        int
	cur         *message // message of the current send step; nil at a wait
	status      sendivent.NotificationStatus
	contactID   string
	contact     identity // as known when the notification was created
	recipient   sendivent.Contact
	payload     sendivent.Payload
	language    string
	overrides   *sendivent.Overrides
	from        sendivent.Recipient
	idemKey     string
	requestID   string
	createdAt   time.Time
	completedAt *time.Time
	messages    []*message
	rendered    []RenderedMessage // one per message that has a template (template.go)
	timer       *time.Timer
	gen         uint64
	inbox       inboxNote // its timeline, for the inbox page (inbox_stream.go)
}

// stamp is the time now as the service reports it: UTC, to the millisecond,
// so that a snapshot equals what a client decodes.
func stamp() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func now() *time.Time { t := stamp(); return &t }

// startLocked enters the first step of a new notification.
func (s *Server) startLocked(n *notification) { s.enterLocked(n, 0) }

// enterLocked makes step i current, or completes n after its last step.
func (s *Server) enterLocked(n *notification, i int) {
	defer s.inboxTouchLocked(n)
	n.step, n.cur = i, nil
	if i >= len(n.plan) {
		s.finishLocked(n, sendivent.StatusCompleted)
		return
	}
	st := n.plan[i]
	if st.kind == stepWait {
		n.status = sendivent.StatusWaiting
		s.scheduleLocked(n, s.scaled(st.wait))
		return
	}
	n.cur = &message{id: newUUID(), channel: st.channel, status: sendivent.MessageQueued, queuedAt: stamp()}
	n.messages = append(n.messages, n.cur)
	s.renderMessageLocked(n, n.cur)
	n.status = sendivent.StatusRunning
	s.scheduleLocked(n, s.stepDelay)
}

// advanceLocked moves n one step: queued → sent, sent → delivered (and on to
// the next step), or out of a wait.
func (s *Server) advanceLocked(n *notification) error {
	if n.status.Terminal() {
		return ErrTerminal
	}
	m := n.cur
	switch {
	case m == nil:
		s.enterLocked(n, n.step+1)
	case m.status == sendivent.MessageQueued:
		s.markSentLocked(n, m, now())
		s.scheduleLocked(n, s.stepDelay)
	default:
		s.deliverLocked(n)
	}
	return nil
}

// deliverLocked marks the current message delivered and enters the next step.
func (s *Server) deliverLocked(n *notification) {
	s.markDeliveredLocked(n, n.cur)
	s.enterLocked(n, n.step+1)
}

// markSentLocked marks m sent at t, and sends its delivery.sent webhook.
func (s *Server) markSentLocked(n *notification, m *message, t *time.Time) {
	m.status, m.sentAt = sendivent.MessageSent, t
	s.inboxTouchLocked(n)
	s.webhookLocked(n, m, webhook.DeliverySent)
}

// markDeliveredLocked marks m delivered (and sent, if it was still queued),
// and sends the webhooks of each change.
func (s *Server) markDeliveredLocked(n *notification, m *message) {
	t := now()
	if m.sentAt == nil {
		s.markSentLocked(n, m, t)
	}
	m.status, m.deliveredAt = sendivent.MessageDelivered, t
	s.inboxTouchLocked(n)
	s.webhookLocked(n, m, webhook.DeliveryDelivered)
}

// finishLocked ends n with a terminal status.
func (s *Server) finishLocked(n *notification, status sendivent.NotificationStatus) {
	s.stopTimerLocked(n)
	n.status, n.cur, n.completedAt = status, nil, now()
	s.inboxTouchLocked(n)
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
	if n.status.Terminal() {
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
	return s.endMessage(id, sendivent.MessageFailed, reason)
}

// SuppressMessage marks the current message of notification id suppressed
// (the contact opted out, or bounced before) with reason as its error, and
// the notification failed, as FailMessage does. Its webhook event is
// delivery.bounced for an email, delivery.failed for other channels.
func (s *Server) SuppressMessage(id, reason string) error {
	return s.endMessage(id, sendivent.MessageSuppressed, reason)
}

func (s *Server) endMessage(id string, status sendivent.MessageStatus, reason string) error {
	return s.drive(id, func(n *notification) error {
		if n.cur == nil {
			return ErrNoMessageInFlight
		}
		n.cur.status, n.cur.err, n.cur.endedAt = status, reason, now()
		typ := webhook.DeliveryFailed
		if status == sendivent.MessageSuppressed && n.cur.channel == sendivent.ChannelEmail {
			typ = webhook.DeliveryBounced
		}
		s.webhookLocked(n, n.cur, typ)
		s.finishLocked(n, sendivent.StatusFailed)
		return nil
	})
}

// Complete delivers the current message of notification id, if one is in
// flight, skips any remaining steps and marks the notification completed.
func (s *Server) Complete(id string) error {
	return s.drive(id, func(n *notification) error {
		if m := n.cur; m != nil {
			s.markDeliveredLocked(n, m)
		}
		s.finishLocked(n, sendivent.StatusCompleted)
		return nil
	})
}

// stopLocked cancels n: status stopped, completed_at set. Messages that were
// already sent (or delivered, or failed) stay as they are; a message still
// queued never went out and is removed.
func (s *Server) stopLocked(n *notification) {
	if m := n.cur; m != nil && m.status == sendivent.MessageQueued {
		n.messages = n.messages[:len(n.messages)-1]
	}
	s.finishLocked(n, sendivent.StatusStopped)
}
