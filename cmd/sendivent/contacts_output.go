package main

import (
	"bytes"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/sendivent/sendivent-go"
)

// storedFields is StoredContact's fields and JSON names without its
// methods, for contactJSON to embed.
type storedFields sendivent.StoredContact

// contactJSON is a contact as --json prints it: the SDK's fields under the
// contacts API's snake_case names (whichever spelling the service used),
// with a timestamp the service did not give left out rather than year 1.
type contactJSON struct {
	storedFields
	CreatedAt *time.Time `json:"created_at,omitempty"`
	UpdatedAt *time.Time `json:"updated_at,omitempty"`
}

func newContactJSON(c *sendivent.StoredContact) contactJSON {
	v := contactJSON{storedFields: storedFields(*c)}
	if !c.CreatedAt.IsZero() {
		v.CreatedAt = &c.CreatedAt
	}
	if !c.UpdatedAt.IsZero() {
		v.UpdatedAt = &c.UpdatedAt
	}
	return v
}

// printContact prints one contact: a JSON object under --json, else a
// field per line.
func (a *app) printContact(c *sendivent.StoredContact) {
	if a.conn.json {
		writeJSON(a.stdout, newContactJSON(c))
		return
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, clean(v))
		}
	}
	line("uuid", c.UUID)
	line("id", c.ExternalID)
	line("email", c.Email)
	line("phone", c.Phone)
	line("name", c.Name)
	line("avatar", c.Avatar)
	line("username", c.Username)
	line("slack", c.Slack)
	line("telegram", c.Telegram)
	line("discord", c.Discord)
	line("language", c.Language)
	for _, t := range c.PushTokens {
		line("push token", t)
	}
	if len(c.Meta) > 0 {
		line("meta", compactJSON(c.Meta))
	}
	if !c.CreatedAt.IsZero() {
		line("created", stamp(c.CreatedAt))
	}
	if !c.UpdatedAt.IsZero() {
		line("updated", stamp(c.UpdatedAt))
	}
	tw.Flush()
}

// contactLister prints a listing's contacts as they come: a JSON object per
// line under --json, a table on a terminal, else a tab-separated line each.
// The table is aligned a chunk of rows at a time (a page), so that a long
// --all listing shows as it comes rather than at the end.
type contactLister struct {
	a     *app
	tw    *tabwriter.Writer // the terminal's table; nil otherwise
	chunk int               // the table is aligned and flushed every chunk rows
	rows  int
}

// listChunk is how many rows of a terminal's table are aligned together
// when the page size is the service's default.
const listChunk = 50

func (a *app) newContactLister(pageSize int) *contactLister {
	l := &contactLister{a: a, chunk: pageSize}
	if l.chunk <= 0 {
		l.chunk = listChunk
	}
	if a.stdoutTTY && !a.conn.json {
		l.tw = tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	}
	return l
}

// contactColumns are the fields of a listing's table and lines.
func contactColumns(c *sendivent.StoredContact) []string {
	return []string{c.UUID, c.ExternalID, c.Email, c.Phone, c.Name, c.Language}
}

func (l *contactLister) add(c *sendivent.StoredContact) {
	a := l.a
	cols := contactColumns(c)
	for i, s := range cols {
		cols[i] = clean(s)
	}
	switch {
	case a.conn.json:
		writeJSON(a.stdout, newContactJSON(c))
	case l.tw != nil:
		switch {
		case l.rows == 0:
			fmt.Fprintln(l.tw, "UUID\tID\tEMAIL\tPHONE\tNAME\tLANGUAGE")
		case l.rows%l.chunk == 0:
			l.tw.Flush()
		}
		for i, s := range cols {
			if s == "" {
				cols[i] = "-"
			}
		}
		fmt.Fprintln(l.tw, strings.Join(cols, "\t"))
	default:
		a.println(strings.Join(cols, "\t"))
	}
	l.rows++
}

// end flushes the table, and on a terminal prints footer after it.
func (l *contactLister) end(footer string) {
	if l.tw == nil {
		return
	}
	l.tw.Flush()
	if footer != "" {
		l.a.println(footer)
	}
}

// clean makes a value from the service safe to print as one field of one
// line: control characters (tab, newline, escape sequences that would
// drive the terminal) become spaces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// compactJSON is v as one line of JSON, without HTML escaping.
func compactJSON(v any) string {
	var b bytes.Buffer
	writeJSON(&b, v)
	return strings.TrimSuffix(b.String(), "\n")
}
