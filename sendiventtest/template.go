package sendiventtest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sendivent/sendivent-go"
)

// Template is an event's template for one channel in one language: the
// parts that channel has. Templates are Handlebars, as the service's are
// (reference: the service's docs on templates); a TemplateEngine renders
// them.
//
//	channel                            parts
//	email                              Subject, HTML, Text
//	sms, slack, telegram, whatsapp,    Text
//	discord
//	push                               Title, Body
//
// A part the channel does not have is an error when the server starts.
type Template struct {
	Channel sendivent.Channel `json:"channel"`
	// Language is an ISO 639-1 code ("en", "sv"); "" is the event's
	// default template, used when no template has the send's language.
	Language string `json:"language,omitempty"`
	Subject  string `json:"subject,omitempty"`
	HTML     string `json:"html,omitempty"`
	Text     string `json:"text,omitempty"`
	Title    string `json:"title,omitempty"`
	Body     string `json:"body,omitempty"`
	// Extra holds parts this version does not render, by name ("x-amp"),
	// kept as read so that a pulled catalogue loses nothing.
	Extra map[string]string `json:"extra,omitempty"`
}

// Template part names, as catalogue files and TemplateProblem name them.
const (
	PartSubject = "subject"
	PartHTML    = "html"
	PartText    = "text"
	PartTitle   = "title"
	PartBody    = "body"
)

// ChannelParts returns the parts a template of channel ch has, in the
// order a message shows them; nil for an unknown channel.
func ChannelParts(ch sendivent.Channel) []string {
	switch ch {
	case sendivent.ChannelEmail:
		return []string{PartSubject, PartHTML, PartText}
	case sendivent.ChannelPush:
		return []string{PartTitle, PartBody}
	case sendivent.ChannelSMS, sendivent.ChannelSlack, sendivent.ChannelTelegram,
		sendivent.ChannelWhatsApp, sendivent.ChannelDiscord:
		return []string{PartText}
	}
	return nil
}

// Part returns the source of part name ("subject", "html", …), or "".
func (t Template) Part(name string) string {
	if f := partField(name, &t.Subject, &t.HTML, &t.Text, &t.Title, &t.Body); f != nil {
		return *f
	}
	return ""
}

// setPart sets part name; it reports false for a name that is not a part.
func (t *Template) setPart(name, src string) bool {
	f := partField(name, &t.Subject, &t.HTML, &t.Text, &t.Title, &t.Body)
	if f != nil {
		*f = src
	}
	return f != nil
}

// partField is the field of part name among the five that a template and
// a rendered message both have; nil for a name that is not a part.
func partField(name string, subject, html, text, title, body *string) *string {
	switch name {
	case PartSubject:
		return subject
	case PartHTML:
		return html
	case PartText:
		return text
	case PartTitle:
		return title
	case PartBody:
		return body
	}
	return nil
}

// check reports a template the fake cannot use: an unknown channel, or a
// part its channel does not have.
func (t Template) check() error {
	parts := ChannelParts(t.Channel)
	if parts == nil {
		return fmt.Errorf("template of unknown channel %q", t.Channel)
	}
	for _, p := range []string{PartSubject, PartHTML, PartText, PartTitle, PartBody} {
		if t.Part(p) != "" && !slices.Contains(parts, p) {
			return fmt.Errorf("%s template%s: a %s template has no %s (its parts: %s)",
				t.Channel, langSuffix(t.Language), t.Channel, p, strings.Join(parts, ", "))
		}
	}
	return nil
}

func langSuffix(lang string) string {
	if lang == "" {
		return ""
	}
	return " (" + lang + ")"
}

// TemplateEngine renders templates for the fake. The one that renders as
// the service does is templates.Handlebars(), in the module
// github.com/sendivent/sendivent-go/templates (a module of its own, so that
// an application that imports only this package does not get a template
// engine in its build).
type TemplateEngine interface {
	// Check reports a template that cannot render: malformed, or calling a
	// helper the service does not have. The error says where and what.
	Check(source string) error
	// Render renders source with data, escaping values for HTML when html
	// is true. missing lists the variables that source uses and data does
	// not provide (absent, or null), each once, in order of first use; they
	// render empty, as the service would render them.
	Render(source string, data map[string]any, html bool) (text string, missing []MissingVariable, err error)
}

// MissingVariable is a variable that a template uses and the data lacks.
type MissingVariable struct {
	// Name is the variable as the template writes it: "tracking_url",
	// "contact.firstName", "@root.order_id".
	Name string
	// Hint says more when the engine knows why, such as a name inside a
	// loop that Handlebars looks up in the loop's item: "write
	// @root.order_id".
	Hint string
}

