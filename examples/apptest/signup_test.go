package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// TestMain fails the tests if any goroutine (a fake server's, or a client
// connection's) outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var alice = User{ID: "u_42", Email: "alice@example.com", Name: "Alice"}

// newFake is the fake Sendivent of these tests. sendiventtest.New closes it
// when the test ends and fails the test if the service sends to an event
// not declared here (a typo would 404 in production) or if a fault the test
// injected was never used.
func newFake(t *testing.T) *sendiventtest.Server {
	return sendiventtest.New(t, sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail)))
}

func TestSignUpSendsWelcomeOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		faults []sendiventtest.Script
	}{
		{"normal", nil},
		// The fake takes the send, creates the notification, then drops the
		// connection before answering; the SDK retries with the same key and
		// gets the first answer back.
		{"connection dropped after commit", []sendiventtest.Script{sendiventtest.DropNext(1)}},
		// Retried after the SDK's backoff, which the fake's client runs
		// 1000 times faster than real time.
		{"service unavailable twice", []sendiventtest.Script{sendiventtest.FailNext(2, 503)}},
		{"rate limited", []sendiventtest.Script{sendiventtest.FailNext(1, 429).WithRetryAfter("1")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newFake(t)
			srv.Inject(tt.faults...)
			svc := &Signup{Notify: srv.Client()}

			id, err := svc.SignUp(context.Background(), alice)
			require.NoError(t, err)
			assert.Equal(t, 1, srv.NotificationCount("welcome"), "exactly one welcome")

			n, ok := srv.Notification(id)
			require.True(t, ok, "the id returned is the notification created")
			assert.Equal(t, sendivent.Contact{ID: "u_42", Email: "alice@example.com", Name: "Alice"}, n.Recipient)
			assert.Equal(t, sendivent.Payload{"name": "Alice"}, n.Payload)

			// Signing up again is harmless: the same key replays.
			again, err := svc.SignUp(context.Background(), alice)
			require.NoError(t, err)
			assert.Equal(t, id, again)
			assert.Equal(t, 1, srv.NotificationCount("welcome"))
		})
	}
}

func TestSignUpAndConfirm(t *testing.T) {
	t.Parallel()
	srv := newFake(t)
	svc := &Signup{Notify: srv.Client()}

	n, err := svc.SignUpAndConfirm(context.Background(), alice)
	require.NoError(t, err)
	assert.Equal(t, sendivent.StatusCompleted, n.Status)
	assert.True(t, n.Delivered())
}

func TestSignUpReportsABounce(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle(),
		sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail)))
	svc := &Signup{Notify: srv.Client()}

	id, err := svc.SignUp(context.Background(), alice)
	require.NoError(t, err)
	require.NoError(t, srv.FailMessage(id, "mailbox does not exist"))

	n, err := svc.Notify.Wait(context.Background(), id)
	require.NoError(t, err, "a failed notification is a result, not an error")
	assert.Equal(t, sendivent.StatusFailed, n.Status)
	assert.Equal(t, "mailbox does not exist", n.FailedMessage().Error)
}

func TestSignUpFailsWhenTheServiceIsDown(t *testing.T) {
	t.Parallel()
	srv := newFake(t)
	srv.Inject(sendiventtest.FailNext(3, 503)) // every attempt the SDK makes
	svc := &Signup{Notify: srv.Client()}

	_, err := svc.SignUp(context.Background(), alice)
	require.ErrorIs(t, err, sendivent.ErrServer)
	assert.Zero(t, srv.NotificationCount("welcome"))
}
