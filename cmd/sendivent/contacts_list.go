package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/sendivent/sendivent-go"
)

const listLong = `List contacts: GET /v1/contacts?search=&limit=&offset=. --search matches
name, email, phone and user id. Without --all it prints one page: --limit
contacts (1 to 100; default the service's, 50) from --offset. With --all it
reads every page from --offset on (--limit is then the page size, default
100), printing each page as it comes.

Output:
  on a terminal  a table (UUID, ID, EMAIL, PHONE, NAME, LANGUAGE; "-" for
                 none), then how many there are and how to see more
  piped          one line per contact, no header: the same six fields,
                 separated by tabs, an empty field empty
  --json         one JSON object per contact per line (JSON Lines, as
                 'contacts get --json' prints one), nothing else; with
                 --all it streams; 'jq -s' makes an array

Control characters in the service's values are printed as spaces, except
under --json.`

type listFlags struct {
	search        string
	limit, offset int
	all           bool
}

func newContactsListCmd(a *app) *cobra.Command {
	var f listFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List contacts, or search them",
		Long:  listLong,
		Example: `  sendivent contacts list
  sendivent contacts list --search ada --limit 10
  sendivent contacts list --all | cut -f3              # every email address
  sendivent contacts list --all --json | jq -r 'select(.language == "sv") | .uuid'`,
		Args: exactArgs(),
	}
	fs := cmd.Flags()
	fs.StringVar(&f.search, "search", "", "only contacts whose name, email, phone or user id contains `TEXT`")
	fs.IntVar(&f.limit, "limit", 0, "`N` contacts a page, 1 to 100 (default 50, or 100 with --all)")
	fs.IntVar(&f.offset, "offset", 0, "start after the first `N` contacts")
	fs.BoolVar(&f.all, "all", false, "list every contact, reading page after page")
	a.apiRun(cmd, func(ctx context.Context, c *sendivent.Client, _ []string) error {
		p := sendivent.ContactListParams{Search: f.search, Limit: f.limit, Offset: f.offset}
		out := a.newContactLister(p.Limit)
		if !f.all {
			page, err := c.Contacts.ListPage(ctx, p)
			if err != nil {
				return err
			}
			for i := range page.Items {
				out.add(&page.Items[i])
			}
			out.end(pageFooter(page, f))
			return nil
		}
		if p.Limit == 0 {
			p.Limit = sendivent.MaxPageSize
			out.chunk = p.Limit
		}
		for sc, err := range c.Contacts.List(ctx, p) {
			if err != nil {
				out.end("")
				return err
			}
			out.add(sc)
		}
		out.end(countFooter(out.rows, f.search))
		return nil
	})
	return cmd
}

// pageFooter says, under the table of one page, which contacts it shows
// and how to see more.
func pageFooter(p *sendivent.Page[sendivent.StoredContact], f listFlags) string {
	n := len(p.Items)
	if n == 0 {
		if f.offset > 0 && p.HasTotal && p.Total > 0 {
			return fmt.Sprintf("no contacts after the first %d (of %d)", f.offset, p.Total)
		}
		return countFooter(0, f.search)
	}
	s := fmt.Sprintf("contacts %d–%d", p.Offset+1, p.Offset+n)
	switch {
	case !p.HasTotal:
		return s
	case p.Offset+n >= p.Total:
		return s + " of " + strconv.Itoa(p.Total)
	}
	return fmt.Sprintf("%s of %d; --all lists every one, --offset %d the next page", s, p.Total, p.Offset+n)
}

func countFooter(n int, search string) string {
	s := strconv.Itoa(n) + " contacts"
	switch n {
	case 0:
		s = "no contacts"
	case 1:
		s = "1 contact"
	}
	if search != "" {
		verb := " match"
		if n == 1 {
			verb = " matches"
		}
		s += fmt.Sprintf("%s %q", verb, search)
	}
	return s
}
