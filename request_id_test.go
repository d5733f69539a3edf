package sendivent

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSendResponseRequestID: a send's answer gives the request id, which
// webhook events carry as request_id; so does a rejection and a cancel. A
// hostile id is kept as an error's is: printable, cut, without the key or
// a signing secret.
func TestSendResponseRequestID(t *testing.T) {
	t.Parallel()
	const key = "test_RqId0123456789abcdef"
	tests := []struct {
		name, header, want string
	}{
		{"given", "req_abc123", "req_abc123"},
		{"none", "", ""},
		{"the key echoed", "req_" + key, "req_[redacted]"},
		{"a signing secret", "whsec_leak123", "whsec_****"},
		{"control characters", "req_1\x1b[31m", "req_1[31m"},
		{"long", strings.Repeat("r", 300), strings.Repeat("r", 256) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarnessKey(t, key)
			var hdr []string
			if tt.header != "" {
				hdr = []string{"X-Request-Id", tt.header}
			}
			h.script(reply(200, acceptedJSON, hdr...),
				reply(200, `{"status":"rejected","error":"No sender configured"}`, hdr...),
				reply(200, `{"success":true,"cancelled":1}`, hdr...))
			res, err := h.c.Event("welcome").To(Address("alice@example.com")).Send(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tt.want, res.RequestID)

			res, err = h.c.Event("welcome").To(Address("alice@example.com")).Send(context.Background())
			require.ErrorIs(t, err, ErrRejected)
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.want, res.RequestID)
			assert.Equal(t, tt.want, ae.RequestID)

			c, err := h.c.Cancel(context.Background(), "welcome", Address("alice@example.com"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, c.RequestID)
		})
	}
}

// TestSendResponseRequestIDFromTheLastAttempt: after a retry, the id is the
// answer's that was used.
func TestSendResponseRequestIDFromTheLastAttempt(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(reply(503, `{}`, "X-Request-Id", "req_1"), reply(200, acceptedJSON, "X-Request-Id", "req_2"))
	res, err := sendWelcome(h, context.Background())
	require.NoError(t, err)
	assert.Equal(t, "req_2", res.RequestID)
}
