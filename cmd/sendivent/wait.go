package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"

	"github.com/sendivent/sendivent-go"
)

// waitFlags are the polling flags of wait and send --wait.
type waitFlags struct {
	enabled       bool // send's --wait; always true for wait
	poll, pollMax time.Duration
}

func (f *waitFlags) addFlags(cmd *cobra.Command, optional bool) {
	fs := cmd.Flags()
	if optional {
		fs.BoolVar(&f.enabled, "wait", false, "follow each notification until it is completed, failed or stopped")
	} else {
		f.enabled = true
	}
	fs.DurationVar(&f.poll, "poll", sendivent.DefaultPollMin, "first delay between status polls; it doubles up to --poll-max")
	fs.DurationVar(&f.pollMax, "poll-max", sendivent.DefaultPollMax, "longest delay between status polls")
}

// options are the SDK's wait options for the flags. With --timeout the
// wait may last that long; without, the SDK's bound (10 minutes) holds.
func (f *waitFlags) options(timeout time.Duration) []sendivent.WaitOption {
	opts := []sendivent.WaitOption{sendivent.PollEvery(f.poll, max(f.pollMax, f.poll))}
	if timeout > 0 {
		opts = append(opts, sendivent.WaitAtMost(timeout))
	}
	return opts
}

func (f *waitFlags) validate() error {
	if f.poll <= 0 || f.pollMax <= 0 {
		return usagef("--poll and --poll-max must be positive durations, such as 1s")
	}
	return nil
}

// follow watches notification id until it is terminal, showing each change
// with show (nil: none), and returns the last state seen.
func (a *app) follow(ctx context.Context, c *sendivent.Client, id string, opts []sendivent.WaitOption, show func(*sendivent.Notification)) (*sendivent.Notification, error) {
	var last *sendivent.Notification
	for n, err := range c.Watch(ctx, id, opts...) {
		if err != nil {
			return last, err
		}
		last = n
		if show != nil {
			show(n)
		}
	}
	return last, nil
}

// changePrinter shows a notification's changes: a JSON object per line under
// --json, else a status line, rewritten in place when stdout is a terminal.
// Call end when the changes are over.
func (a *app) changePrinter() (show func(*sendivent.Notification), end func()) {
	live := &liveLine{w: a.stdout}
	return func(n *sendivent.Notification) {
		switch {
		case a.conn.json:
			writeJSON(a.stdout, notificationView(n))
		case a.stdoutTTY:
			live.show(statusLine(n))
		default:
			a.println(statusLine(n))
		}
	}, live.end
}

func (a *app) println(s string) { _, _ = a.stdout.Write([]byte(s + "\n")) }

const waitLong = `Follow a notification until it is completed, failed or stopped, polling
GET /v1/notifications/{id}.

On a terminal it shows one status line, rewritten as the notification
changes. Piped, it prints one line per change:

  ID STATUS CHANNEL:MESSAGE-STATUS ["failure reason"] …

and under --json one JSON object per change, the last one terminal. It exits
0 when the notification completed and 6 when it failed or was stopped; the
wait is bounded by --timeout (default 10 minutes).`

func newWaitCmd(a *app) *cobra.Command {
	var f waitFlags
	cmd := &cobra.Command{
		Use:   "wait ID",
		Short: "Follow a notification until it is completed, failed or stopped",
		Long:  waitLong,
		Example: `  sendivent wait 3f0c8a1e-…
  sendivent wait 3f0c8a1e-… --timeout 2m --json | jq -r .status
  id=$(sendivent send welcome --to alice@example.com --json | jq -r .id) && sendivent wait "$id"`,
		Args: exactArgs("ID"),
	}
	f.addFlags(cmd, false)
	a.apiRun(cmd, func(ctx context.Context, c *sendivent.Client, args []string) error {
		if err := f.validate(); err != nil {
			return err
		}
		show, end := a.changePrinter()
		n, err := a.follow(ctx, c, args[0], f.options(a.conn.timeout), show)
		end()
		if err != nil {
			return err
		}
		return notComplete([]*sendivent.Notification{n})
	})
	return cmd
}

func newStatusCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status ID",
		Short: "Show a notification's status and messages",
		Long: `Show a notification's status and its messages (one per channel attempt):
GET /v1/notifications/{id}. An unknown id is an API error (exit 3).`,
		Example: `  sendivent status 3f0c8a1e-…
  sendivent status 3f0c8a1e-… --json | jq '.messages[] | {channel, status}'`,
		Args: exactArgs("ID"),
	}
	a.apiRun(cmd, func(ctx context.Context, c *sendivent.Client, args []string) error {
		n, err := c.GetNotification(ctx, args[0])
		if err != nil {
			return err
		}
		if a.conn.json {
			writeJSON(a.stdout, notificationView(n))
		} else {
			printNotification(a.stdout, n)
		}
		return nil
	})
	return cmd
}