func (m MissingVariable) String() string {
	if m.Hint == "" {
		return m.Name
	}
	return m.Name + " (" + m.Hint + ")"
}

// RenderedMessage is one message as the person receives it: its template's
// parts rendered with the send's payload, the recipient and the system
// variables. Only the parts of its channel are set.
type RenderedMessage struct {
	MessageID string            `json:"message_id"`
	Channel   sendivent.Channel `json:"channel"`
	// Language is the language of the template used ("" for the default
	// template).
	Language string `json:"language,omitempty"`
	Subject  string `json:"subject,omitempty"`
	HTML     string `json:"html,omitempty"`
	Text     string `json:"text,omitempty"`
	Title    string `json:"title,omitempty"`
	Body     string `json:"body,omitempty"`
	// Problems are what went wrong rendering it (missing variables, a
	// helper's error); each also is in Server.TemplateProblems.
	Problems []string `json:"problems,omitempty"`
}

// TemplateProblem is a message the fake could not render as a person
// should read it: a variable that neither the payload, the contact nor the
// system provides, or a template error. A server made by New fails its test
// with each; a plain server records them (Server.TemplateProblems); with
// WithStrictTemplates a send that would have one is answered 422.
type TemplateProblem struct {
	NotificationID string            `json:"notification_id,omitempty"`
	Event          string            `json:"event"`
	Channel        sendivent.Channel `json:"channel"`
	Language       string            `json:"language,omitempty"`
	Part           string            `json:"part"`
	// Variable is the missing variable, as the template writes it; "" for
	// a template error.
	Variable string `json:"variable,omitempty"`
	Hint     string `json:"hint,omitempty"`
	// Err is the template error, when Variable is "".
	Err string `json:"error,omitempty"`
}

func (p TemplateProblem) String() string {
	where := fmt.Sprintf("event %q, %s template%s, %s", p.Event, p.Channel, langSuffix(p.Language), p.Part)
	if p.Variable == "" {
		return where + ": " + p.Err
	}
	s := fmt.Sprintf("%s: variable %q is missing: neither the payload, the contact nor the system provides it", where, p.Variable)
	if p.Hint != "" {
		s += " (" + p.Hint + ")"
	}
	return s
}

// WithTemplateEngine sets the engine that renders the templates of events
// (WithCatalog, EventConfig.Templates). Templates without an engine make
// NewServer panic: the fake does not render blanks.
//
//	srv := sendiventtest.New(t,
//		sendiventtest.WithCatalog("testdata/catalog"),
//		sendiventtest.WithTemplateEngine(templates.Handlebars()))
func WithTemplateEngine(e TemplateEngine) Option {
	return func(c *config) { c.tpl.engine = e }
}

// WithStrictTemplates answers a send 422 TEMPLATE_VARIABLE_MISSING (or
// TEMPLATE_ERROR) when one of the messages it would create could not be
// rendered: a variable is missing, or a helper fails. The error names the
// event, channel, language, part and variable. This is the fake's own
// behaviour, for programs that cannot read a test's report: the service
// renders a missing variable blank.
func WithStrictTemplates() Option {
	return func(c *config) { c.tpl.strict = true }
}

// DefaultSystemVariables returns the system variables that templates see
// unless WithSystemVariables says otherwise: app, sender, platform and cdn,
// with made-up values. The service fills them from the account's settings;
// their fields are not documented beyond app.domain, so a template that
// uses another one reports it missing until WithSystemVariables gives it.
func DefaultSystemVariables() map[string]any {
	return map[string]any{
		"app":      map[string]any{"name": "Example App", "domain": "example.com", "url": "https://example.com"},
		"sender":   map[string]any{"name": "Example App", "email": "noreply@example.com"},
		"platform": map[string]any{"name": "Sendivent"},
		"cdn":      "https://cdn.example.com",
	}
}

// systemNames are the system variables, which a payload key cannot shadow.
var systemNames = []string{"app", "sender", "platform", "cdn"}

// WithSystemVariables sets system variables of the templates: the keys
// app, sender, platform and cdn, each replacing its default (see
// DefaultSystemVariables) whole. NewServer panics on another key.
func WithSystemVariables(vars map[string]any) Option {
	return func(c *config) {
		if c.tpl.system == nil {
			c.tpl.system = DefaultSystemVariables()
		}
		for k, v := range vars {
			if !slices.Contains(systemNames, k) {
				c.tpl.errs = append(c.tpl.errs, fmt.Sprintf("WithSystemVariables: %q is not a system variable (want app, sender, platform or cdn)", k))
				continue
			}
			c.tpl.system[k] = v
		}
	}
}
