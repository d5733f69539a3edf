package sendivent

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pager answers a contacts or deliveries listing of n items from the
// request's offset, at most max a page (fewer than asked, when max is
// smaller: a short page), with the total unless noTotal; the page at
// failAt (an offset) fails with status 400.
type pager struct {
	key     string // "contacts" or "deliveries"
	n, max  int
	noTotal bool
	failAt  int
}

func (p pager) respond(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err // as net/http's transport does
	}
	q := r.URL.Query()
	offset, _ := strconv.Atoi(q.Get("offset"))
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit == 0 {
		limit = 50
	}
	if offset == p.failAt {
		return reply(400, `{"error":"offset out of range","field":"offset"}`)(r)
	}
	var items []string
	for i := offset; i < p.n && len(items) < min(limit, p.max); i++ {
		if p.key == "contacts" {
			items = append(items, fmt.Sprintf(`{"uuid":"c-%d"}`, i))
		} else {
			items = append(items, fmt.Sprintf(`{"uuid":"d-%d","channel":"email","status":"sent"}`, i))
		}
	}
	total := fmt.Sprintf(`,"total":%d`, p.n)
	if p.noTotal {
		total = ""
	}
	body := fmt.Sprintf(`{"success":true,"data":{%q:[%s]%s,"limit":%d,"offset":%d}}`,
		p.key, strings.Join(items, ","), total, min(limit, p.max), offset)
	return reply(200, body)(r)
}

func offsets(h *mockHarness) []string {
	var out []string
	for _, r := range h.requests() {
		q := r.RawQuery
		if q == "" {
			q = "-"
		}
		out = append(out, q)
	}
	return out
}

func TestContactsListPagesLazily(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(pager{key: "contacts", n: 5, max: 100, failAt: -1}.respond)
	var seen []string
	var requestsAt []int
	for c, err := range h.c.Contacts.List(context.Background(), ContactListParams{Limit: 2, Search: "a"}) {
		require.NoError(t, err)
		seen = append(seen, c.UUID)
		requestsAt = append(requestsAt, len(h.requests()))
	}
	assert.Equal(t, []string{"c-0", "c-1", "c-2", "c-3", "c-4"}, seen)
	assert.Equal(t, []int{1, 1, 2, 2, 3}, requestsAt, "a page is read only when the loop reaches it")
	assert.Equal(t, []string{"limit=2&search=a", "limit=2&offset=2&search=a", "limit=2&offset=4&search=a"}, offsets(h),
		"no request past the total")
}

func TestContactsListEarlyBreak(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(pager{key: "contacts", n: 10, max: 100, failAt: -1}.respond)
	n := 0
	for _, err := range h.c.Contacts.List(context.Background(), ContactListParams{Limit: 3}) {
		require.NoError(t, err)
		n++
		if n == 4 { // the first of the second page
			break
		}
	}
	assert.Equal(t, 4, n)
	assert.Len(t, h.requests(), 2, "nothing is read after the break")
}

func TestContactsListShortPages(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	// Asked for 3 a page, the service serves 2: the total says more remain,
	// and the next page starts after what came, leaving no gap.
	h.script(pager{key: "contacts", n: 5, max: 2, failAt: -1}.respond)
	var seen []string
	for c, err := range h.c.Contacts.List(context.Background(), ContactListParams{Limit: 3, Offset: 0}) {
		require.NoError(t, err)
		seen = append(seen, c.UUID)
	}
	assert.Equal(t, []string{"c-0", "c-1", "c-2", "c-3", "c-4"}, seen)
	assert.Equal(t, []string{"limit=3", "limit=3&offset=2", "limit=3&offset=4"}, offsets(h))
}

func TestContactsListFailingMiddlePage(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(pager{key: "contacts", n: 6, max: 100, failAt: 2}.respond)
	var seen []string
	var errs []error
	for c, err := range h.c.Contacts.List(context.Background(), ContactListParams{Limit: 2}) {
		if err != nil {
			assert.Nil(t, c)
			errs = append(errs, err)
			continue // the iterator stops by itself
		}
		seen = append(seen, c.UUID)
	}
	assert.Equal(t, []string{"c-0", "c-1"}, seen)
	require.Len(t, errs, 1)
	var ae *APIError
	require.ErrorAs(t, errs[0], &ae)
	assert.Equal(t, 400, ae.StatusCode)
	assert.Equal(t, "offset", ae.Field)
	assert.Len(t, h.requests(), 2)
}

