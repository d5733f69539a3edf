package sendivent_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// TestAttackCancelShapes: Cancel's answers. Property: a typed error for a
// body of the wrong shape; an answer that says the cancel failed is not a
// success.
func TestAttackCancelShapes(t *testing.T) {
	t.Parallel()
	for body, want := range map[string]error{
		`{"success":"yes"}`:              sendivent.ErrMalformed,
		`{"cancelled":1e400}`:            sendivent.ErrMalformed,
		`{"cancelled":"2"}`:              sendivent.ErrMalformed,
		`[]`:                             sendivent.ErrMalformed,
		`{"success":true,"cancelled":2}`: nil,
	} {
		srv, _ := atkStatic(t, http.StatusOK, body)
		c := atkClient(t, srv.URL)
		res, err := c.Cancel(context.Background(), "welcome", sendivent.Address("alice@example.com"))
		if want == nil {
			require.NoError(t, err, body)
			assert.Equal(t, 2, res.Cancelled)
			continue
		}
		atkTyped(t, err)
		assert.ErrorIs(t, err, want, body)
	}
}

// TestAttackCancelSaysFailed: a 2xx Cancel answer {"success": false}.
// Property: like a send the service did not accept (ErrRejected), it is an
// error, not err == nil with a flag the caller may not read.
func TestAttackCancelSaysFailed(t *testing.T) {
	t.Parallel()
	srv, _ := atkStatic(t, http.StatusOK, `{"success":false,"error":"cancel failed"}`)
	c := atkClient(t, srv.URL)
	res, err := c.Cancel(context.Background(), "welcome", sendivent.Address("alice@example.com"))
	assert.ErrorIs(t, err, sendivent.ErrRejected, "res: %+v", res)
}

func TestE2ECancelWaitingSequence(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithEvent("drip",
		sendiventtest.Send(sendivent.ChannelEmail), sendiventtest.Wait(time.Hour), sendiventtest.Send(sendivent.ChannelSMS)))
	defer srv.Close()
	c := srv.Client()
	ctx := context.Background()
	to := sendivent.Contact{Email: "alice@example.com", Phone: "+46701234567"}
	res, err := c.Event("drip").To(to).Send(ctx)
	require.NoError(t, err)

	// Wait in one goroutine while another cancels.
	done := make(chan *sendivent.Notification, 1)
	go func() {
		n, err := c.Wait(ctx, res.ID, quick...)
		assert.NoError(t, err)
		done <- n
	}()
	_, err = c.WaitFor(ctx, res.ID, func(n *sendivent.Notification) bool { return n.Status == sendivent.StatusWaiting }, quick...)
	require.NoError(t, err)
	cr, err := c.Cancel(ctx, "drip", to)
	require.NoError(t, err)
	assert.Equal(t, 1, cr.Cancelled)

	n := <-done
	require.NotNil(t, n)
	assert.Equal(t, sendivent.StatusStopped, n.Status)
	assert.Equal(t, sendivent.MessageDelivered, n.Messages[0].Status, "what was sent stays sent")

	again, err := c.Cancel(ctx, "drip", to)
	require.NoError(t, err)
	assert.Zero(t, again.Cancelled, "nothing left to cancel")
}
