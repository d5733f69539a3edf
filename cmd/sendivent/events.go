package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
)

func newEventsCmd(a *app) *cobra.Command {
	return newGroupCmd(&cobra.Command{
		Use:   "events",
		Short: "The account's events and their templates",
		Long: `The events configured in the dashboard, through the API's read-only
events endpoints (which only one source documents; their format may change).`,
	}, newEventsPullCmd(a))
}

const eventsPullLong = `Save the account's catalogue (each event, its channels and its templates)
through the API into DIR, one file per event (EVENT.event), in the format
that "sendivent fake --catalog DIR", sendiventtest.WithCatalog and
"sendivent gen" read (go doc sendiventtest.CatalogFile). Existing files of
the same events are replaced; others are left alone. A pull that fails
(an event that cannot be fetched, or whose name cannot be a file's on every
system) changes nothing in DIR.

The API's template format is documented by one source only, without its
fields: templates are read leniently (a list of objects with a channel, a
language and their parts, or an object by channel, or by channel and
language), and what is not understood is kept in the files as x-… notes
and parts, which the fake ignores.`

func newEventsPullCmd(a *app) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:     "pull --dir DIR",
		Short:   "Save the account's events and templates as a catalogue",
		Long:    eventsPullLong,
		Example: `  sendivent events pull --dir catalog`,
		Args:    exactArgs(),
	}
	cmd.Flags().StringVar(&dir, "dir", "", "write the catalogue to `DIR` (created if need be)")
	_ = cmd.MarkFlagRequired("dir")
	a.apiRun(cmd, func(ctx context.Context, c *sendivent.Client, _ []string) error {
		return a.pullEvents(ctx, c, dir)
	})
	return cmd
}

// pulled is one event written by pull, as --json prints it.
type pulled struct {
	Event     string   `json:"event"`
	File      string   `json:"file"`
	Templates int      `json:"templates"`
	Notes     []string `json:"notes,omitempty"`
}

func (a *app) pullEvents(ctx context.Context, c *sendivent.Client, dir string) error {
	list, err := c.Events.List(ctx)
	if err != nil {
		return err
	}
	// Check every name before writing anything: each is one file's, and no
	// two are one file, even on a disk that ignores case.
	files := map[string]string{} // lower-case file name → event
	for _, e := range list {
		name, err := sendiventtest.CatalogFileName(e.Identifier)
		if err != nil {
			return fmt.Errorf("the account's %v", err)
		}
		if other, dup := files[strings.ToLower(name)]; dup {
			return fmt.Errorf("the account's events %q and %q would be one file, %s, where file names ignore case", other, e.Identifier, name)
		}
		files[strings.ToLower(name)] = e.Identifier
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Each event goes to a temporary file in dir first; only once every
	// one is written are they renamed into place (a rename replaces a
	// symlink rather than write through it), so that a pull that fails
	// leaves dir as it was.
	var out []pulled
	var temps []string
	defer func() {
		for _, t := range temps {
			_ = os.Remove(t) // gone already once renamed
		}
	}()
	for _, e := range list {
		info, err := c.Events.Get(ctx, e.Identifier)
		if err != nil {
			return err
		}
		switch info.Identifier {
		case "":
			info.Identifier = e.Identifier
		case e.Identifier:
		default:
			return fmt.Errorf("the API answered event %q for event %q", info.Identifier, e.Identifier)
		}
		f := catalogFileOf(info)
		data, err := f.Format()
		if err != nil {
			return err
		}
		tmp, err := writeTemp(dir, data)
		if tmp != "" {
			temps = append(temps, tmp)
		}
		if err != nil {
			return err
		}
		name, _ := sendiventtest.CatalogFileName(f.Name) // checked above
		p := pulled{Event: f.Name, File: filepath.Join(dir, name), Templates: len(f.Templates)}
		for k := range f.Notes {
			p.Notes = append(p.Notes, k)
		}
		sort.Strings(p.Notes)
		out = append(out, p)
	}
	for i, p := range out {
		if err := os.Rename(temps[i], p.File); err != nil {
			return fmt.Errorf("%w (the files of %d events of %d were replaced)", err, i, len(out))
		}
	}
	if a.conn.json {
		writeJSON(a.stdout, map[string]any{"events": out})
		return nil
	}
	for _, p := range out {
		fmt.Fprintf(a.stdout, "wrote %s: %d templates", p.File, p.Templates)
		if len(p.Notes) > 0 {
			fmt.Fprintf(a.stdout, " (kept, not understood: %s)", strings.Join(p.Notes, ", "))
		}
		fmt.Fprintln(a.stdout)
	}
	if len(out) == 0 {
		fmt.Fprintln(a.stdout, "the account has no events")
	}
	return nil
}

// writeTemp writes data to a new file in dir whose name the catalogue
// does not read (a leading dot, no CatalogExt), and returns its path.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".sendivent-pull-*")
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return f.Name(), err
}

