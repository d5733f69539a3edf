package sendivent

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/sendivent/sendivent-go/internal/idem"
)

// CancelResponse is the answer to Cancel.
type CancelResponse struct {
	Success   bool `json:"success"`
	Cancelled int  `json:"cancelled"` // notifications stopped
	// RequestID is the service's id for the request (X-Request-Id), to
	// quote to support; "" when the answer has none.
	RequestID string          `json:"-"`
	Raw       json.RawMessage `json:"-"` // the body as received
}

// Cancel stops the notifications of event for to that have not finished:
// POST /v1/cancel/{event}. Their status becomes stopped; messages already
// sent are not recalled. Cancelled is 0 when nothing was pending. Like every
// call it is retried on transient failures; cancelling twice is harmless,
// but a retry after a lost answer may report 0 (the first try stopped them)
// unless the service replays the first answer for the request's
// idempotency key.
func (c *Client) Cancel(ctx context.Context, event string, to Recipient) (*CancelResponse, error) {
	if err := checkEvent(event); err != nil {
		return nil, err
	}
	if err := checkRecipient(to, "to"); err != nil {
		return nil, err
	}
	enc, err := json.Marshal(struct {
		To Recipient `json:"to"`
	}{to})
	if err != nil {
		return nil, &ValidationError{Field: "to", Reason: "cannot be encoded as JSON: " + err.Error(), Err: err}
	}
	r := request{event: event, method: "POST", route: "/v1/cancel/{event}", path: "/v1/cancel/" + pathSegment(event),
		body: enc, key: idem.New()}
	return do(ctx, c, r, decodeCancel)
}

func decodeCancel(a *answer) (*CancelResponse, error) {
	res := &CancelResponse{Success: true, RequestID: a.requestID()} // an empty 2xx (a 204) says no more than that
	if firstByte(a.body) < 0 {
		return res, nil
	}
	if err := json.Unmarshal(a.body, res); err != nil {
		return nil, malformed(err, a.body)
	}
	res.Raw = json.RawMessage(a.body)
	if !res.Success && bytes.Contains(a.body, []byte(`"success"`)) { // said so, not left out
		return res, refusal(a, "success")
	}
	return res, nil
}
