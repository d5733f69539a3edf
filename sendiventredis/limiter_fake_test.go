package sendiventredis_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go/sendiventtest"
)

// This file is the only one that uses package sendiventtest, so that a
// change of its API touches nothing else.

// fakeService is the fake Sendivent API the scaling test's workers send to.
type fakeService struct {
	URL string
	srv *sendiventtest.Server
}

// newFakeService starts the fake on a loopback port, accepting apiKey and
// answering 429 with Retry-After to requests beyond rps a second: a token
// bucket of rps tokens, refilled at rps a second. Notifications stay queued
// (no lifecycle timers), since only the sends are counted.
func newFakeService(t *testing.T, apiKey string, rps int) *fakeService {
	t.Helper()
	srv := sendiventtest.NewServer(sendiventtest.WithAPIKey(apiKey),
		sendiventtest.WithServerRateLimit(rps), sendiventtest.WithManualLifecycle())
	t.Cleanup(srv.Close)
	return &fakeService{URL: srv.URL, srv: srv}
}

// created returns how many notifications the fake has created.
func (f *fakeService) created() int { return f.srv.Stats().Created }

// sendRecord is one send request as the fake saw it.
type sendRecord struct {
	Key     string    // X-Idempotency-Key
	Time    time.Time // arrival
	Status  int
	Created int // notifications it created (0 for a replay or a refusal)
}

// sends returns every send request the fake received, in answer order.
func (f *fakeService) sends() []sendRecord {
	var out []sendRecord
	for _, r := range f.srv.Requests(sendiventtest.EndpointSend) {
		out = append(out, sendRecord{Key: r.IdempotencyKey, Time: r.Time, Status: r.Status, Created: len(r.Created)})
	}
	return out
}

// counts returns the fake's totals: requests received, 429 answers and
// notifications created.
func (f *fakeService) counts() (requests, status429, created int) {
	st := f.srv.Stats()
	return st.Requests, st.ByStatus[http.StatusTooManyRequests], st.Created
}
