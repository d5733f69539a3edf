package sendiventtest

import (
	"fmt"
	"maps"
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
	switch name {
	case PartSubject:
		return t.Subject
	case PartHTML:
		return t.HTML
	case PartText:
		return t.Text
	case PartTitle:
		return t.Title
	case PartBody:
		return t.Body
	}
	return ""
}

// setPart sets part name; it reports false for a name that is not a part.
func (t *Template) setPart(name, src string) bool {
	switch name {
	case PartSubject:
		t.Subject = src
	case PartHTML:
		t.HTML = src
	case PartText:
		t.Text = src
	case PartTitle:
		t.Title = src
	case PartBody:
		t.Body = src
	default:
		return false
	}
	return true
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

// templateConfig is what the options say about templates.
type templateConfig struct {
	engine    TemplateEngine
	strict    bool
	system    map[string]any
	templates map[string][]Template // by event
	titles    map[string]string     // by event, when it has one
	errs      []string              // reported by NewServer
}

// setTemplates records event's title and templates (nil forgets them), in
// a copy.
func (c *templateConfig) setTemplates(event, title string, ts []Template) {
	if c.templates == nil {
		c.templates, c.titles = map[string][]Template{}, map[string]string{}
	}
	delete(c.titles, event)
	if title != "" {
		c.titles[event] = title
	}
	delete(c.templates, event)
	if len(ts) > 0 {
		c.templates[event] = slices.Clone(ts)
	}
}

// title is event's display name: its Title, else its name.
func (c *templateConfig) title(event string) string {
	if t := c.titles[event]; t != "" {
		return t
	}
	return event
}

// templateSteps are the Send steps of an event declared by its templates:
// one per channel that has one, in the default routing order.
func templateSteps(ts []Template) []Step {
	var steps []Step
	for _, ch := range defaultChannelOrder {
		if slices.ContainsFunc(ts, func(t Template) bool { return t.Channel == ch }) {
			steps = append(steps, Send(ch))
		}
	}
	return steps
}

// templateState is the server's rendering state.
type templateState struct {
	templateConfig
	problems []TemplateProblem
}

// newTemplateState checks the templates of the configuration: each
// template's channel and parts, an engine is given and accepts every part.
// A Send step without a template sends a message without content.
func newTemplateState(c templateConfig) (templateState, error) {
	if len(c.errs) > 0 {
		return templateState{}, fmt.Errorf("%s", strings.Join(c.errs, "; "))
	}
	if c.system == nil {
		c.system = DefaultSystemVariables()
	}
	names := make([]string, 0, len(c.templates))
	for name := range c.templates {
		names = append(names, name)
	}
	slices.Sort(names)
	if len(names) > 0 && c.engine == nil {
		return templateState{}, fmt.Errorf("events %s have templates and no engine renders them: add "+
			"sendiventtest.WithTemplateEngine(templates.Handlebars()), from the module "+
			"github.com/sendivent/sendivent-go/templates", strings.Join(names, ", "))
	}
	for _, name := range names {
		ts := c.templates[name]
		for _, t := range ts {
			if err := t.check(); err != nil {
				return templateState{}, fmt.Errorf("event %q: %v", name, err)
			}
			for _, p := range ChannelParts(t.Channel) {
				if src := t.Part(p); src != "" {
					if err := c.engine.Check(src); err != nil {
						return templateState{}, fmt.Errorf("event %q, %s template%s, %s: %v", name, t.Channel, langSuffix(t.Language), p, err)
					}
				}
			}
		}
	}
	return templateState{templateConfig: c}, nil
}

// pick returns event's template for channel ch in language lang: that
// language's, else the default template (""), else English, else the
// first language in alphabetical order. The service falls back to the
// event's default language; which one that is, its API does not say.
func (ts *templateState) pick(event string, ch sendivent.Channel, lang string) (Template, bool) {
	var cands []Template
	for _, t := range ts.templates[event] {
		if t.Channel == ch {
			cands = append(cands, t)
		}
	}
	if len(cands) == 0 {
		return Template{}, false
	}
	for _, want := range []string{lang, "", "en"} {
		for _, t := range cands {
			if strings.EqualFold(t.Language, want) {
				return t, true
			}
		}
	}
	slices.SortFunc(cands, func(a, b Template) int { return strings.Compare(a.Language, b.Language) })
	return cands[0], true
}

// renderData is what a template sees: the payload's keys at the root and
// under "payload" (the service's docs show both), "contact", and the
// system variables, which win over payload keys of the same name at the
// root (the payload's stay under "payload.").
func (ts *templateState) renderData(payload sendivent.Payload, contact map[string]any) map[string]any {
	data := make(map[string]any, len(payload)+2+len(ts.system))
	for k, v := range payload {
		data[k] = v
	}
	p := map[string]any(payload)
	if p == nil {
		p = map[string]any{}
	}
	data["payload"] = p
	data["contact"] = contact
	for k, v := range ts.system {
		data[k] = v
	}
	return data
}

// contactData is the recipient as templates see it, as the service merges
// it: email, name, firstName and lastName (the name split at its first
// space), avatar, externalId, id (the service's uuid), meta; only those the
// contact has. c is the stored contact (nil for a Slack channel).
func contactData(c *contact) map[string]any {
	out := map[string]any{}
	if c == nil {
		return out
	}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	set("id", c.uuid)
	set("email", c.ids.email)
	set("phone", c.ids.phone)
	set("name", c.ids.name)
	first, last, _ := strings.Cut(strings.TrimSpace(c.ids.name), " ")
	set("firstName", first)
	set("lastName", strings.TrimSpace(last))
	set("avatar", c.avatar)
	set("externalId", c.ids.externalID)
	set("username", c.username)
	set("language", c.language)
	if len(c.meta) > 0 {
		out["meta"] = c.meta
	}
	return out
}

// render renders event's template for channel ch: the message, and the
// problems found (each without a notification id).
func (ts *templateState) render(event string, ch sendivent.Channel, lang string, data map[string]any) (RenderedMessage, []TemplateProblem) {
	t, ok := ts.pick(event, ch, lang)
	if !ok {
		return RenderedMessage{}, nil
	}
	out := RenderedMessage{Channel: ch, Language: t.Language}
	var probs []TemplateProblem
	for _, part := range ChannelParts(ch) {
		src := t.Part(part)
		if src == "" {
			continue
		}
		text, missing, err := ts.engine.Render(src, data, part == PartHTML)
		base := TemplateProblem{Event: event, Channel: ch, Language: t.Language, Part: part}
		if err != nil {
			p := base
			p.Err = err.Error()
			probs = append(probs, p)
		}
		for _, m := range missing {
			p := base
			p.Variable, p.Hint = m.Name, m.Hint
			probs = append(probs, p)
		}
		out.setPart(part, text)
	}
	for _, p := range probs {
		out.Problems = append(out.Problems, p.String())
	}
	return out, probs
}

func (r *RenderedMessage) setPart(name, text string) {
	switch name {
	case PartSubject:
		r.Subject = text
	case PartHTML:
		r.HTML = text
	case PartText:
		r.Text = text
	case PartTitle:
		r.Title = text
	case PartBody:
		r.Body = text
	}
}

// renderMessageLocked renders the message m of n that has just been
// queued, from the contact as stored now, and records its problems.
func (s *Server) renderMessageLocked(n *notification, m *message) {
	if s.tpl.engine == nil || len(s.tpl.templates[n.event]) == 0 {
		return
	}
	var c *contact
	if n.contactID != "" {
		c = s.contacts.byKey["uuid:"+n.contactID]
	}
	lang := n.language
	if lang == "" && c != nil {
		lang = c.language
	}
	r, probs := s.tpl.render(n.event, m.channel, lang, s.tpl.renderData(n.payload, contactData(c)))
	r.MessageID = m.id
	n.rendered = append(n.rendered, r)
	for _, p := range probs {
		p.NotificationID = n.id
		s.tpl.problems = append(s.tpl.problems, p)
	}
}

// checkTemplatesLocked renders, without recording, every message that a
// send would create (each recipient's Send steps, the contact as the send
// would leave it) and, with WithStrictTemplates, answers the first problem
// 422.
func (s *Server) checkTemplatesLocked(event, lang string, payload sendivent.Payload, rcpts []recipient, plans [][]Step) *apiError {
	if !s.tpl.strict || s.tpl.engine == nil || len(s.tpl.templates[event]) == 0 {
		return nil
	}
	for i, rc := range rcpts {
		var c *contact
		if !rc.isChannel() {
			c = s.contacts.preview(rc)
		}
		l := lang
		if l == "" && c != nil {
			l = c.language
		}
		data := s.tpl.renderData(payload, contactData(c))
		for _, st := range plans[i] {
			if st.kind != stepSend {
				continue
			}
			if _, probs := s.tpl.render(event, st.channel, l, data); len(probs) > 0 {
				p := probs[0]
				code := "TEMPLATE_VARIABLE_MISSING"
				if p.Variable == "" {
					code = "TEMPLATE_ERROR"
				}
				return &apiError{status: 422, Error: p.String() + " (the fake's strict templates; the service would render it blank)",
					Code: code, Field: "payload", Channel: string(st.channel)}
			}
		}
	}
	return nil
}

// preview is the contact that upsert(r) would leave, without storing it;
// its uuid is a stand-in when the contact is new.
func (cs *contactStore) preview(r recipient) *contact {
	c := &contact{uuid: "00000000-0000-4000-8000-000000000000"}
	if old := cs.find(r); old != nil {
		cp := *old
		cp.meta = maps.Clone(old.meta)
		c = &cp
	}
	c.ids = cs.resolve(r)
	cs.apply(c, r)
	return c
}

// TemplateProblems returns the problems of every message rendered so far,
// in order: variables missing, template errors. New fails its test with
// each.
func (s *Server) TemplateProblems() []TemplateProblem {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.tpl.problems)
}

// templateProblemLines is New's report of the template problems.
func (s *Server) templateProblemLinesLocked() []string {
	if len(s.tpl.problems) == 0 {
		return nil
	}
	lines := make([]string, 0, len(s.tpl.problems))
	for _, p := range s.tpl.problems {
		lines = append(lines, p.String())
	}
	return []string{"messages rendered with missing variables or template errors (the person would read blanks):\n\t" +
		strings.Join(lines, "\n\t")}
}