func TestListWithoutTotal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		n     int
		limit int
		want  int // requests
	}{
		{"last page short", 5, 2, 3},
		{"last page full, then an empty one", 4, 2, 3},
		{"service default page size", 3, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(pager{key: "contacts", n: tt.n, max: 100, noTotal: true, failAt: -1}.respond)
			got := 0
			for _, err := range h.c.Contacts.List(context.Background(), ContactListParams{Limit: tt.limit}) {
				require.NoError(t, err)
				got++
			}
			assert.Equal(t, tt.n, got)
			assert.Len(t, h.requests(), tt.want)
		})
	}
}

// TestListEmptyPageBeforeTheTotal: an empty page ends the listing, with
// no error when its own total says nothing more remains (items were
// deleted meanwhile), and with a *PagingError when a total still says more
// remain: the rest would be skipped silently.
func TestListEmptyPageBeforeTheTotal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		empty string
		fails bool
	}{
		{"the total still says 9", `{"success":true,"data":{"contacts":[],"total":9}}`, true},
		{"no total on the empty page: the first one's holds", `{"success":true,"data":{"contacts":[]}}`, true},
		{"the total fell to what was read", `{"success":true,"data":{"contacts":[],"total":1}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newMockHarness(t)
			h.script(reply(200, `{"success":true,"data":{"contacts":[{"uuid":"c-0"}],"total":9,"limit":1}}`),
				reply(200, tt.empty))
			got := 0
			var errs []error
			for _, err := range h.c.Contacts.List(context.Background(), ContactListParams{Limit: 1}) {
				if err != nil {
					errs = append(errs, err)
					continue
				}
				got++
			}
			assert.Equal(t, 1, got)
			assert.Len(t, h.requests(), 2)
			if !tt.fails {
				assert.Empty(t, errs)
				return
			}
			require.Len(t, errs, 1)
			var pe *PagingError
			require.ErrorAs(t, errs[0], &pe)
			assert.Equal(t, 1, pe.Offset)
			assert.ErrorIs(t, errs[0], ErrMalformed)
		})
	}
}

func TestListEndsWithTheContext(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(pager{key: "contacts", n: 4, max: 100, failAt: -1}.respond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errs []error
	for _, err := range h.c.Contacts.List(ctx, ContactListParams{Limit: 2}) {
		cancel() // the loop's work ends the context; the next page is not read
		if err != nil {
			errs = append(errs, err)
		}
	}
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], context.Canceled)
	var te *TransportError
	assert.ErrorAs(t, errs[0], &te, "typed, as everywhere")
}

func TestDeliveriesList(t *testing.T) {
	t.Parallel()
	h := newMockHarness(t)
	h.script(pager{key: "deliveries", n: 3, max: 2, failAt: -1}.respond)
	var seen []string
	params := DeliveryListParams{Event: "order.shipped", Channel: ChannelEmail, Status: MessageSent, Limit: 2}
	for d, err := range h.c.Deliveries.List(context.Background(), params) {
		require.NoError(t, err)
		assert.Equal(t, ChannelEmail, d.Channel)
		seen = append(seen, d.UUID)
	}
	assert.Equal(t, []string{"d-0", "d-1", "d-2"}, seen)
	assert.Equal(t, []string{
		"channel=email&event=order.shipped&limit=2&status=sent",
		"channel=email&event=order.shipped&limit=2&offset=2&status=sent",
	}, offsets(h))
	for _, r := range h.requests() {
		checkRequest(t, r, wantRequest{method: "GET", path: "/v1/deliveries", query: r.RawQuery})
	}

	h2 := newMockHarness(t)
	h2.script(httpmock.Responder(pager{key: "deliveries", n: 3, max: 100, failAt: -1}.respond))
	page, err := h2.c.Deliveries.ListPage(context.Background(), DeliveryListParams{})
	require.NoError(t, err)
	assert.Len(t, page.Items, 3)
	assert.True(t, page.HasTotal)
	assert.Equal(t, 3, page.Total)
	assert.NotEmpty(t, page.Raw)
	assert.Equal(t, "-", offsets(h2)[0], "no filter, no query string")
}
