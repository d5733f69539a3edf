package sendivent

import (
	"context"
	"encoding/json"
	"iter"

	"github.com/google/go-querystring/query"
)

// MaxPageSize is the largest page the contacts list serves; a larger
// ContactListParams.Limit is a *ValidationError rather than a silent clamp.
const MaxPageSize = 100

// Page is one page of a limit/offset listing (contacts, deliveries).
type Page[T any] struct {
	Items []T
	// Total is how many items the whole listing has, when the service says
	// (HasTotal).
	Total    int
	HasTotal bool
	Limit    int // the page size the service used; 0 when it does not say
	Offset   int // where this page starts
	// Raw is the answer's body as received.
	Raw json.RawMessage
}

// more reports whether the listing goes on at next, after p, which was
// asked for with page size limit (0: the service's default). A page that
// comes back shorter than asked is not the end when the total says more
// remain.
func (p *Page[T]) more(next, limit int) bool {
	switch {
	case len(p.Items) == 0:
		return false // nothing more to read, whatever the total says
	case p.HasTotal:
		return next < p.Total
	}
	size := p.Limit
	if size == 0 {
		size = limit
	}
	return size == 0 || len(p.Items) >= size
}

// paginate yields every item of a limit/offset listing from offset on,
// reading a page only when the caller asks for an item past the last one
// read. It ends at the listing's total (or, when the service gives none, at
// a page shorter than the page size), on the caller's break, or after
// yielding a failed page's error.
func paginate[T any](offset, limit int, fetch func(offset int) (*Page[T], error)) iter.Seq2[*T, error] {
	return func(yield func(*T, error) bool) {
		for {
			p, err := fetch(offset)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range p.Items {
				if !yield(&p.Items[i], nil) {
					return
				}
			}
			// The next offset counts what was read, not what was asked
			// for, nor what the answer echoes: a short page leaves no
			// gap, and an echo that is off cannot loop.
			offset += len(p.Items)
			if !p.more(offset, limit) {
				return
			}
		}
	}
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
// page was asked to start, for an answer that does not echo it.
func decodePage[T any](a *answer, key string, offset int) (*Page[T], error) {
	f, err := fields(a)
	if err != nil {
		return nil, err
	}
	p := &Page[T]{Offset: offset, Raw: json.RawMessage(a.body)}
	if err := member(f, &p.Items, key); err != nil {
		return nil, err
	}
	if raw, ok := f["total"]; ok && string(raw) != "null" {
		p.Total, p.HasTotal = int(jsonInt(raw)), true
	}
	p.Limit = int(jsonInt(f["limit"]))
	if raw, ok := f["offset"]; ok && string(raw) != "null" {
		p.Offset = int(jsonInt(raw))
	}
	return p, nil
}
