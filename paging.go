package sendivent

import (
	"context"
	"encoding/json"
	"hash/maphash"
	"iter"
	"math"
	"strconv"

	"github.com/google/go-querystring/query"
)

// MaxPageSize is the largest page the contacts list serves; a larger
// ContactListParams.Limit is a *ValidationError rather than a silent clamp.
const MaxPageSize = 100

// Page is one page of a limit/offset listing (contacts, deliveries).
type Page[T any] struct {
	Items []T
	// Total is how many items the whole listing has, when the service says
	// (HasTotal). A total that is not a whole number from 0 to 2^53 (25.0
	// is 25; -1, 2.5, 1e300, "lots" or true are not) is no total.
	Total    int
	HasTotal bool
	Limit    int // the page size the service used; 0 when it does not say
	Offset   int // where this page starts: as the service says, or as asked
	// Raw is the answer's body as received.
	Raw json.RawMessage
}

// PagingError ends a listing (Contacts.List, Deliveries.List) whose pages
// do not add up, so that reading on would repeat items, skip them, or
// never end: a page that starts elsewhere than asked, one whose items were
// all listed already (a server that ignores the offset), one that lists an
// item twice, or an empty page where the total says more remain. It matches ErrMalformed. The items
// yielded before it were each yielded once.
type PagingError struct {
	Offset int    // where the page was asked to start
	Reason string // what did not add up
}

func (e *PagingError) Error() string {
	return "sendivent: listing stopped at offset " + strconv.Itoa(e.Offset) + ": " + e.Reason
}

// Is matches ErrMalformed: the service's answers are not what it documents.
func (e *PagingError) Is(target error) bool { return target == ErrMalformed }

// listed is an item of a listing, which names itself for deduplication.
type listed interface{ listKey() string }

// paginate yields every item of a limit/offset listing from offset on,
// reading a page only when the caller asks for an item past the last one
// read. It ends at the listing's total (the smallest any page gave: items
// added during the listing are not promised), or, when the service gives
// none, at a page shorter than the page size or an empty one; on the
// caller's break; after yielding a failed page's error; or with a
// *PagingError when the pages do not add up. An item already yielded (by
// its UUID, or else its JSON) is not yielded again: offset paging serves an
// item twice when items are added before it while the listing is read. The
// items of the page that reaches the total are all yielded, even past it.
func paginate[T any](offset, limit int, fetch func(offset int) (*Page[T], error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		seed := maphash.MakeSeed()
		seen := map[uint64]struct{}{} // 8 bytes and a little per item listed
		bound, bounded := 0, false
		for {
			p, err := fetch(offset)
			if err != nil {
				yield(nil, err)
				return
			}
			if p.Offset != offset {
				yield(nil, &PagingError{Offset: offset, Reason: "the service answered the page at offset " + strconv.Itoa(p.Offset)})
				return
			}
			if p.HasTotal && (!bounded || p.Total < bound) {
				bound, bounded = p.Total, true
			}
			keys := make([]uint64, len(p.Items))
			onPage := make(map[uint64]struct{}, len(p.Items))
			for i := range p.Items {
				keys[i] = maphash.String(seed, itemKey(&p.Items[i]))
				if _, twice := onPage[keys[i]]; twice {
					// No position can be trusted: the next offset would skip.
					yield(nil, &PagingError{Offset: offset, Reason: "the page lists an item twice"})
					return
				}
				onPage[keys[i]] = struct{}{}
			}
			fresh := 0
			for i, k := range keys {
				if _, dup := seen[k]; dup {
					continue
				}
				seen[k] = struct{}{}
				fresh++
				if !yield(&p.Items[i], nil) {
					return
				}
			}
			switch {
			case len(p.Items) == 0 && bounded && offset < bound:
				yield(nil, &PagingError{Offset: offset, Reason: "an empty page, where the total says " + strconv.Itoa(bound)})
				return
			case len(p.Items) == 0:
				return
			case fresh == 0:
				yield(nil, &PagingError{Offset: offset, Reason: "no progress: every item of the page was listed already (does the service ignore the offset?)"})
				return
			}
			// The next offset counts what was read, not what was asked
			// for: a short page leaves no gap.
			offset += len(p.Items)
			if !p.more(offset, limit, bound, bounded) {
				return
			}
		}
	}
}

// more reports whether the listing goes on at next, after p, which was
// asked for with page size limit (0: the service's default). A page that
// comes back shorter than asked is not the end when the total says more
// remain.
func (p *Page[T]) more(next, limit, bound int, bounded bool) bool {
	if bounded {
		return next < bound
	}
	size := p.Limit
	if size == 0 {
		size = limit
	}
	return size == 0 || len(p.Items) >= size
}

// uuidOrRaw names a listed item by its UUID, or else its JSON; the
// prefixes keep a UUID from being taken for another item's JSON.
func uuidOrRaw(uuid string, raw json.RawMessage) string {
	if uuid != "" {
		return "uuid:" + uuid
	}
	return "json:" + string(raw)
}

// itemKey names an item for deduplication.
func itemKey[T any](v *T) string {
	if l, ok := any(v).(listed); ok {
		return l.listKey()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// getPage reads the page of a listing at route that params (a struct with
// `url` tags, read by go-querystring) ask for; key names the items in the
// answer, and offset is where the page was asked to start.
func getPage[T any](ctx context.Context, c *Client, route, key string, params any, offset int) (*Page[T], error) {
	q, err := query.Values(params)
	if err != nil { // params is always one of the SDK's structs
		return nil, &ValidationError{Field: "params", Reason: err.Error(), Err: err}
	}
	r := request{method: "GET", route: route, path: route, query: q}
	return do(ctx, c, r, func(a *answer) (*Page[T], error) { return decodePage[T](a, key, offset) })
}

// decodePage reads a page answer: {success, data: {<key>: [...], total,
// limit, offset}}, or the same without the envelope. offset is where the
// page was asked to start, for an answer that does not echo it (or echoes
// what is not a count).
func decodePage[T any](a *answer, key string, offset int) (*Page[T], error) {
	f, err := fields(a)
	if err != nil {
		return nil, err
	}
	p := &Page[T]{Offset: offset, Raw: json.RawMessage(a.body)}
	if err := member(f, &p.Items, key); err != nil {
		return nil, err
	}
	p.Total, p.HasTotal = jsonCount(f["total"])
	p.Limit, _ = jsonCount(f["limit"])
	if o, ok := jsonCount(f["offset"]); ok {
		p.Offset = o
	}
	return p, nil
}

// maxCount is the largest count read from an answer: the largest integer a
// JSON number holds exactly in every implementation (RFC 8259 §6).
const maxCount = 1 << 53

// jsonCount reads a count (a total, a limit, an offset): a JSON number, or
// a string holding one, whose value is a whole number from 0 to maxCount.
// 25.0 and 2.5e1 are 25; anything else (-1, 2.5, 1e300, "lots", true,
// null, absent) is no count.
func jsonCount(raw json.RawMessage) (int, bool) {
	var n json.Number
	if len(raw) == 0 || json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	v, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || v < 0 || v > maxCount || v > float64(math.MaxInt) || v != math.Trunc(v) {
		return 0, false
	}
	return int(v), true
}
