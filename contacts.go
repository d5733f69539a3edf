package sendivent

import (
	"context"
	"encoding/json"
	"iter"
	"strconv"

	"github.com/sendivent/sendivent-go/internal/idem"
)

// ContactsService manages the contacts the service stores: client.Contacts.
//
// An identifier names a contact by its UUID, your own user id (Contact.ID),
// its email address or its phone number; the SDK path-escapes it. An
// unknown contact is an error matching ErrNotFound, as the API reference
// documents; the live sandbox has been reported to answer 500 instead,
// which is then an error matching ErrServer (and is retried like any 500).
type ContactsService service

func (s *ContactsService) client() *Client { return (*service)(s).client() }

// ContactListParams filter and page a contacts listing. The zero value
// lists every contact from the start, in pages of the service's default
// size (50).
type ContactListParams struct {
	// Search matches name, email, phone and your user id.
	Search string `url:"search,omitempty"`
	// Limit is the page size, 1 to MaxPageSize; 0 is the service's default.
	Limit int `url:"limit,omitempty"`
	// Offset is where to start, from 0.
	Offset int `url:"offset,omitempty"`
}

func (p ContactListParams) check() error {
	if p.Limit < 0 || p.Limit > MaxPageSize {
		return invalid("limit", "limit "+strconv.Itoa(p.Limit)+" is outside 1 to "+strconv.Itoa(MaxPageSize)+" (0 is the service's default)")
	}
	if p.Offset < 0 {
		return invalid("offset", "negative offset "+strconv.Itoa(p.Offset))
	}
	return nil
}

// Upsert creates the contact, or updates the one that matches any of its
// identifiers (ID, Email or Phone; at least one is required): POST
// /v1/contacts. Unknown top-level fields (Contact.Extra) are stored in the
// contact's meta by the service. It carries an idempotency key, though an
// upsert repeated after a lost answer finds the contact the first one made
// and changes nothing more.
func (s *ContactsService) Upsert(ctx context.Context, c Contact) (*StoredContact, error) {
	if c.ID == "" && c.Email == "" && c.Phone == "" {
		return nil, invalid("contact", "an upsert needs an identifier the service matches on: ID, Email or Phone")
	}
	body, err := encodeContact(c)
	if err != nil {
		return nil, err
	}
	r := request{method: "POST", route: "/v1/contacts", path: "/v1/contacts", body: body, key: idem.New()}
	return do(ctx, s.client(), r, decodeStored)
}

// Get returns the contact that identifier names: GET
// /v1/contacts/{identifier}.
func (s *ContactsService) Get(ctx context.Context, identifier string) (*StoredContact, error) {
	r, err := contactRequest("GET", identifier)
	if err != nil {
		return nil, err
	}
	return do(ctx, s.client(), r, decodeStored)
}

// Update changes the fields of c that are set on the contact that
// identifier names, which must exist: PATCH /v1/contacts/{identifier}. A
// Contact with nothing set is a *ValidationError.
func (s *ContactsService) Update(ctx context.Context, identifier string, c Contact) (*StoredContact, error) {
	r, err := contactRequest("PATCH", identifier)
	if err != nil {
		return nil, err
	}
	if r.body, err = encodeContact(c); err != nil {
		return nil, err
	}
	if string(r.body) == "{}" {
		return nil, invalid("contact", "nothing to update: every field is empty")
	}
	return do(ctx, s.client(), r, decodeStored)
}

// Delete deletes the contact that identifier names, for good (for GDPR
// erasure): DELETE /v1/contacts/{identifier}. A retry after a lost answer
// may find it gone: such a 404 comes back as an error matching ErrNotFound.
func (s *ContactsService) Delete(ctx context.Context, identifier string) error {
	r, err := contactRequest("DELETE", identifier)
	if err != nil {
		return err
	}
	_, err = do(ctx, s.client(), r, doneAnswer)
	return err
}

// AddPushToken registers a device's push token on the contact:
// POST /v1/contacts/{identifier}/push-tokens. Tokens add up: a contact has
// one per device, and registering one twice keeps one. The service tells
// the provider (Expo, FCM, APNs) by the token's form. A contact needs a
// token before the push channel can reach it.
func (s *ContactsService) AddPushToken(ctx context.Context, identifier, token string) error {
	return s.token(ctx, "POST", identifier, token)
}

// RemovePushToken unregisters a push token (a device logged out):
// DELETE /v1/contacts/{identifier}/push-tokens, with the token in the body.
func (s *ContactsService) RemovePushToken(ctx context.Context, identifier, token string) error {
	return s.token(ctx, "DELETE", identifier, token)
}

// ListPage returns one page of contacts: GET
// /v1/contacts?limit=&offset=&search=. Page.Total counts every contact that
// matches. A Limit over MaxPageSize is a *ValidationError.
func (s *ContactsService) ListPage(ctx context.Context, p ContactListParams) (*Page[StoredContact], error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	return getPage[StoredContact](ctx, s.client(), "/v1/contacts", "contacts", p, p.Offset)
}

// List yields every contact that p matches, from p.Offset on, reading the
// next page only when the loop asks for more. It ends after the last
// contact (by the listing's total: the smallest any page gave), when the
// loop breaks (no request is then in flight), or after yielding an error:
// bad params, a page that failed (a typed error, as everywhere), or a
// *PagingError when the pages do not add up (a service that ignores the
// offset, or contradicts its total), rather than repeat or skip contacts.
// Each contact is yielded once: one that offset paging serves again (a
// contact added before it meanwhile) is left out. The listing remembers a
// few bytes per contact for that.
//
//	for c, err := range client.Contacts.List(ctx, sendivent.ContactListParams{Search: "ada"}) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(c.Email)
//	}
func (s *ContactsService) List(ctx context.Context, p ContactListParams) iter.Seq2[*StoredContact, error] {
	return paginate(p.Offset, p.Limit, func(offset int) (*Page[StoredContact], error) {
		q := p
		q.Offset = offset
		return s.ListPage(ctx, q)
	})
}

// contactRequest is a request to /v1/contacts/{identifier}.
func contactRequest(method, identifier string) (request, error) {
	if err := checkIdentifier("identifier", identifier); err != nil {
		return request{}, err
	}
	return request{method: method, route: "/v1/contacts/{identifier}", path: "/v1/contacts/" + pathSegment(identifier)}, nil
}

// token sends a request to /v1/contacts/{identifier}/push-tokens with the
// token in its body. A registration carries an idempotency key.
func (s *ContactsService) token(ctx context.Context, method, identifier, token string) error {
	r, err := contactRequest(method, identifier)
	if err != nil {
		return err
	}
	if err := checkToken(token); err != "" {
		return invalid("token", err)
	}
	r.route, r.path = r.route+"/push-tokens", r.path+"/push-tokens"
	r.body, _ = json.Marshal(struct { // a string always encodes
		Token string `json:"token"`
	}{token})
	if method == "POST" {
		r.key = idem.New()
	}
	_, err = do(ctx, s.client(), r, doneAnswer)
	return err
}

// encodeContact checks c and encodes it as a request body.
func encodeContact(c Contact) ([]byte, error) {
	if err := c.check("contact"); err != nil {
		return nil, err
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, &ValidationError{Field: "contact", Reason: "cannot be encoded as JSON: " + err.Error(), Err: err}
	}
	return b, nil
}

// decodeStored reads {success, contact: {...}}, or the contact object
// itself.
var decodeStored = decodeObject[StoredContact]("contact", "uuid")
