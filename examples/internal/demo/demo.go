// Package demo connects the examples to Sendivent: to the real API when
// SENDIVENT_API_KEY is set, and otherwise to an in-process fake server, so
// every example runs on a fresh machine with no account.
package demo

import (
	"fmt"
	"os"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// Env is where an example runs.
type Env struct {
	Client *sendivent.Client
	// Fake is the fake server, or nil against the real API.
	Fake *sendiventtest.Server
	// Poll is how often to check a notification: quick on the fake, the
	// SDK's defaults on the real API.
	Poll []sendivent.WaitOption
}

// Connect returns the client to use. fakeOpts configure the fake server.
// Call Close when done.
func Connect(fakeOpts ...sendiventtest.Option) (*Env, error) {
	if os.Getenv("SENDIVENT_API_KEY") != "" {
		c, err := sendivent.NewClient("")
		if err != nil {
			return nil, err
		}
		fmt.Println("using the Sendivent API (SENDIVENT_API_KEY is set)")
		return &Env{Client: c}, nil
	}
	srv := sendiventtest.NewServer(fakeOpts...)
	fmt.Println("using the built-in fake server (set SENDIVENT_API_KEY to use the real API)")
	return &Env{
		Client: srv.Client(),
		Fake:   srv,
		Poll:   []sendivent.WaitOption{sendivent.PollEvery(20*time.Millisecond, 100*time.Millisecond)},
	}, nil
}

// Close stops the fake server, if there is one.
func (e *Env) Close() {
	if e.Fake != nil {
		e.Fake.Close()
	}
}

// Recipient is who the examples send to: $SENDIVENT_EXAMPLE_TO, or an
// address that routes nowhere.
func Recipient() string {
	if to := os.Getenv("SENDIVENT_EXAMPLE_TO"); to != "" {
		return to
	}
	return "test@example.com"
}

// Describe prints a notification's status and its messages on one line.
func Describe(n *sendivent.Notification) string {
	s := fmt.Sprintf("%-9s", n.Status)
	for _, m := range n.Messages {
		s += fmt.Sprintf("  %s: %s", m.Channel, m.Status)
		if m.Error != "" {
			s += " (" + m.Error + ")"
		}
	}
	return s
}
