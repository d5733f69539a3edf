package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sendivent/sendivent-go"
)

// contactFlags are the flags of contacts upsert and update that make the
// contact to send.
type contactFlags struct {
	fields    []fieldValue // the field flags, in the order given
	contact   string       // --contact
	meta      []string     // --meta KEY=VALUE
	extraJSON string       // --extra-json
}

// fieldValue is one contact field flag as given.
type fieldValue struct {
	f contactField
	v string
}

// fieldFlag is the flag of a contact field. It keeps every value given, so
// that a field given twice is an error, as it is in the key=value form,
// rather than the last one winning.
type fieldFlag struct {
	f    contactField
	into *[]fieldValue
}

func (v fieldFlag) String() string { return "" }
func (v fieldFlag) Type() string   { return "string" }
func (v fieldFlag) Set(s string) error {
	*v.into = append(*v.into, fieldValue{v.f, s})
	return nil
}

func (f *contactFlags) add(cmd *cobra.Command) {
	fs := cmd.Flags()
	for _, cf := range contactFieldList {
		fs.Var(fieldFlag{cf, &f.fields}, cf.key, cf.usage)
	}
	fs.StringArrayVar(&f.meta, "meta", nil, "your own data as `KEY=VALUE`, a string, for templates' {{contact.meta.KEY}} (repeatable)")
	fs.StringVar(&f.contact, "contact", "", "start from `CONTACT`: key=value fields or a JSON object, as send --to takes, or @FILE; the flags add to it")
	fs.StringVar(&f.extraJSON, "extra-json", "", "fields the SDK does not model, as a `JSON` object, or @FILE, or @- for stdin (the service keeps them in meta)")
}

// build makes the contact from the flags: --contact, then each field
// flag, --meta and --extra-json. A field or meta key given twice, by flags
// or by a flag and --contact, is an error. The SDK checks the rest (an
// E.164 phone, an email's form, extra fields that clash with modelled ones).
func (f *contactFlags) build(ctx context.Context, stdin *stdinReader) (sendivent.Contact, error) {
	var c sendivent.Contact
	if f.contact != "" {
		in, err := readArg(ctx, "--contact", f.contact, stdin)
		if err != nil {
			return c, err
		}
		var ok bool
		if c, ok, err = parseContact(in); err != nil {
			return c, err
		} else if !ok {
			return c, in.errorf("neither key=value contact fields (keys: %s) nor a JSON object", contactKeyList())
		}
	}
	inContact := map[string]bool{}
	for _, cf := range contactFieldList {
		inContact[cf.key] = cf.str != nil && *cf.str(&c) != ""
	}
	for _, fv := range f.fields {
		if inContact[fv.f.key] {
			return c, usagef("--%s: --contact gives %s already", fv.f.key, fv.f.key)
		}
		if err := fv.f.set(&c, fv.v, "--"+fv.f.key); err != nil {
			return c, err
		}
	}
	if len(f.meta) > 0 {
		m, err := parsePairs("--meta", f.meta)
		if err != nil {
			return c, err
		}
		if c.Meta == nil {
			c.Meta = map[string]any{}
		}
		for i, pair := range f.meta {
			k, _, _ := strings.Cut(pair, "=")
			if _, dup := c.Meta[k]; dup {
				return c, usagef("--meta value %d: its key is in the meta of --contact too", i+1)
			}
			c.Meta[k] = m[k]
		}
	}
	if f.extraJSON != "" {
		extra, err := parseObjectArg(ctx, "--extra-json", f.extraJSON, stdin)
		if err != nil {
			return c, err
		}
		c.Extra = extra
	}
	return c, nil
}

const upsertLong = `Create a contact, or update the one that any of its identifiers (--id,
--email, --phone) matches: POST /v1/contacts. At least one of the three is
needed. The fields given replace the stored ones; push tokens and meta keys
add to them. Prints the contact as stored.

Fields come from flags, or from --contact in the forms of 'sendivent send
--to' (email=ada@example.com,name=Ada or a JSON object such as
'{"email":"ada@example.com","meta":{"seats":3}}', or @FILE), which the flags
add to. --meta values are strings; use --contact's JSON for numbers and
nested meta. --extra-json sends fields the SDK does not model, as they are;
the service keeps unknown fields in meta (snake_case keys in camelCase).`

func newContactsUpsertCmd(a *app) *cobra.Command {
	var f contactFlags
	cmd := &cobra.Command{
		Use:   "upsert (--email ADDRESS | --phone NUMBER | --id ID) [flags]",
		Short: "Create a contact, or update the one its identifiers match",
		Long:  upsertLong,
		Example: `  sendivent contacts upsert --email ada@example.com --name "Ada Lovelace"
  sendivent contacts upsert --id user-42 --phone +46701234567 --language sv --meta plan=pro
  sendivent contacts upsert --contact @ada.json --json
  sendivent contacts upsert --email ada@example.com --extra-json '{"account_credits":100}'`,
		Args: exactArgs(),
	}
	f.add(cmd)
	a.apiRun(cmd, func(ctx context.Context, c *sendivent.Client, _ []string) error {
		contact, err := f.build(ctx, a.in)
		if err != nil {
			return err
		}
		if contact.ID == "" && contact.Email == "" && contact.Phone == "" {
			return usagef("an upsert needs --email, --phone or --id: the identifiers the service matches a contact on")
		}
		sc, err := c.Contacts.Upsert(ctx, contact)
		if err != nil {
			return err
		}
		a.printContact(sc)
		return nil
	})
	return cmd
}

func newContactsUpdateCmd(a *app) *cobra.Command {
	var f contactFlags
	cmd := &cobra.Command{
		Use:   "update IDENTIFIER [flags]",
		Short: "Change fields of an existing contact",
		Long: `Change the fields given on the contact that IDENTIFIER names, which must
exist: PATCH /v1/contacts/{identifier}. The flags are those of upsert; what
is not given stays as it is (a field cannot be emptied), push tokens and
meta keys add to the stored ones, and giving nothing is an error. Prints
the contact as stored.`,
		Example: `  sendivent contacts update ada@example.com --language sv
  sendivent contacts update user-42 --email ada@new.example.com --meta plan=team --json`,
		Args: exactArgs("IDENTIFIER"),
	}
	f.add(cmd)
	a.apiRun(cmd, func(ctx context.Context, c *sendivent.Client, args []string) error {
		contact, err := f.build(ctx, a.in)
		if err != nil {
			return err
		}
		sc, err := c.Contacts.Update(ctx, args[0], contact)
		if err != nil {
			return contactError(args[0], err)
		}
		a.printContact(sc)
		return nil
	})
	return cmd
}
