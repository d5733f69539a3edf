package sendiventtest_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// recorder is a testing.TB that keeps what New reports and runs its
// cleanups when told.
type recorder struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper()          {}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

// end runs the cleanups, last registered first, as the testing package does.
func (r *recorder) end() []string {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	return r.errs
}

func TestNewReportsOnTheTest(t *testing.T) {
	t.Parallel()
	welcome := sendiventtest.WithEvent("welcome", sendiventtest.Send(sendivent.ChannelEmail))
	ctx := context.Background()
	tests := []struct {
		name string
		opts []sendiventtest.Option
		run  func(srv *sendiventtest.Server, c *sendivent.Client)
		want []string
	}{
		{"clean run", []sendiventtest.Option{welcome}, func(srv *sendiventtest.Server, c *sendivent.Client) {
			srv.Inject(sendiventtest.FailNext(1, 503))
			_, err := c.Event("welcome").To(alice).Send(ctx)
			require.NoError(t, err)
		}, nil},
		{"misspelt event", []sendiventtest.Option{welcome, sendiventtest.WithEvent("otp")}, func(_ *sendiventtest.Server, c *sendivent.Client) {
			_, err := c.Event("welcom").To(alice).Send(ctx) // an application may only log this
			require.ErrorIs(t, err, sendivent.ErrNotFound)
			_, err = c.Cancel(ctx, "drip", alice)
			require.ErrorIs(t, err, sendivent.ErrNotFound)
		}, []string{"sendiventtest: requests named events that are not declared (declared: otp, welcome):\n" +
			"\tPOST /v1/send/welcom\n\tPOST /v1/cancel/drip"}},
		{"no catalogue: every event exists", nil, func(_ *sendiventtest.Server, c *sendivent.Client) {
			_, err := c.Event("anything").To(alice).Send(ctx)
			require.NoError(t, err)
		}, nil},
		{"scripts never used up", []sendiventtest.Option{welcome}, func(srv *sendiventtest.Server, c *sendivent.Client) {
			srv.Inject(
				sendiventtest.FailNext(2, 503).WithRetryAfter("0"),
				sendiventtest.DropNext(1).On(sendiventtest.EndpointCancel),
			)
			_, err := srv.Client(sendivent.WithMaxRetries(0)).Event("welcome").To(alice).Send(ctx)
			require.ErrorIs(t, err, sendivent.ErrServer)
		}, []string{"sendiventtest: fault scripts never used up:\n" +
			"\tFailNext(1, 503).WithRetryAfter(\"0\")\n\tDropNext(1).On(\"cancel\")"}},
		{"reset forgets", []sendiventtest.Option{welcome}, func(srv *sendiventtest.Server, c *sendivent.Client) {
			srv.Inject(sendiventtest.FailNext(1, 500))
			_, _ = c.Event("welcom").To(alice).Send(ctx)
			srv.Inject(sendiventtest.FailNext(1, 500))
			srv.Reset()
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{TB: t}
			srv := sendiventtest.New(rec, tt.opts...)
			tt.run(srv, srv.Client())
			assert.Equal(t, tt.want, rec.end())

			// The server is closed.
			_, err := http.Get(srv.URL + "/v1/notifications/x")
			assert.Error(t, err)
		})
	}
}
