package sendiventtest

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/sendivent/sendivent-go"
)

// EndpointIntegrations is GET /v1/integrations.
const EndpointIntegrations Endpoint = "integrations"

func init() {
	addAPIRoute(http.MethodGet, "/v1/integrations", apiRoute{endpoint: EndpointIntegrations, serve: (*Server).listIntegrationsLocked})
}

// defaultProviders name each channel's provider when the test declares no
// integrations.
var defaultProviders = map[sendivent.Channel]string{
	sendivent.ChannelEmail: "ses", sendivent.ChannelSMS: "sns", sendivent.ChannelWhatsApp: "whatsapp_cloud",
	sendivent.ChannelSlack: "slack", sendivent.ChannelTelegram: "telegram",
	sendivent.ChannelDiscord: "discord", sendivent.ChannelPush: "expo",
}

// WithIntegrations declares the channel integrations that GET
// /v1/integrations lists (Raw is ignored; an empty Status is "active").
// Without it the list has one active integration per channel the declared
// events use (every channel when none is declared), with a typical
// provider. The list is a catalogue only: sends do not check it.
func WithIntegrations(integrations ...sendivent.Integration) Option {
	return func(c *config) {
		c.integrations = append(c.integrations, integrations...)
		c.integrationsSet = true
	}
}

type wireIntegration struct {
	Channel  sendivent.Channel `json:"channel"`
	Provider string            `json:"provider"`
	Status   string            `json:"status"`
}

// integrationsOf is the integrations a server lists.
func integrationsOf(cfg *config) ([]wireIntegration, error) {
	var out []wireIntegration
	if cfg.integrationsSet {
		for _, in := range cfg.integrations {
			if !knownChannels[in.Channel] {
				return nil, fmt.Errorf("WithIntegrations: unknown channel %q", in.Channel)
			}
			status := in.Status
			if status == "" {
				status = "active"
			}
			out = append(out, wireIntegration{Channel: in.Channel, Provider: in.Provider, Status: status})
		}
		return out, nil
	}
	used := defaultChannelOrder
	if len(cfg.events) > 0 {
		used = nil
		for _, ch := range defaultChannelOrder {
			for _, steps := range cfg.events {
				if slices.Contains(sendChannels(steps), ch) {
					used = append(used, ch)
					break
				}
			}
		}
	}
	for _, ch := range used {
		out = append(out, wireIntegration{Channel: ch, Provider: defaultProviders[ch], Status: "active"})
	}
	return out, nil
}

// listIntegrationsLocked is GET /v1/integrations[?channel=].
func (s *Server) listIntegrationsLocked(x *exchange) reply {
	ch := x.rec.Query.Get("channel")
	if ch != "" && !knownChannels[sendivent.Channel(ch)] {
		return (&apiError{status: 400, Error: fmt.Sprintf("Invalid channel '%s'", ch), Field: "channel"}).reply()
	}
	out := []wireIntegration{}
	for _, in := range s.integrations {
		if ch == "" || string(in.Channel) == ch {
			out = append(out, in)
		}
	}
	return dataReply(map[string]any{"integrations": out})
}