// catalogFileOf makes the catalogue file of an event as the API gives it.
func catalogFileOf(e *sendivent.EventInfo) sendiventtest.CatalogFile {
	f := sendiventtest.CatalogFile{EventConfig: sendiventtest.EventConfig{Name: e.Identifier}}
	if e.Name != e.Identifier {
		f.Title = strings.Join(strings.Fields(e.Name), " ")
	}
	var unknown []string
	for _, ch := range e.Channels {
		if sendiventtest.ChannelParts(ch) == nil {
			unknown = append(unknown, string(ch))
			continue
		}
		f.Steps = append(f.Steps, sendiventtest.Send(ch))
	}
	if len(unknown) > 0 {
		noteOf(&f, "x-channels", strings.Join(unknown, ", "))
	}
	ts, notes := templatesOf(e.Templates)
	f.Templates = ts
	for k, v := range notes {
		noteOf(&f, k, v)
	}
	return f
}

// noteOf sets a note of a catalogue file; k, made of names the API gave,
// is made one printable word.
func noteOf(f *sendiventtest.CatalogFile, k, v string) {
	if f.Notes == nil {
		f.Notes = map[string]string{}
	}
	f.Notes[noteWord(k)] = v
}

// noteWord is s with each white space or control character made '_': a
// name a catalogue file holds and a terminal prints.
func noteWord(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return '_'
		}
		return r
	}, s)
}

// partNames are the names the API may give each part, by channel kind,
// the first the catalogue's own.
var (
	emailParts = map[string][]string{
		sendiventtest.PartSubject: {"subject", "title"},
		sendiventtest.PartHTML:    {"html", "html_body", "body_html", "htmlBody", "bodyHtml", "body"},
		sendiventtest.PartText:    {"text", "text_body", "body_text", "textBody", "bodyText", "plain", "plain_text"},
	}
	pushParts = map[string][]string{
		sendiventtest.PartTitle: {"title", "subject", "heading"},
		sendiventtest.PartBody:  {"body", "text", "message", "content"},
	}
	textParts = map[string][]string{
		sendiventtest.PartText: {"text", "body", "message", "content", "template"},
	}
)

func partsOf(ch sendivent.Channel) map[string][]string {
	switch ch {
	case sendivent.ChannelEmail:
		return emailParts
	case sendivent.ChannelPush:
		return pushParts
	}
	return textParts
}

var (
	channelKeys  = []string{"channel", "type", "channel_type"}
	languageKeys = []string{"language", "lang", "locale"}
)

