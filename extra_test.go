package sendivent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

func TestE2EExtraFields(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	c := srv.Client()
	_, err := c.Send(context.Background(), "welcome", sendivent.SendRequest{
		To: []sendivent.Recipient{sendivent.Contact{Email: "ada@example.com", Extra: map[string]any{"favourite_colour": "red"}}},
		Overrides: &sendivent.Overrides{
			Email: &sendivent.EmailOverrides{Subject: "Hi", Extra: map[string]any{"from_name": "ACME"}},
			Extra: map[string]any{"push": map[string]any{"title": "Hi"}, "discord": map[string]any{"tts": false}},
		},
		Extra: map[string]any{"campaign": "spring"},
	})
	require.NoError(t, err)
	n := srv.Notifications()[0]
	require.NotNil(t, n.Overrides)
	assert.Equal(t, "Hi", n.Overrides.Email.Subject)
	assert.Equal(t, map[string]any{"from_name": "ACME"}, n.Overrides.Email.Extra)
	assert.Equal(t, map[string]any{"push": map[string]any{"title": "Hi"}, "discord": map[string]any{"tts": false}}, n.Overrides.Extra)
	assert.Equal(t, map[string]any{"favourite_colour": "red"}, n.Recipient.Extra)
	r, _ := srv.LastRequest()
	assert.Equal(t, "spring", r.Body["campaign"])
	sc, ok := srv.Contact("ada@example.com")
	require.True(t, ok)
	assert.Equal(t, map[string]any{"favouriteColour": "red"}, sc.Meta)
}
