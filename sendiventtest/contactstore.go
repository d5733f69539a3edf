package sendiventtest

import (
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
)

// contact is one stored contact.
type contact struct {
	uuid     string
	row      int64    // the service's integer id, shown as "id" beside the uuid
	ids      identity // identifiers, name and push tokens
	avatar   string
	username string
	language string
	meta     map[string]any
	created  time.Time
	updated  time.Time
}

// contactStore holds the contacts that sends and the contacts API made,
// indexed by every identifier: "uuid:…", "ext:…", "email:…" (lower case),
// "phone:…", "slack:…", "telegram:…", "discord:…". Its zero value is empty
// and ready.
type contactStore struct {
	byKey map[string]*contact
	order []*contact // creation order
	rows  int64
	max   int // contacts kept, the newest (see WithRetention); 0: all
}

func (id identity) keys() []string {
	var ks []string
	add := func(prefix, v string) {
		if v != "" {
			ks = append(ks, prefix+v)
		}
	}
	add("ext:", id.externalID)
	add("email:", strings.ToLower(id.email))
	add("phone:", id.phone)
	add("slack:", id.slack)
	add("telegram:", id.telegram)
	add("discord:", id.discord)
	return ks
}

// drop clears the identifier that key names.
func (id *identity) drop(key string) {
	prefix, _, _ := strings.Cut(key, ":")
	switch prefix {
	case "ext":
		id.externalID = ""
	case "email":
		id.email = ""
	case "phone":
		id.phone = ""
	case "slack":
		id.slack = ""
	case "telegram":
		id.telegram = ""
	case "discord":
		id.discord = ""
	}
}

// find returns the stored contact the recipient names, or nil: the first
// match of its reference (a uuid or your user id), then of its identifiers
// in the order user id, email, phone, Slack, Telegram, Discord.
func (cs *contactStore) find(r recipient) *contact {
	if r.ref != "" {
		if c := cs.lookup(r.ref); c != nil {
			return c
		}
	}
	for _, k := range r.ids.keys() {
		if c := cs.byKey[k]; c != nil {
			return c
		}
	}
	return nil
}

// lookup returns the contact that a path identifier names: its uuid, your
// user id, its email address, its phone number or its Slack id.
func (cs *contactStore) lookup(ident string) *contact {
	for _, k := range []string{"uuid:" + ident, "ext:" + ident, "email:" + strings.ToLower(ident), "phone:" + ident, "slack:" + ident} {
		if c := cs.byKey[k]; c != nil {
			return c
		}
	}
	return nil
}

// resolve returns the recipient's identifiers as the service would see them:
// the stored contact's, updated by what the request says.
func (cs *contactStore) resolve(r recipient) identity {
	var id identity
	if c := cs.find(r); c != nil {
		id = c.ids
		id.pushTokens = slices.Clone(c.ids.pushTokens)
	} else if r.ref != "" {
		id.externalID = r.ref
	}
	id.merge(r.ids)
	return id
}

// upsert applies the merge rule of the service: a contact that any of the
// recipient's identifiers matches is updated, otherwise one is created. An
// identifier that another contact held moves to this one, so that each
// names one contact.
func (cs *contactStore) upsert(r recipient) *contact {
	c := cs.find(r)
	if c == nil {
		c = cs.create()
	}
	c.ids = cs.resolve(r)
	cs.apply(c, r)
	cs.index(c)
	return c
}

func (cs *contactStore) create() *contact {
	if cs.byKey == nil {
		cs.byKey = map[string]*contact{}
	}
	cs.rows++
	t := stamp()
	c := &contact{uuid: newUUID(), row: cs.rows, created: t, updated: t}
	cs.byKey["uuid:"+c.uuid] = c
	cs.order = append(cs.order, c)
	cs.keepNewest()
	return c
}

// apply sets c's other fields from r: those r sets replace, meta keys merge
// (r's extra fields too, their keys in camelCase, as the service stores
// them).
func (cs *contactStore) apply(c *contact, r recipient) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&c.avatar, r.avatar)
	set(&c.username, r.username)
	set(&c.language, r.language)
	if len(r.meta) > 0 || len(r.extra) > 0 {
		if c.meta == nil {
			c.meta = map[string]any{}
		}
		maps.Copy(c.meta, r.meta)
		for k, v := range r.extra {
			c.meta[camelCase(k)] = v
		}
	}
	c.updated = stamp()
}

// index points each of c's identifiers at c, taking it from any other
// contact that held it.
func (cs *contactStore) index(c *contact) {
	for _, k := range c.ids.keys() {
		if o := cs.byKey[k]; o != nil && o != c {
			o.ids.drop(k)
		}
		cs.byKey[k] = c
	}
}

// taken returns the contact other than c that holds one of id's
// identifiers, or nil.
func (cs *contactStore) taken(c *contact, id identity) *contact {
	for _, k := range id.keys() {
		if o := cs.byKey[k]; o != nil && o != c {
			return o
		}
	}
	return nil
}

// unindex forgets c's identifiers that it no longer has.
func (cs *contactStore) unindex(c *contact) {
	for k, o := range cs.byKey {
		if o == c && !strings.HasPrefix(k, "uuid:") && !slices.Contains(c.ids.keys(), k) {
			delete(cs.byKey, k)
		}
	}
}

// remove deletes c.
func (cs *contactStore) remove(c *contact) {
	for k, o := range cs.byKey {
		if o == c {
			delete(cs.byKey, k)
		}
	}
	cs.order = slices.DeleteFunc(cs.order, func(o *contact) bool { return o == c })
}

// search returns the contacts whose name, email, phone or user id
// contains q, case-insensitively, in creation order; all when q is "".
func (cs *contactStore) search(q string) []*contact {
	q = strings.ToLower(strings.TrimSpace(q))
	var out []*contact
	for _, c := range cs.order {
		id := c.ids
		if q == "" || slices.ContainsFunc([]string{id.name, id.email, id.phone, id.externalID}, func(v string) bool {
			return strings.Contains(strings.ToLower(v), q)
		}) {
			out = append(out, c)
		}
	}
	return out
}

// camelCase turns a snake_case key into camelCase (account_credits →
// accountCredits), as the service does with a contact's unknown fields.
func camelCase(k string) string {
	parts := strings.Split(k, "_")
	var b strings.Builder
	for i, p := range parts {
		if p == "" {
			continue
		}
		if i > 0 && b.Len() > 0 {
			r := []rune(p)
			r[0] = unicode.ToUpper(r[0])
			p = string(r)
		}
		b.WriteString(p)
	}
	if b.Len() == 0 {
		return k
	}
	return b.String()
}
