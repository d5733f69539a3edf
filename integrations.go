package sendivent

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
)

// IntegrationsService reads the channel integrations (the providers set up
// in the dashboard, shared by the sandbox and production):
// client.Integrations.
//
// Only one source documents this read-only "developer" endpoint (an agent
// skill by the official SDKs' author); the API reference does not list it,
// and its format may change. Answers are read leniently and kept whole in
// Raw.
type IntegrationsService service

func (s *IntegrationsService) client() *Client { return (*service)(s).client() }

// Integration is one channel's provider. The service strips its secrets.
type Integration struct {
	Channel  Channel `json:"channel"`
	Provider string  `json:"provider"` // such as "ses", "sendgrid", "expo"
	Status   string  `json:"status"`   // such as "active"
	// Raw is the integration's JSON object as received.
	Raw json.RawMessage `json:"-"`
}

// UnmarshalJSON decodes an integration leniently: a field of an unexpected
// type is left empty.
func (in *Integration) UnmarshalJSON(b []byte) error {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*in = Integration{
		Channel:  Channel(jsonString(f["channel"])),
		Provider: jsonString(f["provider"]),
		Status:   jsonString(f["status"]),
		Raw:      append(json.RawMessage(nil), b...),
	}
	return nil
}

// List returns the integrations, of one channel or ("") of all:
// GET /v1/integrations[?channel=].
func (s *IntegrationsService) List(ctx context.Context, channel Channel) ([]Integration, error) {
	if channel != "" && !channel.Valid() {
		return nil, invalid("channel", "unknown channel "+strconv.Quote(string(channel)))
	}
	q := url.Values{}
	if channel != "" {
		q.Set("channel", string(channel))
	}
	r := request{method: "GET", route: "/v1/integrations", path: "/v1/integrations", query: q}
	return do(ctx, s.client(), r, decodeList[Integration]("integrations"))
}
