package templates_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

// recorder is a testing.TB that keeps what New reports and runs its
// cleanups when told.
type recorder struct {
	testing.TB
	errs     []string
	cleanups []func()
}

func (r *recorder) Helper()          {}
func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recorder) Errorf(format string, args ...any) {
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}

func (r *recorder) end() []string {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	return r.errs
}

var ann = sendivent.Contact{Email: "ann@example.com", Phone: "+46701234567", Name: "Ann Lee"}

func catalog() []sendiventtest.Option {
	return []sendiventtest.Option{
		sendiventtest.WithCatalog("testdata/catalog"),
		sendiventtest.WithTemplateEngine(templates.Handlebars()),
		sendiventtest.WithManualLifecycle(),
	}
}

// TestFakeRendersMessages sends through the SDK to the fake and reads the
// messages as the person would.
func TestFakeRendersMessages(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, catalog()...)
	ctx := context.Background()
	res, err := srv.Client().Event("order-shipped").To(ann).Payload(sendivent.Payload{
		"order_id": "A-17", "tracking_url": "https://t.example/A-17",
		"lines": []any{map[string]any{"qty": 2, "name": "Tea"}, map[string]any{"qty": 1, "name": "Cup"}},
	}).Send(ctx)
	require.NoError(t, err)
	n, ok := srv.Notification(res.ID)
	require.True(t, ok)
	require.Len(t, n.Rendered, 1)
	assert.Equal(t, sendiventtest.RenderedMessage{
		MessageID: n.Messages[0].ID, Channel: sendivent.ChannelEmail,
		Subject: "Your order A-17 has shipped",
		HTML:    "<p>Hi Ann, 2×Tea, 1×Cup</p>",
		Text:    "Hi Ann, order A-17 from Example App.",
	}, n.Rendered[0])

	// Swedish, by the send's language; the SMS is the sequence's other
	// channel when forced.
	res, err = srv.Client().Event("order-shipped").To(ann).Language("sv").
		Payload(sendivent.Payload{"order_id": "B-2", "lines": []any{}}).Send(ctx)
	require.NoError(t, err)
	n, _ = srv.Notification(res.ID)
	assert.Equal(t, "Din order B-2 har skickats", n.Rendered[0].Subject)
	assert.Equal(t, "sv", n.Rendered[0].Language)
	assert.Empty(t, n.Rendered[0].Text, "parts the language lacks are left empty, not taken from another")

	res, err = srv.Client().Event("order-shipped").To(ann).Channel(sendivent.ChannelSMS).
		Payload(sendivent.Payload{"order_id": "C-3", "tracking_url": "https://t.example/C-3"}).Send(ctx)
	require.NoError(t, err)
	n, _ = srv.Notification(res.ID)
	assert.Equal(t, "Order C-3 shipped: https://t.example/C-3", n.Rendered[0].Text)

	// A push with a compare; the rendered parts are in the control JSON too.
	res, err = srv.Client().Event("cart").To(sendivent.Contact{Email: "x@example.com", PushTokens: []string{"ExponentPushToken[1]"}}).
		Payload(sendivent.Payload{"count": 3}).Send(ctx)
	require.NoError(t, err)
	resp, err := http.Get(srv.URL + "/_fake/notifications/" + res.ID)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var got struct {
		Rendered []map[string]any `json:"rendered"`
	}
	require.NoError(t, json.Unmarshal(body, &got), "%s", body)
	require.Len(t, got.Rendered, 1)
	assert.Equal(t, "Hi: 3 items", got.Rendered[0]["title"])
	assert.Equal(t, "They will wait.", got.Rendered[0]["body"])
	assert.Equal(t, "push", got.Rendered[0]["channel"])
	assert.NotContains(t, got.Rendered[0], "problems")
}

// TestFakeReportsMissingVariables: under New, a missing variable fails
// the test naming event, channel, language, part and variable; a plain
// server records it; a strict one answers the send 422.
func TestFakeReportsMissingVariables(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	payload := sendivent.Payload{"order_id": "A-17", "lines": []any{}} // no tracking_url

	rec := &recorder{TB: t}
	srv := sendiventtest.New(rec, catalog()...)
	res, err := srv.Client().Event("order-shipped").To(ann).Channel(sendivent.ChannelSMS).Language("de").Payload(payload).Send(ctx)
	require.NoError(t, err, "the service accepts it: it renders a blank")
	n, _ := srv.Notification(res.ID)
	assert.Equal(t, "Order A-17 shipped: ", n.Rendered[0].Text)
	want := `event "order-shipped", sms template, text: variable "tracking_url" is missing: neither the payload, the contact nor the system provides it`
	assert.Equal(t, []string{want}, n.Rendered[0].Problems)
	assert.Equal(t, []sendiventtest.TemplateProblem{{
		NotificationID: res.ID, Event: "order-shipped", Channel: sendivent.ChannelSMS, Part: "text", Variable: "tracking_url",
	}}, srv.TemplateProblems())
	errs := rec.end()
	require.Len(t, errs, 1)
	assert.Equal(t, "sendiventtest: messages rendered with missing variables or template errors (the person would read blanks):\n\t"+want, errs[0])

	// Strict: 422, and nothing is created.
	strict := sendiventtest.NewServer(append(catalog(), sendiventtest.WithStrictTemplates())...)
	defer strict.Close()
	_, err = strict.Client().Event("order-shipped").To(sendivent.Contact{Phone: "+46701234567"}).Payload(payload).Send(ctx)
	var apiErr *sendivent.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 422, apiErr.StatusCode)
	assert.Equal(t, "TEMPLATE_VARIABLE_MISSING", apiErr.Code)
	assert.Equal(t, `event "order-shipped", sms template, text: variable "tracking_url" is missing: neither the payload, the contact nor the system provides it (the fake's strict templates; the service would render it blank)`, apiErr.Message)
	assert.Equal(t, "sms", apiErr.Channel)
	assert.Empty(t, strict.Notifications())

	// The contact's name is there for the email, which a new contact
	// without one lacks: its fallback covers it.
	res, err = strict.Client().Event("order-shipped").To(sendivent.Address("bob@example.com")).Payload(payload).Send(ctx)
	require.NoError(t, err)
	n, _ = strict.Notification(res.ID)
	assert.Equal(t, "Hi there, order A-17 from Example App.", n.Rendered[0].Text)
}

