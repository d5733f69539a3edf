package sendiventtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/sendivent/sendivent-go"
)

// EndpointContacts is every route of the contacts API: /v1/contacts,
// /v1/contacts/{identifier} and its push-tokens.
const EndpointContacts Endpoint = "contacts"

func init() {
	addAPIRoute(http.MethodPost, "/v1/contacts", apiRoute{endpoint: EndpointContacts, idempotent: true, serve: (*Server).upsertContactLocked})
	addAPIRoute(http.MethodGet, "/v1/contacts", apiRoute{endpoint: EndpointContacts, serve: (*Server).listContactsLocked})
	addAPIRoute(http.MethodGet, "/v1/contacts/{contact}", apiRoute{endpoint: EndpointContacts, serve: onContact(getContact)})
	addAPIRoute(http.MethodPatch, "/v1/contacts/{contact}", apiRoute{endpoint: EndpointContacts, serve: onContact((*Server).updateContactLocked)})
	addAPIRoute(http.MethodDelete, "/v1/contacts/{contact}", apiRoute{endpoint: EndpointContacts, serve: onContact((*Server).deleteContactLocked)})
	addAPIRoute(http.MethodPost, "/v1/contacts/{contact}/push-tokens", apiRoute{endpoint: EndpointContacts, idempotent: true, serve: onContact(addToken)})
	addAPIRoute(http.MethodDelete, "/v1/contacts/{contact}/push-tokens", apiRoute{endpoint: EndpointContacts, serve: onContact(removeToken)})
}

// wireStoredContact is a stored contact as the contacts API answers it, in
// the camelCase of the service's documented stored shape.
type wireStoredContact struct {
	ID         int64          `json:"id"`
	UUID       string         `json:"uuid"`
	ExternalID string         `json:"externalId,omitempty"`
	Email      string         `json:"email,omitempty"`
	Phone      string         `json:"phone,omitempty"`
	Name       string         `json:"name,omitempty"`
	FirstName  string         `json:"firstName,omitempty"`
	LastName   string         `json:"lastName,omitempty"`
	Avatar     string         `json:"avatar,omitempty"`
	Username   string         `json:"username,omitempty"`
	Slack      string         `json:"slack,omitempty"`
	Telegram   string         `json:"telegram,omitempty"`
	Discord    string         `json:"discord,omitempty"`
	PushTokens []string       `json:"pushTokens"`
	Language   string         `json:"language,omitempty"`
	Meta       map[string]any `json:"meta"`
	CreatedAt  string         `json:"createdAt"`
	UpdatedAt  string         `json:"updatedAt"`
}

func (c *contact) wire() wireStoredContact {
	first, last, _ := strings.Cut(c.ids.name, " ")
	w := wireStoredContact{
		ID: c.row, UUID: c.uuid, ExternalID: c.ids.externalID, Email: c.ids.email,
		Phone: c.ids.phone, Name: c.ids.name, FirstName: first, LastName: strings.TrimSpace(last),
		Avatar: c.avatar, Username: c.username, Slack: c.ids.slack, Telegram: c.ids.telegram,
		Discord: c.ids.discord, PushTokens: slices.Clone(c.ids.pushTokens), Language: c.language,
		Meta:      c.meta,
		CreatedAt: c.created.Format(timeFormat), UpdatedAt: c.updated.Format(timeFormat),
	}
	if w.PushTokens == nil {
		w.PushTokens = []string{}
	}
	if w.Meta == nil {
		w.Meta = map[string]any{}
	}
	return w
}

// snapshot is the contact as a client decodes it.
func (c *contact) snapshot() sendivent.StoredContact {
	var sc sendivent.StoredContact
	if err := json.Unmarshal(mustJSON(c.wire()), &sc); err != nil {
		panic("sendiventtest: " + err.Error())
	}
	return sc
}

// Contacts returns every stored contact, in creation order, as
// GET /v1/contacts/{identifier} answers it at this moment (Raw holds that
// object). Sends create and update contacts, as the contacts API does.
func (s *Server) Contacts() []sendivent.StoredContact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]sendivent.StoredContact, 0, len(s.contacts.order))
	for _, c := range s.contacts.order {
		out = append(out, c.snapshot())
	}
	return out
}

// Contact returns the stored contact that identifier names (its uuid, user
// id, email address, phone number or Slack id), as Contacts does.
func (s *Server) Contact(identifier string) (sendivent.StoredContact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.contacts.lookup(identifier)
	if c == nil {
		return sendivent.StoredContact{}, false
	}
	return c.snapshot(), true
}

func contactReply(c *contact) reply {
	return reply{status: http.StatusOK, body: mustJSON(struct {
		Success bool              `json:"success"`
		Contact wireStoredContact `json:"contact"`
	}{true, c.wire()})}
}

// contactBody parses the contact object of a POST or PATCH body.
func contactBody(x *exchange) (recipient, *apiError) {
	m, ok := decodeJSON(x.raw, true).(map[string]any)
	if !ok {
		return recipient{}, &apiError{status: 400, Error: "Invalid JSON body"}
	}
	return parseFields(m, x.rec.Body, recipient{field: "contact"})
}

