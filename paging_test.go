package sendivent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
)

// Hostile servers for the listing iterators (Contacts.List,
// Deliveries.List). Property: against any server, a listing ends by itself
// (never by the caller's context), after a handful of requests; it yields
// each item at most once; and where reading on would repeat or skip items
// it ends with a *sendivent.PagingError, not in silence.

// pageAsk is what a listing request asked for.
type pageAsk struct{ offset, limit, n int } // n: the request's number, from 0

// pageAnswer is a hostile server's page: the items (by number), and the
// data members besides the items, as raw JSON ("" leaves one out).
type pageAnswer struct {
	items                []int
	total, limit, offset string
	item                 func(i int) string // the JSON of item i; nil: {"uuid": "x-<i>"}
}

type hostilePager func(pageAsk) pageAnswer

// honest serves n items from the asked offset, with the total, the limit
// and the offset.
func honest(n int) hostilePager {
	return func(a pageAsk) pageAnswer {
		return pageAnswer{items: itemRange(a.offset, min(a.offset+a.limit, n)),
			total: strconv.Itoa(n), limit: strconv.Itoa(a.limit), offset: strconv.Itoa(a.offset)}
	}
}

func itemRange(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// pageServer serves p as the contacts or deliveries listing, counting
// requests.
func pageServer(t *testing.T, key string, p hostilePager) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		off, _ := strconv.Atoi(q.Get("offset"))
		lim, _ := strconv.Atoi(q.Get("limit"))
		a := p(pageAsk{offset: off, limit: lim, n: int(n.Add(1) - 1)})
		items := make([]string, 0, len(a.items))
		for _, i := range a.items {
			if a.item != nil {
				items = append(items, a.item(i))
			} else {
				items = append(items, fmt.Sprintf(`{"uuid":"x-%d","channel":"email","status":"sent"}`, i))
			}
		}
		var data strings.Builder
		fmt.Fprintf(&data, `%q:[%s]`, key, strings.Join(items, ","))
		for _, m := range []struct{ k, v string }{{"total", a.total}, {"limit", a.limit}, {"offset", a.offset}} {
			if m.v != "" {
				fmt.Fprintf(&data, `,%q:%s`, m.k, m.v)
			}
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"success":true,"data":{%s}}`, data.String())
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// listing is one of the iterators, reduced to the UUIDs it yields.
type listing struct {
	key  string
	list func(ctx context.Context, c *sendivent.Client, limit int) iter.Seq2[string, error]
}

var listings = []listing{
	{"contacts", func(ctx context.Context, c *sendivent.Client, limit int) iter.Seq2[string, error] {
		return func(yield func(string, error) bool) {
			for it, err := range c.Contacts.List(ctx, sendivent.ContactListParams{Limit: limit}) {
				id := ""
				if it != nil {
					id = it.UUID + string(it.Raw)
				}
				if !yield(id, err) {
					return
				}
			}
		}
	}},
	{"deliveries", func(ctx context.Context, c *sendivent.Client, limit int) iter.Seq2[string, error] {
		return func(yield func(string, error) bool) {
			for it, err := range c.Deliveries.List(ctx, sendivent.DeliveryListParams{Limit: limit}) {
				id := ""
				if it != nil {
					id = it.UUID + string(it.Raw)
				}
				if !yield(id, err) {
					return
				}
			}
		}
	}},
}

func TestListingAgainstHostileServers(t *testing.T) {
	t.Parallel()
	const n, limit = 25, 10
	first := itemRange(0, limit)
	tests := []struct {
		name   string
		server hostilePager
		want   int  // items yielded
		paging bool // ends with a *PagingError (else with no error)
		maxReq int  // requests at most
	}{
		{"honest", honest(n), n, false, 3},
		{"ignores offset, echoes it as 0", func(a pageAsk) pageAnswer {
			return pageAnswer{items: first, total: "25", offset: "0"}
		}, limit, true, 2},
		{"ignores offset, echoes what was asked", func(a pageAsk) pageAnswer {
			return pageAnswer{items: first, total: "25", offset: strconv.Itoa(a.offset)}
		}, limit, true, 2},
		{"ignores offset, no total, no echo", func(a pageAsk) pageAnswer {
			return pageAnswer{items: first}
		}, limit, true, 2},
		{"ignores offset, items change but not their ids", func(a pageAsk) pageAnswer {
			return pageAnswer{items: first, item: func(i int) string {
				return fmt.Sprintf(`{"uuid":"x-%d","status":"sent","name":"v%d"}`, i, a.n)
			}}
		}, limit, true, 2},
		{"items without ids, the same page again", func(a pageAsk) pageAnswer {
			return pageAnswer{items: first, item: func(i int) string { return fmt.Sprintf(`{"email":"p%d@example.com"}`, i) }}
		}, limit, true, 2},
		{"two pages in turn, forever", func(a pageAsk) pageAnswer {
			return pageAnswer{items: itemRange((a.n%2)*limit, (a.n%2+1)*limit)}
		}, 2 * limit, true, 3},
		{"echoes an offset off by one", func(a pageAsk) pageAnswer {
			h := honest(n)(a)
			if a.offset > 0 {
				h.offset = strconv.Itoa(a.offset + 1)
			}
			return h
		}, limit, true, 2},
		{"echoes the offset as a string", func(a pageAsk) pageAnswer {
			h := honest(n)(a)
			h.offset = strconv.Quote(h.offset)
			return h
		}, n, false, 3},
		{"a total that grows with every page", func(a pageAsk) pageAnswer {
			return pageAnswer{items: itemRange(a.offset, a.offset+a.limit), total: strconv.Itoa(a.offset + 2*a.limit)}
		}, 2 * limit, false, 2},
		{"a total that grows, pages shorter than asked", func(a pageAsk) pageAnswer {
			return pageAnswer{items: itemRange(a.offset, a.offset+3), total: strconv.Itoa(a.offset + 100)}
		}, 102, false, 34}, // to the end of the page that reaches the first total
		{"pages bigger than asked, offset honoured", func(a pageAsk) pageAnswer {
			return pageAnswer{items: itemRange(a.offset, min(a.offset+15, n)), total: "25"}
		}, n, false, 2},
		{"every item on each page, a total that lies", func(a pageAsk) pageAnswer {
			return pageAnswer{items: itemRange(0, n), total: "30"}
		}, n, true, 2},
		{"pages that grow from 0, no total", func(a pageAsk) pageAnswer {
			return pageAnswer{items: itemRange(0, min(a.offset+a.limit, n))}
		}, n, true, 4},
		{"the same item twice on a page", func(a pageAsk) pageAnswer {
			h := honest(n)(a)
			h.items = append(h.items, h.items...)
			return h
		}, 0, true, 1},
		{"an empty page before the total", func(a pageAsk) pageAnswer {
			if a.offset > 0 {
				return pageAnswer{total: "25"}
			}
			return honest(n)(a)
		}, limit, true, 2},
		{"an overlap: items added before the offset meanwhile", func(a pageAsk) pageAnswer {
			from := max(a.offset-3, 0) // 3 new items pushed the rest back
			return pageAnswer{items: itemRange(from, min(from+a.limit, n)), total: "25"}
		}, n, false, 4},
	}
	for _, l := range listings {
		for _, tt := range tests {
			t.Run(l.key+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				srv, requests := pageServer(t, l.key, tt.server)
				c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL), sendivent.WithMaxRetries(0))
				require.NoError(t, err)
				defer c.CloseIdleConnections()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				seen := map[string]int{}
				var last error
				for id, err := range l.list(ctx, c, limit) {
					if err != nil {
						last = err
						continue
					}
					seen[id]++
				}
				require.NoError(t, ctx.Err(), "the listing ended only with the context, after %d requests", requests.Load())
				for id, k := range seen {
					assert.Equal(t, 1, k, "%s yielded %d times", id, k)
				}
				assert.Len(t, seen, tt.want)
				assert.LessOrEqual(t, int(requests.Load()), tt.maxReq)
				if !tt.paging {
					assert.NoError(t, last)
					return
				}
				var pe *sendivent.PagingError
				require.ErrorAs(t, last, &pe)
				assert.ErrorIs(t, last, sendivent.ErrMalformed)
				assert.Contains(t, pe.Error(), "offset "+strconv.Itoa(pe.Offset))
			})
		}
	}
}

// TestListingTotals: a total is read as a whole number or not at all; what
// cannot be read falls back to the page-size rule, which reads every item,
// instead of a total of 0 that stopped after the first page.
func TestListingTotals(t *testing.T) {
	t.Parallel()
	const n, limit = 25, 10
	tests := []struct {
		total    string
		hasTotal bool
		want     int
	}{
		{`25`, true, 25}, {`25.0`, true, 25}, {`2.5e1`, true, 25}, {`"25"`, true, 25},
		{`"lots"`, false, 0}, {`true`, false, 0}, {`null`, false, 0}, {`-1`, false, 0}, {`2.5`, false, 0},
		{`1e300`, false, 0}, {`9007199254740993000`, false, 0}, {`{}`, false, 0}, {`[25]`, false, 0}, {`""`, false, 0},
	}
	for _, l := range listings {
		for _, tt := range tests {
			t.Run(l.key+"/"+tt.total, func(t *testing.T) {
				t.Parallel()
				srv, requests := pageServer(t, l.key, func(a pageAsk) pageAnswer {
					return pageAnswer{items: itemRange(a.offset, min(a.offset+a.limit, n)), total: tt.total, limit: strconv.Itoa(a.limit)}
				})
				c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL))
				require.NoError(t, err)
				defer c.CloseIdleConnections()
				got := 0
				for _, err := range l.list(context.Background(), c, limit) {
					require.NoError(t, err)
					got++
				}
				assert.Equal(t, n, got, "every item, whatever the total says")
				assert.EqualValues(t, 3, requests.Load())

				page, err := c.Contacts.ListPage(context.Background(), sendivent.ContactListParams{Limit: limit})
				if l.key == "deliveries" {
					var dp *sendivent.Page[sendivent.Delivery]
					dp, err = c.Deliveries.ListPage(context.Background(), sendivent.DeliveryListParams{Limit: limit})
					require.NoError(t, err)
					assert.Equal(t, tt.hasTotal, dp.HasTotal)
					assert.Equal(t, tt.want, dp.Total)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, tt.hasTotal, page.HasTotal)
				assert.Equal(t, tt.want, page.Total)
			})
		}
	}
}

// TestListingPagingErrorJSON: the error says what went wrong without the
// server's words (a hostile server cannot write into it).
func TestListingPagingErrorText(t *testing.T) {
	t.Parallel()
	srv, _ := pageServer(t, "contacts", func(a pageAsk) pageAnswer {
		return pageAnswer{items: itemRange(0, 2), offset: `"0\n<script>"`}
	})
	c, err := sendivent.NewClient("test_key", sendivent.WithBaseURL(srv.URL))
	require.NoError(t, err)
	defer c.CloseIdleConnections()
	var last error
	for _, err := range c.Contacts.List(context.Background(), sendivent.ContactListParams{Limit: 2}) {
		last = err
	}
	var pe *sendivent.PagingError
	require.ErrorAs(t, last, &pe, "an unreadable offset echo is no echo; the same page again is no progress")
	b, _ := json.Marshal(pe.Error())
	assert.NotContains(t, string(b), "script")
}
