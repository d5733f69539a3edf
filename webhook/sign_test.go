package webhook_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go/webhook"
)

// Sign agrees with the HMAC computed by hand, and Verify accepts it.
func TestSign(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body []byte
		at   time.Time
	}{
		{"payload", []byte(payload), now},
		{"empty body", nil, now},
		{"sub-second time is truncated", []byte(payload), now.Add(999 * time.Millisecond)},
		{"other zone", []byte(payload), now.In(time.FixedZone("X", -7*3600))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := webhook.Sign(tt.body, secret, tt.at)
			assert.Equal(t, signature(secret, now, tt.body), got)
			if len(tt.body) > 0 {
				_, err := webhook.Verify(tt.body, headers(got), secret, at(now))
				assert.NoError(t, err)
			}
		})
	}
}

func TestNewRequest(t *testing.T) {
	t.Parallel()
	body := []byte(payload)
	r, err := webhook.NewRequest(context.Background(), "http://127.0.0.1/hook", body, secret, now)
	require.NoError(t, err)
	assert.Equal(t, http.MethodPost, r.Method)
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	assert.Equal(t, "Sendivent-Webhook/1.0", r.Header.Get("User-Agent"))
	assert.Equal(t, signature(secret, now, body), r.Header.Get(webhook.SignatureHeader))
	assert.Equal(t, int64(len(body)), r.ContentLength)
	got, err := io.ReadAll(r.Body)
	require.NoError(t, err)
	assert.Equal(t, payload, string(got))

	_, err = webhook.NewRequest(context.Background(), "://bad", body, secret, now)
	assert.Error(t, err)
}
