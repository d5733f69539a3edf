package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestMain fails the tests if any goroutine (the fake's deliveries, a
// loopback connection) outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const want = `alice@example.com: notification completed
  delivery.sent       email, status sent
  delivery.delivered  email, status delivered
bob@example.com: notification failed
  delivery.sent       email, status sent
  delivery.bounced    email, status suppressed (HARD_BOUNCE: mailbox does not exist)
4 deliveries, each taken at the first attempt: true
`

func TestRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		overHTTP bool
		first    string
	}{
		{"in process", false, "webhooks go to the handler in process\n"},
		{"loopback", true, "webhooks go to a loopback HTTP server\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			require.NoError(t, run(&out, tt.overHTTP))
			assert.Equal(t, tt.first+want, out.String())
		})
	}
}
