package signup_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/examples/apptest/signup"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

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
		{"service unavailable twice", []sendiventtest.Script{sendiventtest.FailNext(2, 503).WithRetryAfter("0")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := sendiventtest.NewServer()
			defer srv.Close()
			srv.Inject(tt.faults...)
			svc := &signup.Service{Notify: srv.Client()}

			id, err := svc.SignUp(context.Background(), signup.User{ID: "u_42", Email: "alice@example.com", Name: "Alice"})
			require.NoError(t, err)
			assert.NotEmpty(t, id)
			assert.Equal(t, 1, srv.NotificationCount("welcome"), "exactly one welcome")

			n, ok := srv.Notification(id)
			require.True(t, ok, "the id returned is the notification created")
			assert.Equal(t, "Alice", n.Payload["name"])

			// Signing up again is harmless: the same key replays.
			again, err := svc.SignUp(context.Background(), signup.User{ID: "u_42", Email: "alice@example.com", Name: "Alice"})
			require.NoError(t, err)
			assert.Equal(t, id, again)
			assert.Equal(t, 1, srv.NotificationCount("welcome"))
		})
	}
}
