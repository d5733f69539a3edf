package sendivent

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIntegrationsList(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(200, `{"success":true,"data":{"integrations":[{"channel":"email","provider":"ses","status":"active","api_key":"***"},{"channel":7}]}}`))
	got, err := h.c.Integrations.List(context.Background(), "")
	require.NoError(t, err)
	checkRequest(t, h.last(), wantRequest{method: "GET", path: "/v1/integrations"})
	require.Len(t, got, 2)
	assert.Equal(t, Integration{Channel: ChannelEmail, Provider: "ses", Status: "active"}, Integration{Channel: got[0].Channel, Provider: got[0].Provider, Status: got[0].Status})
	assert.Contains(t, string(got[0].Raw), "api_key")
	assert.Empty(t, got[1].Channel, "a field of the wrong type is left empty")

	_, err = h.c.Integrations.List(context.Background(), ChannelSMS)
	require.NoError(t, err)
	checkRequest(t, h.last(), wantRequest{method: "GET", path: "/v1/integrations", query: "channel=sms"})

	_, err = h.c.Integrations.List(context.Background(), "fax")
	assert.ErrorIs(t, err, ErrValidation)
	assert.Len(t, h.requests(), 2)

	h2 := newMockHarness(t)
	h2.script(reply(200, `{"success":true,"data":{}}`), reply(200, `{"success":false,"error":"Forbidden"}`))
	_, err = h2.c.Integrations.List(context.Background(), "")
	assert.ErrorIs(t, err, ErrMalformed)
	_, err = h2.c.Integrations.List(context.Background(), "")
	assert.ErrorIs(t, err, ErrRejected)
}
