package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sendivent/sendivent-go"
)

func newCancelCmd(a *app) *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "cancel EVENT --to RECIPIENT",
		Short: "Stop an event's unfinished notifications for one recipient",
		Long: `Stop the notifications of EVENT for one recipient that have not finished:
POST /v1/cancel/{event}. Their status becomes stopped; messages already sent
are not recalled. --to takes the forms of 'sendivent send --to'. Cancelling
when nothing is pending is not an error: it reports 0.`,
		Example: `  sendivent cancel onboarding-drip --to alice@example.com
  sendivent cancel trial-reminders --to id=user-42 --json`,
		Args: exactArgs("EVENT"),
	}
	cmd.Flags().StringVar(&to, "to", "", "cancel for `RECIPIENT`: an address, key=value contact fields, or a JSON contact")
	_ = cmd.MarkFlagRequired("to")
	a.apiRun(cmd, func(ctx context.Context, c *sendivent.Client, args []string) error {
		r, err := parseRecipient(to)
		if err != nil {
			return err
		}
		res, err := c.Cancel(ctx, args[0], r)
		if err != nil {
			return err
		}
		if a.conn.json {
			writeJSON(a.stdout, map[string]any{"success": res.Success, "cancelled": res.Cancelled})
			return nil
		}
		fmt.Fprintf(a.stdout, "cancelled %d notification(s) of %s\n", res.Cancelled, args[0])
		return nil
	})
	return cmd
}