// upsertContactLocked is POST /v1/contacts: the merge rule of upsert.
func (s *Server) upsertContactLocked(x *exchange) reply {
	r, err := contactBody(x)
	if err != nil {
		return err.reply()
	}
	if r.ids.externalID == "" && r.ids.email == "" && r.ids.phone == "" {
		return (&apiError{status: 400, Error: "At least one identifier is required: email, phone or external_id",
			Code: "MISSING_IDENTIFIER", Field: "contact"}).reply()
	}
	return contactReply(s.contacts.upsert(r))
}

// onContact serves a request to /v1/contacts/{identifier}… with the
// contact it names, or answers 404.
func onContact(serve func(s *Server, x *exchange, c *contact) reply) func(*Server, *exchange) reply {
	return func(s *Server, x *exchange) reply {
		c := s.contacts.lookup(x.p["contact"])
		if c == nil {
			return errReply(http.StatusNotFound, "Contact not found: "+x.p["contact"], "NOT_FOUND")
		}
		return serve(s, x, c)
	}
}

func getContact(_ *Server, _ *exchange, c *contact) reply { return contactReply(c) }

// updateContactLocked is PATCH /v1/contacts/{identifier}: an identifier the
// contact gains must not be another contact's (409).
func (s *Server) updateContactLocked(x *exchange, c *contact) reply {
	r, err := contactBody(x)
	if err != nil {
		return err.reply()
	}
	id := c.ids
	id.pushTokens = slices.Clone(id.pushTokens)
	id.merge(r.ids)
	if s.contacts.taken(c, id) != nil {
		return errReply(http.StatusConflict, "An identifier of the update belongs to another contact", "CONFLICT")
	}
	c.ids = id
	s.contacts.apply(c, r)
	s.contacts.unindex(c)
	s.contacts.index(c)
	return contactReply(c)
}

func (s *Server) deleteContactLocked(_ *exchange, c *contact) reply {
	s.contacts.remove(c)
	return reply{status: http.StatusOK, body: []byte(`{"success":true,"deleted":true}`)}
}

// addToken registers a push token; tokens add up, and one already there
// stays once.
func addToken(_ *Server, x *exchange, c *contact) reply {
	return changeToken(x, c, func(t string) { c.ids.merge(identity{pushTokens: []string{t}}) })
}

// removeToken unregisters a push token. Removing a token the contact does
// not have succeeds too, so that a retried removal does not fail: the token
// is gone either way.
func removeToken(_ *Server, x *exchange, c *contact) reply {
	return changeToken(x, c, func(t string) {
		c.ids.pushTokens = slices.DeleteFunc(c.ids.pushTokens, func(v string) bool { return v == t })
	})
}

// changeToken reads {"token": "…"} and applies change to it.
func changeToken(x *exchange, c *contact, change func(token string)) reply {
	t, _ := x.rec.Body["token"].(string)
	if strings.TrimSpace(t) == "" {
		return (&apiError{status: 400, Error: "Missing required field: token", Field: "token"}).reply()
	}
	change(t)
	c.updated = stamp()
	return contactReply(c)
}

// listContactsLocked is GET /v1/contacts?limit=&offset=&search=: limit 1 to
// 100 (default 50), offset from 0, search over name, email, phone and user
// id; total counts every match.
func (s *Server) listContactsLocked(x *exchange) reply {
	q := x.rec.Query
	limit, offset, err := pageParams(q, 50, 100, false)
	if err != nil {
		return err.reply()
	}
	all := s.contacts.search(q.Get("search"))
	page := make([]wireStoredContact, 0, limit)
	for _, c := range window(all, offset, limit) {
		page = append(page, c.wire())
	}
	return dataReply(map[string]any{"contacts": page, "total": len(all), "limit": limit, "offset": offset})
}

// pageParams reads limit and offset. A limit over max is an error, or with
// clamp is served as max (and echoed so).
func pageParams(q url.Values, def, max int, clamp bool) (limit, offset int, _ *apiError) {
	limit, offset = def, 0
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < 1:
			return 0, 0, &apiError{status: 400, Error: "limit must be a positive integer", Field: "limit"}
		case n > max && !clamp:
			return 0, 0, &apiError{status: 400, Error: fmt.Sprintf("limit must be at most %d", max), Field: "limit"}
		}
		limit = min(n, max)
	}
	if v := q.Get("offset"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return 0, 0, &apiError{status: 400, Error: "offset must be a non-negative integer", Field: "offset"}
		}
		offset = n
	}
	return limit, offset, nil
}

// window is items[offset:offset+limit], cut to what exists.
func window[T any](items []T, offset, limit int) []T {
	if offset >= len(items) {
		return nil
	}
	return items[offset:min(offset+limit, len(items))]
}

// dataReply answers {"success": true, "data": data}.
func dataReply(data any) reply {
	return reply{status: http.StatusOK, body: mustJSON(map[string]any{"success": true, "data": data})}
}
