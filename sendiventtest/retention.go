package sendiventtest

import (
	"bytes"
	"net/http"
)

// What the server keeps, and for how long. A fake that serves a port for
// days (sendivent fake) must not grow with every request, so each store
// keeps only its newest entries: records of requests, notifications,
// stored idempotent answers, contacts, webhook delivery attempts. The
// counters (Stats, NotificationCount) count everything.

// DefaultRetention is how many of each kind of entry the server keeps
// unless WithRetention says otherwise: the newest 10,000 requests,
// notifications, idempotent answers, contacts and webhook delivery
// attempts.
const DefaultRetention = 10_000

// RetainedBytes bounds, besides the count, what the kept requests and
// notifications hold: at most 32 MiB of request bodies and headers, and 32
// MiB of notifications' payloads (counted as the bytes of the JSON they
// came in), dropping the oldest first.
const RetainedBytes = 32 << 20

// maxBody caps a request body. The service documents no limit; a larger
// body is answered 413 PAYLOAD_TOO_LARGE and never kept.
const maxBody = 1 << 20

// maxHeaderBytes caps a request's header, which records keep.
const maxHeaderBytes = 64 << 10

// maxUndeclared is how many requests to undeclared events New reports.
const maxUndeclared = 100

// WithRetention keeps the newest n requests, notifications, idempotent
// answers, contacts and webhook delivery attempts (default
// DefaultRetention), and drops older ones; the requests and notifications
// kept hold at most RetainedBytes each too. n of 0 or less keeps
// everything, without limit.
//
// What was dropped is gone as if never made: Requests, Notifications and
// WebhookDeliveries list what is kept; Notification, Contact and the
// lifecycle drivers (Advance…) treat a dropped id as unknown
// (ErrUnknownNotification); the API answers 404 NOT_FOUND for it, with a
// message that says the fake keeps only its newest notifications; a
// repeated idempotency key whose answer was dropped makes a new send. A
// dropped notification stops moving. Stats and NotificationCount still
// count everything.
func WithRetention(n int) Option { return func(c *config) { c.retention = n } }

// retention is what the server keeps besides its stores' contents.
type retention struct {
	max          int // entries of each kind; 0: no limit
	requestBytes int // cost of the kept requests
	notifBytes   int // cost of the kept notifications
	notifCost    map[*notification]int
	idemOrder    []string // idempotency keys, oldest first
	evicted      int      // notifications dropped since the last Reset
	undeclared   int      // requests to undeclared events, counted past maxUndeclared
}

func newRetention(n int) retention {
	return retention{max: max(n, 0), notifCost: map[*notification]int{}}
}

// over reports whether count entries of total cost bytes are more than
// kept: the newest one is always kept.
func (r *retention) over(count, bytes, budget int) bool {
	return count > 1 && ((r.max > 0 && count > r.max) || (r.max > 0 && bytes > budget))
}

// requestCost approximates what a kept request holds.
func requestCost(rec *Request) int {
	n := 512 + len(rec.RawBody) + len(rec.Path) + len(rec.Query.Encode())
	for k, vs := range rec.Header {
		n += len(k)
		for _, v := range vs {
			n += len(v) + 16
		}
	}
	return n
}

// keepRequestLocked appends rec to the records and drops the oldest ones
// beyond the limits.
func (s *Server) keepRequestLocked(rec Request) {
	rec.Body = nil // decoded again from RawBody when read: a map costs several times its JSON
	if rec.RawBody != nil {
		rec.RawBody = bytes.Clone(rec.RawBody) // io.ReadAll's buffer is larger
	}
	s.requests = append(s.requests, rec)
	r := &s.keep
	r.requestBytes += requestCost(&rec)
	drop := 0
	for r.over(len(s.requests)-drop, r.requestBytes, RetainedBytes) {
		r.requestBytes -= requestCost(&s.requests[drop])
		drop++
	}
	s.requests = dropFront(s.requests, drop)
}

