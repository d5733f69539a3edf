package main

import (
	"strings"

	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

const fakeTemplatesHelp = `
Templates: events may carry templates (--catalog DIR, the files of "sendivent
events pull"; or "templates" in --config). The fake renders each message with
the send's payload, the contact and made-up system variables, and shows the
result in GET /_fake/notifications ("rendered": subject, html, text, title,
body per message, and the problems). A variable that nothing provides renders
blank, as on the service, and is listed in "problems"; with --strict the send
is answered 422 TEMPLATE_VARIABLE_MISSING instead, naming the event, channel,
language, part and variable (the fake's own behaviour: the service renders it
blank).`

// templateOptions are the fake's template options: always an engine, the
// catalogue's events, and strictness.
func (f *fakeFlags) templateOptions() ([]sendiventtest.Option, error) {
	opts := []sendiventtest.Option{sendiventtest.WithTemplateEngine(templates.Handlebars())}
	if f.strict {
		opts = append(opts, sendiventtest.WithStrictTemplates())
	}
	if f.catalog != "" {
		files, err := sendiventtest.ReadCatalog(f.catalog)
		if err != nil {
			return nil, usagef("--catalog: %s", strings.TrimPrefix(err.Error(), "catalogue: "))
		}
		events := make([]sendiventtest.EventConfig, len(files))
		for i, cf := range files {
			events[i] = cf.EventConfig
		}
		opts = append(opts, sendiventtest.WithEvents(events...))
	}
	return opts, nil
}
