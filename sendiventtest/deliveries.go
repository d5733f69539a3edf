package sendiventtest

import (
	"net/http"

	"github.com/sendivent/sendivent-go"
)

// EndpointDeliveries is GET /v1/deliveries and GET
// /v1/deliveries/{uuid}/trace.
const EndpointDeliveries Endpoint = "deliveries"

func init() {
	addAPIRoute(http.MethodGet, "/v1/deliveries", apiRoute{endpoint: EndpointDeliveries, serve: (*Server).listDeliveriesLocked})
	addAPIRoute(http.MethodGet, "/v1/deliveries/{delivery}/trace", apiRoute{endpoint: EndpointDeliveries, serve: (*Server).traceLocked})
}

// A delivery is one message of a notification: its uuid is the message's id.

type wireDelivery struct {
	UUID           string  `json:"uuid"`
	Channel        string  `json:"channel"`
	Status         string  `json:"status"`
	EventName      string  `json:"event_name"`
	NotificationID string  `json:"notification_id"`
	CreatedAt      string  `json:"created_at"`
	SentAt         *string `json:"sent_at"`
	DeliveredAt    *string `json:"delivered_at"`
	Error          *string `json:"error"`
}

func deliveryOf(n *notification, m *message) wireDelivery {
	return wireDelivery{
		UUID: m.id, Channel: string(m.channel), Status: string(m.status), EventName: n.event,
		NotificationID: n.id, CreatedAt: m.queuedAt.Format(timeFormat),
		SentAt: fmtTime(m.sentAt), DeliveredAt: fmtTime(m.deliveredAt), Error: strOrNil(m.err),
	}
}

// listDeliveriesLocked is GET /v1/deliveries?event=&channel=&status=
// &limit=&offset=, oldest first. The limit defaults to 20; one over 100 is
// served as 100 (and echoed so). The status filter "pending" matches
// queued messages.
func (s *Server) listDeliveriesLocked(x *exchange) reply {
	q := x.rec.Query
	limit, offset, err := pageParams(q, 20, 100, true)
	if err != nil {
		return err.reply()
	}
	event, channel, status := q.Get("event"), q.Get("channel"), q.Get("status")
	if status == "pending" {
		status = string(sendivent.MessageQueued)
	}
	var all []wireDelivery
	for _, n := range s.order {
		for _, m := range n.messages {
			if (event == "" || n.event == event) && (channel == "" || string(m.channel) == channel) &&
				(status == "" || string(m.status) == status) {
				all = append(all, deliveryOf(n, m))
			}
		}
	}
	page := window(all, offset, limit)
	if page == nil {
		page = []wireDelivery{}
	}
	return dataReply(map[string]any{"deliveries": page, "total": len(all), "limit": limit, "offset": offset})
}

type traceStep struct {
	Event     string `json:"event"`
	Timestamp string `json:"timestamp"`
}

// traceLocked is a delivery's timeline, and a snapshot of its content: the
// fake renders no template, so the content is what the send gave.
func (s *Server) traceLocked(x *exchange) reply {
	id := x.p["delivery"]
	for _, n := range s.order {
		for _, m := range n.messages {
			if m.id != id {
				continue
			}
			steps := []traceStep{{Event: string(sendivent.MessageQueued), Timestamp: m.queuedAt.Format(timeFormat)}}
			if m.sentAt != nil {
				steps = append(steps, traceStep{Event: string(sendivent.MessageSent), Timestamp: *fmtTime(m.sentAt)})
			}
			if m.deliveredAt != nil {
				steps = append(steps, traceStep{Event: string(sendivent.MessageDelivered), Timestamp: *fmtTime(m.deliveredAt)})
			}
			if m.endedAt != nil {
				steps = append(steps, traceStep{Event: string(m.status), Timestamp: *fmtTime(m.endedAt)})
			}
			content := map[string]any{"channel": m.channel, "payload": n.payload, "language": n.language}
			return dataReply(map[string]any{"delivery": deliveryOf(n, m), "timeline": steps, "content": content})
		}
	}
	return errReply(http.StatusNotFound, "Delivery not found: "+id, "NOT_FOUND")
}
