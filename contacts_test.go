package sendivent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

func TestE2EContactsCRUD(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	c := srv.Client()
	ctx := context.Background()

	ada, err := c.Contacts.Upsert(ctx, sendivent.Contact{ID: "user_1", Email: "user+tag@example.com", Name: "Ada Lovelace",
		Avatar: "https://example.com/ada.png", Username: "ada", Extra: map[string]any{"account_credits": 5}})
	require.NoError(t, err)
	assert.NotEmpty(t, ada.UUID)
	assert.Equal(t, "user_1", ada.ExternalID)
	assert.Equal(t, "Ada", ada.FirstName)
	assert.Equal(t, "Lovelace", ada.LastName)
	assert.Equal(t, "https://example.com/ada.png", ada.Avatar)
	assert.Equal(t, "ada", ada.Username)
	assert.Equal(t, map[string]any{"accountCredits": float64(5)}, ada.Meta, "unknown fields go to meta, in camelCase")
	assert.False(t, ada.CreatedAt.IsZero())

	r, ok := srv.LastRequest()
	require.True(t, ok)
	assert.Equal(t, "/v1/contacts", r.Path)
	assert.Equal(t, sendiventtest.EndpointContacts, r.Endpoint)

	for _, ident := range []string{ada.UUID, "user_1", "user+tag@example.com", "USER+TAG@example.com"} {
		got, err := c.Contacts.Get(ctx, ident)
		require.NoError(t, err, ident)
		assert.Equal(t, ada.UUID, got.UUID, ident)
	}
	r, _ = srv.LastRequest()
	assert.Equal(t, "/v1/contacts/USER%2BTAG%40example.com", r.Path)

	up, err := c.Contacts.Update(ctx, "user+tag@example.com", sendivent.Contact{Phone: "+46701234567", Language: "sv"})
	require.NoError(t, err)
	assert.Equal(t, "+46701234567", up.Phone)
	assert.Equal(t, "sv", up.Language)
	assert.Equal(t, "Ada Lovelace", up.Name, "an update keeps what it does not set")
	got, err := c.Contacts.Get(ctx, "+46701234567")
	require.NoError(t, err)
	assert.Equal(t, ada.UUID, got.UUID)

	// An upsert by any one identifier updates the same contact.
	again, err := c.Contacts.Upsert(ctx, sendivent.Contact{Phone: "+46701234567", Name: "Ada King"})
	require.NoError(t, err)
	assert.Equal(t, ada.UUID, again.UUID)
	assert.Equal(t, "King", again.LastName)
	stored := srv.Contacts()
	require.Len(t, stored, 1)
	assert.Equal(t, "Ada King", stored[0].Name)
	assert.Equal(t, "user+tag@example.com", stored[0].Email)

	require.NoError(t, c.Contacts.Delete(ctx, "user_1"))
	_, err = c.Contacts.Get(ctx, ada.UUID)
	assert.ErrorIs(t, err, sendivent.ErrNotFound)
	assert.ErrorIs(t, c.Contacts.Delete(ctx, "user_1"), sendivent.ErrNotFound)
	_, err = c.Contacts.Update(ctx, "user_1", sendivent.Contact{Name: "x"})
	assert.ErrorIs(t, err, sendivent.ErrNotFound)
	assert.Empty(t, srv.Contacts())
}

func TestE2EContactsMergeRule(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	c := srv.Client()
	ctx := context.Background()
	a, err := c.Contacts.Upsert(ctx, sendivent.Contact{Email: "a@example.com"})
	require.NoError(t, err)
	b, err := c.Contacts.Upsert(ctx, sendivent.Contact{Phone: "+46700000001"})
	require.NoError(t, err)
	require.NotEqual(t, a.UUID, b.UUID)

	// Both identifiers match, each a different contact: the email's wins
	// and takes the phone, which then names one contact only.
	both, err := c.Contacts.Upsert(ctx, sendivent.Contact{Email: "a@example.com", Phone: "+46700000001"})
	require.NoError(t, err)
	assert.Equal(t, a.UUID, both.UUID)
	byPhone, ok := srv.Contact("+46700000001")
	require.True(t, ok)
	assert.Equal(t, a.UUID, byPhone.UUID)
	old, ok := srv.Contact(b.UUID)
	require.True(t, ok)
	assert.Empty(t, old.Phone)

	// An update may not take another contact's identifier.
	_, err = c.Contacts.Update(ctx, b.UUID, sendivent.Contact{Email: "A@example.com"})
	assert.ErrorIs(t, err, sendivent.ErrConflict)
}

