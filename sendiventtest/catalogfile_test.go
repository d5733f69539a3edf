package sendiventtest_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

const orderFile = `# A comment.
title: Order shipped
steps: email, wait:1h, sms
listeners: #ops, ops@example.com
x-owner: growth team

=== email subject ===
Your order {{order_id}} has shipped
=== email html ===
<p>Hi</p>

=== email x-amp ===
<amp/>
=== email subject sv ===
Din order {{order_id}}
=== sms text ===
{{order_id}}: {{tracking_url}}
=== x-raw ===
{"kept": true}
line two
`

func TestParseCatalogFile(t *testing.T) {
	t.Parallel()
	f, err := sendiventtest.ParseCatalogFile("catalog/order-shipped.event", []byte(orderFile))
	require.NoError(t, err)
	assert.Equal(t, sendiventtest.CatalogFile{
		EventConfig: sendiventtest.EventConfig{
			Name: "order-shipped", Title: "Order shipped",
			Steps:     []sendiventtest.Step{sendiventtest.Send(sendivent.ChannelEmail), sendiventtest.Wait(time.Hour), sendiventtest.Send(sendivent.ChannelSMS)},
			Listeners: []sendivent.Recipient{sendivent.Address("#ops"), sendivent.Address("ops@example.com")},
			Templates: []sendiventtest.Template{
				{Channel: "email", Subject: "Your order {{order_id}} has shipped", HTML: "<p>Hi</p>\n", Extra: map[string]string{"x-amp": "<amp/>"}},
				{Channel: "email", Language: "sv", Subject: "Din order {{order_id}}"},
				{Channel: "sms", Text: "{{order_id}}: {{tracking_url}}"},
			},
		},
		Notes: map[string]string{"x-owner": "growth team", "x-raw": "{\"kept\": true}\nline two"},
	}, f)

	// Format writes it back so that it reads equal, and is stable.
	out, err := f.Format()
	require.NoError(t, err)
	back, err := sendiventtest.ParseCatalogFile("order-shipped.event", out)
	require.NoError(t, err)
	assert.Equal(t, f, back)
	again, err := back.Format()
	require.NoError(t, err)
	assert.Equal(t, string(out), string(again))
	assert.Contains(t, string(out), "title: Order shipped\nsteps: email, wait:1h0m0s, sms\n")
	assert.Contains(t, string(out), "=== email html ===\n<p>Hi</p>\n\n=== email x-amp ===\n")

	// CRLF files read as their LF twins.
	crlf, err := sendiventtest.ParseCatalogFile("e.event", []byte("title: T\r\n=== sms text ===\r\nhi\r\n"))
	require.NoError(t, err)
	assert.Equal(t, "T", crlf.Title)
	assert.Equal(t, "hi", crlf.Templates[0].Text)
}

func TestParseCatalogFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, text, want string }{
		{"unknown key", "titel: x\n", `e.event:1: unknown key "titel" (want title, steps, listeners, or x-… for a note)`},
		{"not key: value", "\n\nhello\n", `e.event:3: "hello": want "key: value"`},
		{"bad step", "steps: email, fax\n", `e.event:1: step "fax": unknown channel`},
		{"unknown channel", "=== fax text ===\nx\n", `e.event:1: unknown channel "fax"`},
		{"unknown part", "=== email subject ===\nx\n=== email subjet ===\n", `e.event:3: a email template has no part "subjet" (its parts: subject, html, text)`},
		{"part of another channel", "=== sms subject ===\nx\n", `e.event:1: a sms template has no part "subject" (its parts: text)`},
		{"marker without a part", "=== email ===\nx\n", `e.event:1: want "=== CHANNEL PART ===" or "=== CHANNEL PART LANGUAGE ==="`},
		{"twice", "=== sms text ===\na\n=== sms text ===\nb\n", `e.event:3: section "sms text" again (first at line 1)`},
		{"note with words", "=== x-a b ===\n", `e.event:1: a note section is one name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := sendiventtest.ParseCatalogFile("e.event", []byte(tt.text))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	_, err := sendiventtest.ParseCatalogFile(".event", nil)
	assert.EqualError(t, err, ".event:1: the file name names no event")
}

func TestCatalogFileFormatErrors(t *testing.T) {
	t.Parallel()
	f := sendiventtest.CatalogFile{EventConfig: sendiventtest.EventConfig{Name: "e", Templates: []sendiventtest.Template{
		{Channel: "sms", Text: "a\n=== sms text ===\nb"},
	}}}
	_, err := f.Format()
	assert.EqualError(t, err, `event "e", sms text: the line "=== sms text ===" reads as a section marker`)
	f.Templates = []sendiventtest.Template{{Channel: "push", Text: "x"}}
	_, err = f.Format()
	assert.EqualError(t, err, `event "e": push template: a push template has no text (its parts: title, body)`)
	for _, bad := range []string{"", "a/b", `a\b`, ".hidden"} {
		_, err := sendiventtest.CatalogFileName(bad)
		assert.Error(t, err, bad)
	}
	name, err := sendiventtest.CatalogFileName("user.welcome")
	require.NoError(t, err)
	assert.Equal(t, "user.welcome.event", name)
}

func TestReadCatalog(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := sendiventtest.ReadCatalog(dir)
	assert.EqualError(t, err, "catalogue: no .event files in "+dir)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b.event"), []byte("=== sms text ===\nB\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.event"), []byte("=== sms text ===\nA\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "README.md"), []byte("not an event"), 0o644))
	fs, err := sendiventtest.ReadCatalog(dir)
	require.NoError(t, err)
	require.Len(t, fs, 2)
	assert.Equal(t, "a", fs[0].Name)
	assert.Equal(t, "B", fs[1].Templates[0].Text)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.event"), []byte("oops\n"), 0o644))
	_, err = sendiventtest.ReadCatalog(dir)
	assert.ErrorContains(t, err, "c.event:1: \"oops\"")
}
