package sendiventtest_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

// pathEngine is a TemplateEngine for these tests: {{a.b}} is the value at
// that path, and nothing else is template syntax; "{{!}}" is an error. The
// real one is in the module github.com/sendivent/sendivent-go/templates.
type pathEngine struct{}

var varRe = regexp.MustCompile(`\{\{([^}]*)\}\}`)

func (pathEngine) Check(src string) error {
	if strings.Contains(src, "{{bad") {
		return errors.New("line 1: bad")
	}
	return nil
}

func (pathEngine) Render(src string, data map[string]any, html bool) (string, []sendiventtest.MissingVariable, error) {
	if strings.Contains(src, "{{!}}") {
		return "", nil, errors.New("boom")
	}
	var missing []sendiventtest.MissingVariable
	out := varRe.ReplaceAllStringFunc(src, func(m string) string {
		path := strings.TrimSpace(m[2 : len(m)-2])
		var v any = data
		for _, p := range strings.Split(path, ".") {
			obj, _ := v.(map[string]any)
			v = obj[p]
		}
		if v == nil {
			missing = append(missing, sendiventtest.MissingVariable{Name: path})
			return ""
		}
		s := fmt.Sprint(v)
		if html {
			s = strings.ReplaceAll(s, "<", "&lt;")
		}
		return s
	})
	return out, missing, nil
}

func TestTemplatesRenderEachMessageAsItStarts(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.New(t, sendiventtest.WithManualLifecycle(), sendiventtest.WithTemplateEngine(pathEngine{}),
		sendiventtest.WithEvents(sendiventtest.EventConfig{
			Name:  "drip",
			Steps: []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelEmail), sendiventtest.Wait(time.Hour), sendiventtest.Send(sendivent.ChannelSMS)},
			Templates: []sendiventtest.Template{
				{Channel: "email", Subject: "Hi {{contact.firstName}} {{contact.lastName}} ({{contact.externalId}}, {{contact.meta.plan}}, {{contact.meta.accountCredits}})",
					HTML: "<p>{{code}}</p>", Text: "{{payload.code}} {{app.domain}} {{code}}"},
				{Channel: "email", Language: "sv", Subject: "Hej {{contact.firstName}}"},
				{Channel: "sms", Language: "en", Text: "SMS {{code}} for {{contact.phone}}"},
			},
		}))
	c := srv.Client()
	ctx := context.Background()
	to := sendivent.Contact{ID: "u_1", Email: "ann@example.com", Phone: "+46701234567", Name: "Ann Marie Lee",
		Meta: map[string]any{"plan": "pro"}, Extra: map[string]any{"account_credits": 5}}
	res, err := c.Event("drip").To(to).Payload(sendivent.Payload{"code": "<42>"}).Send(ctx)
	require.NoError(t, err)
	n, _ := srv.Notification(res.ID)
	require.Len(t, n.Rendered, 1, "the SMS step has not started")
	assert.Equal(t, sendiventtest.RenderedMessage{
		MessageID: n.Messages[0].ID, Channel: "email",
		Subject: "Hi Ann Marie Lee (u_1, pro, 5)", HTML: "<p>&lt;42></p>", Text: "<42> example.com <42>",
	}, n.Rendered[0])
	for range 3 { // sent, delivered, out of the wait
		require.NoError(t, srv.Advance(res.ID))
	}
	n, _ = srv.Notification(res.ID)
	require.Len(t, n.Rendered, 2)
	assert.Equal(t, "SMS <42> for +46701234567", n.Rendered[1].Text)
	assert.Equal(t, "en", n.Rendered[1].Language, "the only language there is")
	assert.Equal(t, n.Messages[1].ID, n.Rendered[1].MessageID)

	// The contact's language picks the template when the send has none.
	res, err = c.Event("drip").To(sendivent.Contact{Email: "sv@example.com", Name: "Sven", Language: "sv"}).Send(ctx)
	require.NoError(t, err)
	n, _ = srv.Notification(res.ID)
	assert.Equal(t, "Hej Sven", n.Rendered[0].Subject)
	assert.Equal(t, "sv", n.Rendered[0].Language)
}