// keepNotificationLocked adds n, which a send of raw bytes made among
// others, to the server's notifications, and drops the oldest beyond the
// limits: their timers stop and their ids are forgotten.
func (s *Server) keepNotificationLocked(n *notification, raw []byte, of int) {
	s.notifs[n.id] = n
	s.order = append(s.order, n)
	s.counters.noteCreated(n.event)
	r := &s.keep
	cost := 1024 + len(raw)/max(of, 1)
	r.notifCost[n] = cost
	r.notifBytes += cost
	drop := 0
	for r.over(len(s.order)-drop, r.notifBytes, RetainedBytes) {
		old := s.order[drop]
		s.stopTimerLocked(old)
		delete(s.notifs, old.id)
		r.notifBytes -= r.notifCost[old]
		delete(r.notifCost, old)
		drop++
	}
	r.evicted += drop
	s.order = dropFront(s.order, drop)
}

// growNotificationLocked adds to a kept notification's cost what it gained
// after it was kept (its rendered messages); the next notification kept
// drops the oldest if the budget is passed.
func (s *Server) growNotificationLocked(n *notification, bytes int) {
	if c, ok := s.keep.notifCost[n]; ok {
		s.keep.notifCost[n] = c + bytes
		s.keep.notifBytes += bytes
	}
}

// keepIdemLocked stores an idempotent answer under key, dropping the
// oldest beyond the limit.
func (s *Server) keepIdemLocked(key string, e idemEntry) {
	if _, ok := s.idem[key]; !ok {
		s.keep.idemOrder = append(s.keep.idemOrder, key)
	}
	s.idem[key] = e
	r := &s.keep
	drop := 0
	for r.max > 0 && len(r.idemOrder)-drop > r.max {
		delete(s.idem, r.idemOrder[drop])
		drop++
	}
	r.idemOrder = dropFront(r.idemOrder, drop)
}

// keepNewest drops the oldest contacts beyond cs.max (0: no limit).
func (cs *contactStore) keepNewest() {
	drop := 0
	for cs.max > 0 && len(cs.order)-drop > cs.max {
		c := cs.order[drop]
		delete(cs.byKey, "uuid:"+c.uuid)
		for _, k := range c.ids.keys() {
			if cs.byKey[k] == c {
				delete(cs.byKey, k)
			}
		}
		drop++
	}
	cs.order = dropFront(cs.order, drop)
}

// keepDeliveryLocked records a webhook delivery attempt, dropping the
// oldest beyond the limit.
func (s *Server) keepDeliveryLocked(d WebhookDelivery) {
	h := &s.hooks
	h.deliveries = append(h.deliveries, d)
	s.inboxDeliveryLocked(&d)
	if over := len(h.deliveries) - s.keep.max; s.keep.max > 0 && over > 0 {
		h.deliveries = dropFront(h.deliveries, over)
	}
}

// noteUndeclaredLocked notes a request to an undeclared event for New's
// report, the first maxUndeclared of them.
func (s *Server) noteUndeclaredLocked(what string) {
	if len(s.undeclared) < maxUndeclared {
		s.undeclared = append(s.undeclared, what)
		return
	}
	s.keep.undeclared++
}

// unknownNotification answers a notification id the server does not have;
// when it has dropped some, the message says why this one may be gone.
func (s *Server) unknownNotification() reply {
	msg := "Notification not found"
	if s.keep.evicted > 0 {
		msg += "; the fake keeps only its newest notifications (WithRetention, sendivent fake --retention), and this one may be older"
	}
	return errReply(http.StatusNotFound, msg, "NOT_FOUND")
}

// dropFront drops the first n entries of s, clearing them so that what they
// point to can be freed; the array is copied once half of it is dropped.
func dropFront[T any](s []T, n int) []T {
	if n == 0 {
		return s
	}
	clear(s[:n])
	s = s[n:]
	if len(s) < cap(s)/2 {
		s = append(make([]T, 0, len(s)*2), s...)
	}
	return s
}
