package sendivent

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"

	"github.com/sendivent/sendivent-go/internal/idem"
	"github.com/sendivent/sendivent-go/internal/wire"
)

// CancelResponse is the answer to Cancel.
type CancelResponse struct {
	Success   bool            `json:"success"`
	Cancelled int             `json:"cancelled"` // notifications stopped
	Raw       json.RawMessage `json:"-"`
}

// Cancel stops the notifications of event for to that have not finished:
// POST /v1/cancel/{event}. Their status becomes stopped; messages already
// sent are not recalled. Cancelled is 0 when nothing was pending. Like every
// call it is retried on transient failures, under one idempotency key, so a
// retry reports the count of the first try.
func (c *Client) Cancel(ctx context.Context, event string, to Recipient) (*CancelResponse, error) {
	if event == "" {
		return nil, invalid("event", "empty event name")
	}
	if err := checkRecipient(to, "to"); err != nil {
		return nil, err
	}
	buf := wire.Buffer()
	defer wire.Release(buf)
	if err := json.NewEncoder(buf).Encode(struct {
		To Recipient `json:"to"`
	}{to}); err != nil {
		return nil, &ValidationError{Field: "to", Reason: "cannot be encoded as JSON: " + err.Error(), Err: err}
	}
	// The body is a copy: the transport may still be reading it after the
	// call returns (a cancelled request), when buf is back in the pool.
	cl := &call{method: "POST", path: "/v1/cancel/" + url.PathEscape(event), route: "/v1/cancel/{event}",
		body: bytes.Clone(buf.Bytes()), key: idem.New()}
	err := c.do(ctx, cl)
	defer wire.Release(cl.resp)
	if err != nil {
		return nil, err
	}
	res := &CancelResponse{Raw: bytes.Clone(cl.resp.Bytes())}
	if err := json.Unmarshal(res.Raw, res); err != nil {
		return nil, &TransportError{Method: cl.method, Path: cl.route, StatusCode: cl.status,
			IdempotencyKey: cl.key, Attempts: cl.attempts, Err: malformed(err)}
	}
	return res, nil
}