func TestFakeSystemVariables(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t,
		sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "hi", Templates: []sendiventtest.Template{
			{Channel: sendivent.ChannelEmail, Subject: "{{app.name}} <{{sender.email}}> {{cdn}}/logo.png {{payload.app}}"},
		}}),
		sendiventtest.WithTemplateEngine(templates.Handlebars()),
		sendiventtest.WithSystemVariables(map[string]any{"app": map[string]any{"name": "Acme"}, "cdn": "https://cdn.acme.example"}))
	res, err := srv.Client().Event("hi").To(ann).Payload(sendivent.Payload{"app": "mine"}).Send(context.Background())
	require.NoError(t, err)
	n, _ := srv.Notification(res.ID)
	assert.Equal(t, "Acme <noreply@example.com> https://cdn.acme.example/logo.png mine", n.Rendered[0].Subject,
		"a system variable wins at the root; the payload's stays under payload.")
}

// TestFakeRefusesTemplatesItCannotRender: templates without an engine, a
// malformed one, a part its channel lacks.
func TestFakeRefusesTemplatesItCannotRender(t *testing.T) {
	t.Parallel()
	ev := func(tpl sendiventtest.Template) sendiventtest.Option {
		return sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "e", Templates: []sendiventtest.Template{tpl}})
	}
	engine := sendiventtest.WithTemplateEngine(templates.Handlebars())
	tests := []struct {
		name string
		opts []sendiventtest.Option
		want string
	}{
		{"no engine", []sendiventtest.Option{sendiventtest.WithCatalog("testdata/catalog")},
			"sendiventtest: events cart, order-shipped have templates and no engine renders them: add sendiventtest.WithTemplateEngine(templates.Handlebars()), from the module github.com/sendivent/sendivent-go/templates"},
		{"malformed", []sendiventtest.Option{engine, ev(sendiventtest.Template{Channel: "email", Subject: "ok", HTML: "<p>\n{{#if x}}"})},
			`sendiventtest: event "e", email template, html: line 2: `},
		{"unknown helper", []sendiventtest.Option{engine, ev(sendiventtest.Template{Channel: "sms", Language: "sv", Text: "{{money total}}"})},
			`sendiventtest: event "e", sms template (sv), text: line 1: unknown helper "money"`},
		{"part the channel lacks", []sendiventtest.Option{engine, ev(sendiventtest.Template{Channel: "sms", Subject: "x"})},
			`sendiventtest: event "e": sms template: a sms template has no subject (its parts: text)`},
		{"catalogue missing", []sendiventtest.Option{engine, sendiventtest.WithCatalog("testdata/none")}, "sendiventtest: catalogue: open testdata/none"},
		{"not a system variable", []sendiventtest.Option{sendiventtest.WithSystemVariables(map[string]any{"brand": 1})},
			`sendiventtest: WithSystemVariables: "brand" is not a system variable (want app, sender, platform or cdn)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			defer func() {
				r := recover()
				require.NotNil(t, r)
				assert.Contains(t, fmt.Sprint(r), tt.want)
			}()
			sendiventtest.NewServer(tt.opts...).Close()
		})
	}
}

// TestFakeServesTemplates: GET /v1/events/{id} answers the catalogue's
// templates, which "sendivent events pull" reads.
func TestFakeServesTemplates(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, catalog()...)
	ctx := context.Background()
	list, err := srv.Client().Events.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "Order shipped", list[1].Name)
	assert.Equal(t, []sendivent.Channel{"email", "sms"}, list[1].Channels)
	ev, err := srv.Client().Events.Get(ctx, "order-shipped")
	require.NoError(t, err)
	var ts []map[string]string
	require.NoError(t, json.Unmarshal(ev.Templates, &ts))
	require.Len(t, ts, 3)
	assert.Equal(t, map[string]string{"channel": "email", "language": "sv", "subject": "Din order {{order_id}} har skickats"}, ts[1])
	assert.Equal(t, "sms", ts[2]["channel"])
}
