package sendiventtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// TestTimeScaleBelowOneWaitsLonger: a fake whose time runs slower than the
// wall clock (WithTimeScale below 1, "sendivent fake --time-scale") makes
// a wait:1h step last longer, never shorter. 1h at 1e-12 is longer than a
// Duration holds; it wrapped to a negative wait, and the step ended at
// once.
func TestTimeScaleBelowOneWaitsLonger(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(
		sendiventtest.WithTimeScale(1e-12),
		sendiventtest.WithStepDelay(0),
		sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "drip",
			Steps: []sendiventtest.Step{sendiventtest.Send("email"), sendiventtest.Wait(time.Hour), sendiventtest.Send("sms")}}),
	)
	defer srv.Close()
	res, err := srv.Client().Event("drip").To(sendivent.Contact{Email: "ann@example.com", Phone: "+46701234567"}).Send(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	id := res.Notifications[0].ID
	status := func() sendivent.NotificationStatus {
		n, _ := srv.Notification(id)
		return n.Status
	}
	for end := time.Now().Add(30 * time.Second); status() != sendivent.StatusWaiting && status() != sendivent.StatusCompleted && time.Now().Before(end); {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // what a zero wait would have ended
	if s := status(); s != sendivent.StatusWaiting {
		t.Errorf("status %s, want waiting", s)
	}
}
