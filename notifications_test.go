package sendivent_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// TestAttackNotificationShapes: GetNotification's answers of the wrong
// shape. Property: ErrMalformed, one attempt.
func TestAttackNotificationShapes(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"status":123}`, `{"status":"completed","messages":"x"}`, `{"status":"completed","messages":[1]}`,
		`{}`, `[]`, `null`, strings.Repeat("[", 100_000), `{"status":"completed"}{"status":"failed"}`,
	} {
		srv, n := atkStatic(t, http.StatusOK, body)
		c := atkClient(t, srv.URL, sendivent.WithMaxRetries(2))
		_, err := c.GetNotification(context.Background(), "n1")
		atkTyped(t, err)
		assert.ErrorIs(t, err, sendivent.ErrMalformed, "%.40s", body)
		assert.EqualValues(t, 1, n.Load(), "%.40s", body)
	}
}

func TestE2EFailedMessage(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle())
	defer srv.Close()
	c := srv.Client()
	res, err := c.Event("welcome").To(alice()...).Send(context.Background())
	require.NoError(t, err)
	require.NoError(t, srv.FailMessage(res.ID, "mailbox does not exist"))

	n, err := c.Wait(context.Background(), res.ID, quick...)
	require.NoError(t, err, "a failed notification is a result, not an error")
	assert.True(t, n.Failed())
	require.NotNil(t, n.FailedMessage())
	assert.Equal(t, "mailbox does not exist", n.FailedMessage().Error)
}