func TestTemplateProblems(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle(), sendiventtest.WithTemplateEngine(pathEngine{}),
		sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "otp", Templates: []sendiventtest.Template{
			{Channel: "sms", Text: "{{code}} {{!}}"},
			{Channel: "email", Language: "de", Subject: "{{code}} {{contact.name}}"},
		}}))
	defer srv.Close()
	ctx := context.Background()
	res, err := srv.Client().Event("otp").To(sendivent.Address("+46701234567")).Send(ctx)
	require.NoError(t, err)
	res2, err := srv.Client().Event("otp").To(sendivent.Address("x@example.com")).Language("de").Send(ctx)
	require.NoError(t, err)
	assert.Equal(t, []sendiventtest.TemplateProblem{
		{NotificationID: res.ID, Event: "otp", Channel: "sms", Part: "text", Err: "boom"},
		{NotificationID: res2.ID, Event: "otp", Channel: "email", Language: "de", Part: "subject", Variable: "code"},
		{NotificationID: res2.ID, Event: "otp", Channel: "email", Language: "de", Part: "subject", Variable: "contact.name"},
	}, srv.TemplateProblems())
	assert.Equal(t, `event "otp", sms template, text: boom`, srv.TemplateProblems()[0].String())
	assert.Equal(t, `event "otp", email template (de), subject: variable "code" is missing: neither the payload, the contact nor the system provides it`,
		srv.TemplateProblems()[1].String())
	srv.Reset()
	assert.Empty(t, srv.TemplateProblems())

	// Strict: a template error is a 422 TEMPLATE_ERROR.
	strict := sendiventtest.NewServer(sendiventtest.WithTemplateEngine(pathEngine{}), sendiventtest.WithStrictTemplates(),
		sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "otp", Templates: []sendiventtest.Template{{Channel: "sms", Text: "{{!}}"}}}))
	defer strict.Close()
	_, err = strict.Client().Event("otp").To(sendivent.Address("+46701234567")).Send(ctx)
	var apiErr *sendivent.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "TEMPLATE_ERROR", apiErr.Code)
	assert.Equal(t, 422, apiErr.StatusCode)
}

func TestTemplatesWithoutEngine(t *testing.T) {
	t.Parallel()
	assert.PanicsWithValue(t, "sendiventtest: events otp have templates and no engine renders them: add sendiventtest.WithTemplateEngine(templates.Handlebars()), from the module github.com/sendivent/sendivent-go/templates", func() {
		sendiventtest.NewServer(sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "otp", Templates: []sendiventtest.Template{{Channel: "sms", Text: "x"}}}))
	})
	assert.PanicsWithValue(t, `sendiventtest: event "otp", sms template, text: line 1: bad`, func() {
		sendiventtest.NewServer(sendiventtest.WithTemplateEngine(pathEngine{}),
			sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "otp", Templates: []sendiventtest.Template{{Channel: "sms", Text: "{{bad}}"}}}))
	})
	// Without templates an engine changes nothing.
	srv := sendiventtest.New(t, sendiventtest.WithTemplateEngine(pathEngine{}))
	res, err := srv.Client().Event("any").To(alice).Send(context.Background())
	require.NoError(t, err)
	n, _ := srv.Notification(res.ID)
	assert.Empty(t, n.Rendered)
}

func TestChannelParts(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"subject", "html", "text"}, sendiventtest.ChannelParts(sendivent.ChannelEmail))
	assert.Equal(t, []string{"title", "body"}, sendiventtest.ChannelParts(sendivent.ChannelPush))
	for _, ch := range []sendivent.Channel{"sms", "slack", "telegram", "whatsapp", "discord"} {
		assert.Equal(t, []string{"text"}, sendiventtest.ChannelParts(ch), ch)
	}
	assert.Nil(t, sendiventtest.ChannelParts("fax"))
}

// Rendered messages count toward the retention budget: a template that
// makes each message large keeps fewer notifications, and the problems
// kept are bounded like the records.
func TestRenderedMessagesAreBounded(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(sendiventtest.WithManualLifecycle(), sendiventtest.WithTemplateEngine(pathEngine{}),
		sendiventtest.WithRetention(50),
		sendiventtest.WithEvents(sendiventtest.EventConfig{
			Name:      "big",
			Steps:     []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelEmail)},
			Templates: []sendiventtest.Template{{Channel: "email", Subject: "{{missing}}", HTML: strings.Repeat("{{x}}", 256)}},
		}))
	defer srv.Close()
	c := srv.Client()
	x := strings.Repeat("x", 4<<10) // 4 KiB of payload renders 1 MiB of HTML
	for range 48 {
		_, err := c.Event("big").To(sendivent.Address("a@example.com")).Payload(sendivent.Payload{"x": x}).Send(context.Background())
		require.NoError(t, err)
	}
	kept := len(srv.Notifications())
	t.Logf("kept %d of 48 notifications of 1 MiB each", kept)
	assert.LessOrEqual(t, kept, sendiventtest.RetainedBytes>>20+1, "the rendered HTML counts toward RetainedBytes")
	assert.Equal(t, 48, srv.Stats().Created, "counters count everything")
	for range 20 {
		_, err := c.Event("big").To(sendivent.Address("a@example.com")).Payload(sendivent.Payload{"x": "y"}).Send(context.Background())
		require.NoError(t, err)
	}
	assert.Equal(t, 50, len(srv.TemplateProblems()), "problems are kept like records: the newest 50")
}
