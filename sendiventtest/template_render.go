package sendiventtest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/sendivent/sendivent-go"
)

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
	if f := partField(name, &r.Subject, &r.HTML, &r.Text, &r.Title, &r.Body); f != nil {
		*f = text
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
	s.growNotificationLocked(n, r.size())
	for _, p := range probs {
		p.NotificationID = n.id
		s.tpl.problems = append(s.tpl.problems, p)
	}
	if max := s.keep.max; max > 0 && len(s.tpl.problems) > max { // bounded as the records are
		s.tpl.problems = dropFront(s.tpl.problems, len(s.tpl.problems)-max)
	}
}

// size is about what r holds in memory, for the retention budget.
func (r *RenderedMessage) size() int {
	n := len(r.MessageID) + len(r.Channel) + len(r.Language) + len(r.Subject) + len(r.HTML) + len(r.Text) + len(r.Title) + len(r.Body)
	for _, p := range r.Problems {
		n += len(p)
	}
	return n
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

// templateProblemLinesLocked is New's report of the template problems.
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