func TestE2ESendsCreateAndUpdateContacts(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	c := srv.Client()
	ctx := context.Background()
	_, err := c.Event("welcome").To(sendivent.Contact{Email: "bob@example.com", Name: "Bob Smith",
		Meta: map[string]any{"plan": "pro"}}).Send(ctx)
	require.NoError(t, err)
	bob, err := c.Contacts.Get(ctx, "bob@example.com")
	require.NoError(t, err)
	assert.Equal(t, "Bob Smith", bob.Name)
	assert.Equal(t, map[string]any{"plan": "pro"}, bob.Meta)

	_, err = c.Event("welcome").To(sendivent.Contact{Email: "bob@example.com", Language: "sv", ID: "u-bob"}).Send(ctx)
	require.NoError(t, err)
	bob2, err := c.Contacts.Get(ctx, "u-bob")
	require.NoError(t, err)
	assert.Equal(t, bob.UUID, bob2.UUID)
	assert.Equal(t, "sv", bob2.Language)
	assert.Equal(t, "Bob Smith", bob2.Name)

	_, err = c.Event("welcome").Channel(sendivent.ChannelSlack).To(sendivent.Address("#general")).Send(ctx)
	require.NoError(t, err)
	assert.Len(t, srv.Contacts(), 1, "a Slack channel is not a contact")
	_, ok := srv.Contact("#general")
	assert.False(t, ok)
}

func TestE2EContactsListAndSearch(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	c := srv.Client()
	ctx := context.Background()
	for i := range 7 {
		_, err := c.Contacts.Upsert(ctx, sendivent.Contact{ID: fmt.Sprintf("user_%d", i),
			Email: fmt.Sprintf("person%d@example.com", i), Name: fmt.Sprintf("Person %d", i)})
		require.NoError(t, err)
	}
	_, err := c.Contacts.Upsert(ctx, sendivent.Contact{Email: "ada@lovelace.example", Name: "Ada", Phone: "+46709999999"})
	require.NoError(t, err)

	var ids []string
	for sc, err := range c.Contacts.List(ctx, sendivent.ContactListParams{Limit: 3}) {
		require.NoError(t, err)
		ids = append(ids, sc.ExternalID)
	}
	assert.Equal(t, []string{"user_0", "user_1", "user_2", "user_3", "user_4", "user_5", "user_6", ""}, ids)
	lists := 0
	for _, r := range srv.Requests(sendiventtest.EndpointContacts) {
		if r.Method == http.MethodGet {
			lists++
			assert.Equal(t, "3", r.Query.Get("limit"))
		}
	}
	assert.Equal(t, 3, lists, "8 contacts in pages of 3")

	for _, tt := range []struct {
		search string
		want   int
	}{{"person", 7}, {"PERSON 3", 1}, {"user_5", 1}, {"lovelace", 1}, {"+467099", 1}, {"nobody", 0}, {"", 8}} {
		page, err := c.Contacts.ListPage(ctx, sendivent.ContactListParams{Search: tt.search, Limit: sendivent.MaxPageSize})
		require.NoError(t, err)
		assert.Equal(t, tt.want, page.Total, tt.search)
		assert.Len(t, page.Items, tt.want, tt.search)
		assert.Equal(t, 100, page.Limit)
	}
	page, err := c.Contacts.ListPage(ctx, sendivent.ContactListParams{Offset: 6})
	require.NoError(t, err)
	assert.Equal(t, 8, page.Total)
	assert.Equal(t, 50, page.Limit, "the service's default")
	assert.Equal(t, 6, page.Offset)
	assert.Len(t, page.Items, 2)
}

func TestE2EContactsListFailingMiddlePage(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t)
	c := srv.Client(sendivent.WithMaxRetries(1))
	ctx := context.Background()
	for i := range 4 {
		_, err := c.Contacts.Upsert(ctx, sendivent.Contact{Email: fmt.Sprintf("p%d@example.com", i)})
		require.NoError(t, err)
	}
	var seen int
	var errs []error
	for sc, err := range c.Contacts.List(ctx, sendivent.ContactListParams{Limit: 2}) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		seen++
		if seen == 1 { // the second page is read after this: it fails
			srv.Inject(sendiventtest.FailNext(2, http.StatusServiceUnavailable).On(sendiventtest.EndpointContacts))
		}
		assert.NotEmpty(t, sc.UUID)
	}
	assert.Equal(t, 2, seen)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], sendivent.ErrServer)
	var ae *sendivent.APIError
	require.ErrorAs(t, errs[0], &ae)
	assert.Len(t, ae.Attempts, 2)
}

