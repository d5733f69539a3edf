package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sendivent/sendivent-go"
)

const contactsLong = `Read and change the contacts Sendivent stores: the people notifications go
to. Sends create and update contacts too; these commands manage them
directly, through /v1/contacts.

IDENTIFIER names one contact: its UUID, your own user id (its id), its email
address or its phone number in E.164; it is escaped in the URL for you.

An unknown contact is an API error, exit 3, and the message says "not
found". (The live sandbox has been reported to answer 500 instead; that is
exit 3 too, with the service's message.)`

const contactsExample = `  sendivent contacts upsert --email ada@example.com --name "Ada Lovelace" --id user-42
  sendivent contacts get ada@example.com
  sendivent contacts list --search ada
  sendivent contacts update user-42 --language sv --meta plan=pro
  sendivent contacts push-token add user-42 ExponentPushToken[xxxxxxxx]
  sendivent contacts delete user-42`

func newContactsCmd(a *app) *cobra.Command {
	return newGroupCmd(&cobra.Command{
		Use:     "contacts",
		Short:   "Create, show, list, change and delete contacts, and their push tokens",
		Long:    contactsLong,
		Example: contactsExample,
	},
		newContactsGetCmd(a),
		newContactsListCmd(a),
		newContactsUpsertCmd(a),
		newContactsUpdateCmd(a),
		newContactsDeleteCmd(a),
		newGroupCmd(&cobra.Command{
			Use:   "push-token",
			Short: "Register or unregister a device's push token on a contact",
			Long: `Register a device's push token on a contact, so that the push channel can
reach it, or unregister one (the device logged out). A contact has a token
per device: registering adds one (twice is once), removing takes one away
(removing one the contact lacks is not an error).`,
			Example: `  sendivent contacts push-token add user-42 ExponentPushToken[xxxxxxxx]
  sendivent contacts push-token remove ada@example.com ExponentPushToken[xxxxxxxx]`,
		},
			newPushTokenCmd(a, true),
			newPushTokenCmd(a, false),
		),
	)
}

// newGroupCmd makes cmd a command that only holds subcommands. Alone it
// prints its help; with an argument that names no subcommand it is a usage
// error (cobra's default, for a command below the root, prints the help
// and exits 0, which hides a typo from a script).
func newGroupCmd(cmd *cobra.Command, subs ...*cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.SuggestionsMinimumDistance = 2
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(quoteAll(s), " or ") + "?"
		}
		return usagef("%s", msg)
	}
	cmd.AddCommand(subs...)
	return cmd
}

func quoteAll(s []string) []string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return q
}

func newContactsGetCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get IDENTIFIER",
		Short: "Show a contact",
		Long: `Show the contact that IDENTIFIER names (its UUID, your user id, its email
address or phone number): GET /v1/contacts/{identifier}. --json prints the
contact as one JSON object.`,
		Example: `  sendivent contacts get ada@example.com
  sendivent contacts get +46701234567 --json | jq -r .uuid`,
		Args: exactArgs("IDENTIFIER"),
	}
	a.apiRun(cmd, func(ctx context.Context, c *sendivent.Client, args []string) error {
		sc, err := c.Contacts.Get(ctx, args[0])
		if err != nil {
			return contactError(args[0], err)
		}
		a.printContact(sc)
		return nil
	})
	return cmd
}

func newContactsDeleteCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete IDENTIFIER",
		Short: "Delete a contact for good",
		Long: `Delete the contact that IDENTIFIER names, for good (for erasure under GDPR):
DELETE /v1/contacts/{identifier}. There is no undo and no prompt. Deleting a
contact that does not exist is exit 3, "not found": a script that wants it
gone either way can accept that (--json puts "status":404 on stderr).`,
		Example: `  sendivent contacts delete user-42
  sendivent contacts delete ada@example.com --json`,
		Args: exactArgs("IDENTIFIER"),
	}
	a.apiRun(cmd, func(ctx context.Context, c *sendivent.Client, args []string) error {
		if err := c.Contacts.Delete(ctx, args[0]); err != nil {
			return contactError(args[0], err)
		}
		if a.conn.json {
			writeJSON(a.stdout, map[string]any{"identifier": args[0], "deleted": true})
		} else {
			fmt.Fprintf(a.stdout, "deleted contact %s\n", clean(args[0]))
		}
		return nil
	})
	return cmd
}

func newPushTokenCmd(a *app, add bool) *cobra.Command {
	verb, past, to := "remove", "removed", "from"
	short := "Unregister a push token from a contact"
	long := `Unregister a push token from the contact that IDENTIFIER names (the device
logged out): DELETE /v1/contacts/{identifier}/push-tokens with {"token":
TOKEN}. Removing a token the contact lacks is not an error.`
	if add {
		verb, past, to = "add", "added", "to"
		short = "Register a device's push token on a contact"
		long = `Register a device's push token on the contact that IDENTIFIER names:
POST /v1/contacts/{identifier}/push-tokens with {"token": TOKEN}. Tokens add
up, one per device; registering one twice keeps one. The service tells the
provider (Expo, FCM, APNs) by the token's form.`
	}
	cmd := &cobra.Command{
		Use:   verb + " IDENTIFIER TOKEN",
		Short: short,
		Long:  long,
		Example: "  sendivent contacts push-token " + verb + " user-42 ExponentPushToken[xxxxxxxx]\n" +
			"  sendivent contacts push-token " + verb + " ada@example.com \"$FCM_TOKEN\" --json",
		Args: exactArgs("IDENTIFIER", "TOKEN"),
	}
	a.apiRun(cmd, func(ctx context.Context, c *sendivent.Client, args []string) error {
		change := c.Contacts.RemovePushToken
		if add {
			change = c.Contacts.AddPushToken
		}
		if err := change(ctx, args[0], args[1]); err != nil {
			return contactError(args[0], err)
		}
		if a.conn.json {
			writeJSON(a.stdout, map[string]any{"identifier": args[0], past: true})
		} else {
			fmt.Fprintf(a.stdout, "push token %s %s contact %s\n", past, to, clean(args[0]))
		}
		return nil
	})
	return cmd
}

// notFoundError is the service's 404 for a contact, said first; the
// service's own words follow, as a 404 from a wrong --api-url reads the
// same to the SDK.
type notFoundError struct {
	identifier string
	err        error
}

func (e *notFoundError) Error() string {
	return fmt.Sprintf("contact %q not found; the service answered: %s",
		e.identifier, strings.TrimPrefix(e.err.Error(), "sendivent: "))
}

func (e *notFoundError) Unwrap() error { return e.err }

// contactError is err, said as "not found" when it is a 404 about the
// contact that identifier names.
func contactError(identifier string, err error) error {
	if errors.Is(err, sendivent.ErrNotFound) {
		return &notFoundError{identifier: identifier, err: err}
	}
	return err
}
