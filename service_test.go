package sendivent_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sendivent/sendivent-go"
)

// TestAttackDotIDs: notification ids "." and ".." are path segments: a
// server or proxy that cleans paths turns GET /v1/notifications/.. into
// GET /v1/. Property: refused with a *ValidationError, as event names are.
func TestAttackDotIDs(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.RequestURI)
		mu.Unlock()
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(srv.Close)
	c := atkClient(t, srv.URL)
	for _, id := range []string{".", ".."} {
		_, err := c.GetNotification(context.Background(), id)
		var ve *sendivent.ValidationError
		assert.ErrorAs(t, err, &ve, "%q", id)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, seen)
}