func TestE2EPushTokens(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithEvent("order-shipped", sendiventtest.Send(sendivent.ChannelPush)))
	c := srv.Client()
	ctx := context.Background()
	_, err := c.Contacts.Upsert(ctx, sendivent.Contact{ID: "user_1", Email: "ada@example.com"})
	require.NoError(t, err)

	_, err = c.Event("order-shipped").To(sendivent.Address("user_1")).Send(ctx)
	assert.ErrorIs(t, err, sendivent.ErrValidation, "no token yet: push cannot reach the contact")

	for _, tok := range []string{"ExponentPushToken[aaa]", "ExponentPushToken[bbb]", "ExponentPushToken[aaa]"} {
		require.NoError(t, c.Contacts.AddPushToken(ctx, "user_1", tok))
	}
	sc, ok := srv.Contact("user_1")
	require.True(t, ok)
	assert.Equal(t, []string{"ExponentPushToken[aaa]", "ExponentPushToken[bbb]"}, sc.PushTokens, "tokens add up, once each")

	res, err := c.Event("order-shipped").To(sendivent.Address("user_1")).Send(ctx)
	require.NoError(t, err)
	n, err := c.Wait(ctx, res.ID, quick...)
	require.NoError(t, err)
	assert.Equal(t, sendivent.ChannelPush, n.Messages[0].Channel)

	require.NoError(t, c.Contacts.RemovePushToken(ctx, "ada@example.com", "ExponentPushToken[aaa]"))
	require.NoError(t, c.Contacts.RemovePushToken(ctx, "ada@example.com", "ExponentPushToken[unknown]"),
		"removing a token the contact lacks succeeds")
	got, err := c.Contacts.Get(ctx, "user_1")
	require.NoError(t, err)
	assert.Equal(t, []string{"ExponentPushToken[bbb]"}, got.PushTokens)

	assert.ErrorIs(t, c.Contacts.AddPushToken(ctx, "nobody@example.com", "t"), sendivent.ErrNotFound)
	assert.ErrorIs(t, c.Contacts.RemovePushToken(ctx, "nobody@example.com", "t"), sendivent.ErrNotFound)
}

// TestPushTokenSpelling: one push token is sent as push_token, the spelling
// the service's docs use; several as push_tokens; either is read back.
func TestPushTokenSpelling(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		tokens []string
		want   string
	}{
		{nil, `{"email":"ada@example.com"}`},
		{[]string{"ExponentPushToken[a]"}, `{"email":"ada@example.com","push_token":"ExponentPushToken[a]"}`},
		{[]string{"ExponentPushToken[a]", "ExponentPushToken[b]"}, `{"email":"ada@example.com","push_tokens":["ExponentPushToken[a]","ExponentPushToken[b]"]}`},
	} {
		b, err := json.Marshal(sendivent.Contact{Email: "ada@example.com", PushTokens: tt.tokens})
		require.NoError(t, err)
		assert.JSONEq(t, tt.want, string(b))
	}
	_, err := json.Marshal(sendivent.Contact{Email: "ada@example.com", PushTokens: []string{"a"}, Extra: map[string]any{"push_token": "b"}})
	assert.ErrorIs(t, err, sendivent.ErrValidation, "push_token is a modelled field, not an extra one")

	// Through the fake, which reads both spellings as the service does.
	srv := sendiventtest.New(t, sendiventtest.WithEvent("ping", sendiventtest.Send(sendivent.ChannelPush)))
	client := srv.Client()
	ctx := context.Background()
	c, err := client.Contacts.Upsert(ctx, sendivent.Contact{Email: "ada@example.com", PushTokens: []string{"ExponentPushToken[a]"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"ExponentPushToken[a]"}, c.PushTokens)
	last, _ := srv.LastRequest()
	assert.Equal(t, "ExponentPushToken[a]", last.Body["push_token"])

	res, err := client.Event("ping").To(sendivent.Contact{ID: "u2", PushTokens: []string{"ExponentPushToken[b]"}}).Send(ctx)
	require.NoError(t, err)
	n, ok := srv.Notification(res.ID)
	require.True(t, ok)
	assert.Equal(t, []sendivent.Channel{sendivent.ChannelPush}, n.Channels, "routed by the one token")
	assert.Equal(t, []string{"ExponentPushToken[b]"}, n.Recipient.PushTokens)
}