// templatesOf reads the API's templates leniently: a list of template
// objects, or an object by channel whose values are a template, a list of
// them, or an object by language. What it does not understand it returns
// as notes, named x-….
func templatesOf(raw json.RawMessage) ([]sendiventtest.Template, map[string]string) {
	notes := map[string]string{}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, notes
	}
	var out []sendiventtest.Template
	var list []json.RawMessage
	var byChannel map[string]json.RawMessage
	switch {
	case json.Unmarshal(raw, &list) == nil:
		for i, item := range list {
			t, ok := templateOf(item, "", "")
			if !ok {
				notes[fmt.Sprintf("x-template-%d", i+1)] = string(item)
				continue
			}
			out = append(out, t)
		}
	case json.Unmarshal(raw, &byChannel) == nil:
		chans := make([]string, 0, len(byChannel))
		for k := range byChannel {
			chans = append(chans, k)
		}
		sort.Strings(chans)
		for _, ch := range chans {
			v := byChannel[ch]
			if sendiventtest.ChannelParts(sendivent.Channel(ch)) == nil {
				notes["x-templates-"+ch] = string(v)
				continue
			}
			if json.Unmarshal(v, &list) == nil {
				for i, item := range list {
					if t, ok := templateOf(item, ch, ""); ok {
						out = append(out, t)
					} else {
						notes[fmt.Sprintf("x-templates-%s-%d", ch, i+1)] = string(item)
					}
				}
				continue
			}
			if t, ok := templateOf(v, ch, ""); ok && hasParts(t) {
				out = append(out, t)
				continue
			}
			var byLang map[string]json.RawMessage
			if json.Unmarshal(v, &byLang) != nil {
				notes["x-templates-"+ch] = string(v)
				continue
			}
			langs := make([]string, 0, len(byLang))
			for k := range byLang {
				langs = append(langs, k)
			}
			sort.Strings(langs)
			for _, lang := range langs {
				if t, ok := templateOf(byLang[lang], ch, lang); ok {
					out = append(out, t)
				} else {
					notes["x-templates-"+ch+"-"+lang] = string(byLang[lang])
				}
			}
		}
	default:
		notes["x-templates"] = string(raw)
	}
	return out, notes
}

func hasParts(t sendiventtest.Template) bool {
	for _, p := range sendiventtest.ChannelParts(t.Channel) {
		if t.Part(p) != "" {
			return true
		}
	}
	return false
}

// templateOf reads one template object; ch and lang are those its place
// gives, which its own fields override. Fields it does not know are kept
// as extra parts (x-name), their JSON when not a string.
func templateOf(raw json.RawMessage, ch, lang string) (sendiventtest.Template, bool) {
	var fields map[string]json.RawMessage
	if json.Unmarshal(raw, &fields) != nil {
		return sendiventtest.Template{}, false
	}
	str := func(k string) (string, bool) {
		var s string
		err := json.Unmarshal(fields[k], &s)
		return s, err == nil
	}
	used := map[string]bool{}
	for _, k := range channelKeys {
		if s, ok := str(k); ok && s != "" {
			ch, used[k] = s, true
			break
		}
	}
	t := sendiventtest.Template{Channel: sendivent.Channel(ch), Language: lang}
	if sendiventtest.ChannelParts(t.Channel) == nil {
		return sendiventtest.Template{}, false
	}
	for _, k := range languageKeys {
		if v, ok := fields[k]; ok {
			used[k] = true
			if s, ok := str(k); ok {
				t.Language = s
			} else if string(v) != "null" {
				used[k] = false
			}
			break
		}
	}
	parts := partsOf(t.Channel)
	for _, p := range sendiventtest.ChannelParts(t.Channel) {
		for _, k := range parts[p] {
			if s, ok := str(k); ok && !used[k] {
				used[k] = true
				setPart(&t, p, s)
				break
			}
		}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := fields[k]
		if used[k] || string(v) == "null" {
			continue
		}
		name := "x-" + noteWord(strings.TrimPrefix(k, "x-"))
		if s, ok := str(k); ok {
			setExtra(&t, name, s)
		} else {
			setExtra(&t, name, string(v))
		}
	}
	return t, true
}

func setPart(t *sendiventtest.Template, part, src string) {
	switch part {
	case sendiventtest.PartSubject:
		t.Subject = src
	case sendiventtest.PartHTML:
		t.HTML = src
	case sendiventtest.PartText:
		t.Text = src
	case sendiventtest.PartTitle:
		t.Title = src
	case sendiventtest.PartBody:
		t.Body = src
	}
}

func setExtra(t *sendiventtest.Template, k, v string) {
	if t.Extra == nil {
		t.Extra = map[string]string{}
	}
	t.Extra[k] = v
}
