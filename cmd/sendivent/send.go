package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/sendivent/sendivent-go"
)

const sendLong = `Send an event to one or more recipients: POST /v1/send/{event}.

Each --to is one recipient, and makes one notification. It takes:
  an identifier the service resolves:  alice@example.com, +46701234567 (E.164),
                                       a contact UUID, your user id, U123ABC (Slack)
  a contact, as key=value pairs:       email=alice@example.com,name=Alice,language=sv
                                       (keys: id, email, phone, name, slack, telegram,
                                       discord, push (repeatable), language)
  a contact, as a JSON object:         '{"email":"alice@example.com","meta":{"plan":"pro"}}'

Template variables come from --payload key=value (repeatable; values are
strings, keys are flat) or from --payload-json with a JSON object, inline or
@FILE (@- reads stdin), for numbers, lists and nested objects.

Every send carries an idempotency key: pass --idempotency-key to make a
retried command safe (the service answers a repeat from the first send and
sends nothing); without one a fresh key is made and printed.

With --wait, the command follows each notification to completed, failed or
stopped, printing a line per change (rewritten in place on a terminal), and
exits 6 if one did not complete.`

const sendExample = `  sendivent send welcome --to alice@example.com --payload company=ACME
  sendivent send otp --to +46701234567 --channel sms --payload code=123456 --wait
  sendivent send invoice --to email=bob@example.com,name=Bob --payload-json @invoice.json
  sendivent send order-shipped --to alice@example.com --idempotency-key order-42-shipped --json
  sendivent send digest --to alice@example.com --to bob@example.com --language sv`

type sendFlags struct {
	to          []string
	channel     string
	payload     []string
	payloadJSON string
	language    string
	idemKey     string
	wait        waitFlags
}

func newSendCmd(a *app) *cobra.Command {
	var f sendFlags
	cmd := &cobra.Command{
		Use:     "send EVENT --to RECIPIENT [flags]",
		Short:   "Send an event to one or more recipients",
		Long:    sendLong,
		Example: sendExample,
		Args:    exactArgs("EVENT"),
	}
	fs := cmd.Flags()
	fs.StringArrayVar(&f.to, "to", nil, "one `RECIPIENT`: an address, key=value contact fields, or a JSON contact (repeatable)")
	fs.StringVar(&f.channel, "channel", "", "force a `CHANNEL`: email, sms, slack, push, telegram, whatsapp or discord (default: the service routes)")
	fs.StringArrayVar(&f.payload, "payload", nil, "template variable as `KEY=VALUE`, a string (repeatable)")
	fs.StringVar(&f.payloadJSON, "payload-json", "", "template variables as a `JSON` object, or @FILE, or @- for stdin")
	fs.StringVar(&f.language, "language", "", "template `LANGUAGE`, such as sv")
	fs.StringVar(&f.idemKey, "idempotency-key", "", "idempotency `KEY`, to make repeating this send safe (default: a fresh one)")
	f.wait.addFlags(cmd, true)
	_ = cmd.MarkFlagRequired("to")
	cmd.MarkFlagsMutuallyExclusive("payload", "payload-json")

	a.apiRun(cmd, func(ctx context.Context, c *sendivent.Client, args []string) error {
		req, err := f.request(ctx, a)
		if err != nil {
			return err
		}
		if f.wait.enabled {
			if err := f.wait.validate(); err != nil {
				return err
			}
		}
		res, err := c.Send(ctx, args[0], req)
		if err != nil {
			var api *sendivent.APIError
			if res != nil && errors.As(err, &api) { // rejected: show what came back
				a.printSendResult(res, nil)
			}
			return err
		}
		if !f.wait.enabled {
			a.printSendResult(res, nil)
			return nil
		}
		if !a.conn.json {
			printSend(a.stdout, res)
		}
		// Under --json the one object printed at the end holds every final
		// state; otherwise each notification's changes show as they come.
		var finals []*sendivent.Notification
		for _, id := range notificationIDs(res) {
			var show func(*sendivent.Notification)
			end := func() {}
			if !a.conn.json {
				show, end = a.changePrinter()
			}
			n, err := a.follow(ctx, c, id, f.wait.options(a.conn.timeout), show)
			end()
			if err != nil {
				if a.conn.json { // the send happened: its id must reach the script
					a.printSendResult(res, finals)
				}
				return err
			}
			finals = append(finals, n)
		}
		if a.conn.json {
			a.printSendResult(res, finals)
		}
		return notComplete(finals)
	})
	return cmd
}

// request builds the SendRequest from the flags.
func (f *sendFlags) request(ctx context.Context, a *app) (sendivent.SendRequest, error) {
	req := sendivent.SendRequest{
		Channel:        sendivent.Channel(f.channel),
		Language:       f.language,
		IdempotencyKey: f.idemKey,
	}
	for _, s := range f.to {
		r, err := parseRecipient(s)
		if err != nil {
			return req, err
		}
		req.To = append(req.To, r)
	}
	var (
		p   map[string]any
		err error
	)
	switch {
	case f.payloadJSON != "":
		p, err = parseObjectArg(ctx, "--payload-json", f.payloadJSON, a.in)
	case len(f.payload) > 0:
		p, err = parsePairs("--payload", f.payload)
	}
	if p != nil {
		req.Payload = sendivent.Payload(p)
	}
	return req, err
}

func (a *app) printSendResult(res *sendivent.SendResponse, finals []*sendivent.Notification) {
	if !a.conn.json {
		printSend(a.stdout, res)
		return
	}
	v := newSendView(res)
	for _, n := range finals {
		v.Results = append(v.Results, notificationView(n))
	}
	writeJSON(a.stdout, v)
}

// notComplete is the error for the first notification that ended failed or
// stopped, or nil when all completed.
func notComplete(ns []*sendivent.Notification) error {
	for _, n := range ns {
		if n == nil {
			return errors.New("the wait ended without a state")
		}
		if n.Status != sendivent.StatusCompleted {
			return &notCompleteError{n: n}
		}
	}
	return nil
}
