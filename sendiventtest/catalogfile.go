package sendiventtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/sendivent/sendivent-go"
)

// CatalogExt is the file name extension of a catalogue's event files.
const CatalogExt = ".event"

// CatalogFile is one file of a catalogue: one event, its steps and its
// templates. "sendivent events pull --dir DIR" writes a catalogue from the
// account's events; a team without one writes the files by hand. The file
// is named after the event (order-shipped.event) and reads:
//
//	# Comments start with '#' in the header.
//	title: Order shipped
//	steps: email, sms
//
//	=== email subject ===
//	Your order {{order_id}} has shipped
//	=== email html ===
//	<p>Hi {{contact.firstName | "there"}},</p>
//	<ul>{{#each lines}}<li>{{qty}} × {{name}}</li>{{/each}}</ul>
//	=== email text ===
//	Hi {{contact.firstName | "there"}}, order {{order_id}} is on its way.
//	=== email subject sv ===
//	Din order {{order_id}} har skickats
//	=== sms text ===
//	Order {{order_id}} shipped: {{tracking_url}}
//
// The header holds "key: value" lines, all optional: title (the display
// name), steps (as EventConfig's: channels in routing order, or a sequence
// with wait:DURATION steps; without it, the channels that have a template,
// auto-routed) and listeners (addresses, comma-separated). Then each
// template part is a section "=== CHANNEL PART ===", or "=== CHANNEL PART
// LANGUAGE ===" for a language other than the default one; see Template for
// the parts of each channel. A section runs to the next marker line; the
// newline before that line, or the file's last newline, is not part of it.
// (The markers are not txtar's "-- name --", so that a catalogue file fits
// in a txtar archive, as testscript tests use.)
//
// Names that start with "x-" are for tools and people: header lines
// "x-name: value", sections "=== x-name ===" and parts "=== email x-name ==="
// are kept (Notes, Template.Extra) and not rendered. Any other unknown key,
// channel or part is an error, so that a misspelling does not go unnoticed.
type CatalogFile struct {
	EventConfig
	// Notes are the header's x-… lines and the x-… sections, by name.
	Notes map[string]string
}

// markerRe matches a section marker line: "=== words ===".
var markerRe = regexp.MustCompile(`^=== (\S+(?: \S+)*) ===\r?$`)

// ParseCatalogFile parses the catalogue file named name (its base name
// without CatalogExt is the event's name). Errors name the file and line.
func ParseCatalogFile(name string, data []byte) (CatalogFile, error) {
	event := strings.TrimSuffix(filepath.Base(name), CatalogExt)
	f := CatalogFile{EventConfig: EventConfig{Name: event}}
	fail := func(line int, format string, args ...any) (CatalogFile, error) {
		return CatalogFile{}, fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(event) == "" {
		return fail(1, "the file name names no event")
	}
	type section struct {
		words []string
		line  int
		body  string
	}
	var sections []section
	var body strings.Builder
	closeSection := func() {
		if n := len(sections); n > 0 {
			b := strings.TrimSuffix(body.String(), "\n")
			sections[n-1].body = strings.TrimSuffix(b, "\r")
		}
		body.Reset()
	}
	lines := strings.SplitAfter(string(data), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		if m := markerRe.FindStringSubmatch(strings.TrimSuffix(l, "\n")); m != nil {
			closeSection()
			sections = append(sections, section{words: strings.Fields(m[1]), line: i + 1})
			continue
		}
		if len(sections) > 0 {
			body.WriteString(l)
			continue
		}
		if err := f.headerLine(strings.TrimSpace(l)); err != nil {
			return fail(i+1, "%v", err)
		}
	}
	closeSection()
	seen := map[string]int{}
	byKey := map[string]int{} // channel+language → index in f.Templates
	for _, sec := range sections {
		key := strings.Join(sec.words, " ")
		if first, dup := seen[key]; dup {
			return fail(sec.line, "section %q again (first at line %d)", short(key), first)
		}
		seen[key] = sec.line
		w := sec.words
		if strings.HasPrefix(w[0], "x-") {
			if len(w) != 1 {
				return fail(sec.line, "a note section is one name, such as \"=== x-notes ===\": %q", short(w[0]))
			}
			f.note(w[0], sec.body)
			continue
		}
		ch := sendivent.Channel(w[0])
		if ChannelParts(ch) == nil {
			return fail(sec.line, "unknown channel %q (want email, sms, push, slack, telegram, whatsapp, discord, or an x-… note)", short(w[0]))
		}
		if len(w) < 2 || len(w) > 3 {
			return fail(sec.line, "want \"=== CHANNEL PART ===\" or \"=== CHANNEL PART LANGUAGE ===\", such as \"=== email subject ===\"")
		}
		lang := ""
		if len(w) == 3 {
			lang = w[2]
		}
		tk := string(ch) + " " + lang
		i, ok := byKey[tk]
		if !ok {
			f.Templates = append(f.Templates, Template{Channel: ch, Language: lang})
			i = len(f.Templates) - 1
			byKey[tk] = i
		}
		t := &f.Templates[i]
		part := w[1]
		switch {
		case strings.HasPrefix(part, "x-"):
			if t.Extra == nil {
				t.Extra = map[string]string{}
			}
			t.Extra[part] = sec.body
		case !slices.Contains(ChannelParts(ch), part):
			return fail(sec.line, "a %s template has no part %q (its parts: %s)", ch, short(part), strings.Join(ChannelParts(ch), ", "))
		default:
			t.setPart(part, sec.body)
		}
	}
	return f, nil
}

// headerLine reads one line of the header.
func (f *CatalogFile) headerLine(l string) error {
	if l == "" || strings.HasPrefix(l, "#") {
		return nil
	}
	k, v, ok := strings.Cut(l, ":")
	if !ok {
		return fmt.Errorf("%q: want \"key: value\" (title, steps, listeners or x-…) before the first \"=== CHANNEL PART ===\"", short(l))
	}
	k, v = strings.TrimSpace(k), strings.TrimSpace(v)
	switch {
	case k == "title":
		f.Title = v
	case k == "steps":
		f.Steps = nil
		for _, s := range splitList(v) {
			st, err := parseStep(s)
			if err != nil {
				return err
			}
			f.Steps = append(f.Steps, st)
		}
	case k == "listeners":
		f.Listeners = nil
		for _, s := range splitList(v) {
			f.Listeners = append(f.Listeners, sendivent.Address(s))
		}
	case strings.HasPrefix(k, "x-"):
		f.note(k, v)
	default:
		return fmt.Errorf("unknown key %q (want title, steps, listeners, or x-… for a note)", short(k))
	}
	return nil
}

func (f *CatalogFile) note(k, v string) {
	if f.Notes == nil {
		f.Notes = map[string]string{}
	}
	f.Notes[k] = v
}

// short is at most 60 bytes of s, for an error: a line of a file that is
// not a catalogue file can be megabytes long.
func short(s string) string {
	if len(s) <= 60 {
		return s
	}
	return strings.ToValidUTF8(s[:60], "") + "…"
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Format writes f in the catalogue's file format; ParseCatalogFile reads it
// back equal. It fails when a template or note holds a line that reads as a
// section marker ("=== words ==="), which the format cannot hold.
func (f CatalogFile) Format() ([]byte, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Sendivent event %s: its templates, for the fake and for sendivent gen.\n", f.Name)
	b.WriteString("# Format: go doc github.com/sendivent/sendivent-go/sendiventtest.CatalogFile\n")
	if f.Title != "" {
		fmt.Fprintf(&b, "title: %s\n", oneLine(f.Title))
	}
	if len(f.Steps) > 0 {
		steps := make([]string, len(f.Steps))
		for i, st := range f.Steps {
			steps[i] = st.String()
		}
		fmt.Fprintf(&b, "steps: %s\n", strings.Join(steps, ", "))
	}
	var ls []string
	for _, l := range f.Listeners {
		if a, ok := l.(sendivent.Address); ok {
			ls = append(ls, string(a))
		} else {
			return nil, fmt.Errorf("event %q: a listener that is not an address does not fit a catalogue file", f.Name)
		}
	}
	if len(ls) > 0 {
		fmt.Fprintf(&b, "listeners: %s\n", strings.Join(ls, ", "))
	}
	notes := sortedKeys(f.Notes)
	var long []string
	for _, k := range notes {
		v := f.Notes[k]
		if !strings.HasPrefix(k, "x-") || strings.ContainsAny(k, " \t\r\n") {
			return nil, fmt.Errorf("event %q: note %q: a note's name starts with x- and has no space", f.Name, k)
		}
		if strings.ContainsAny(v, "\r\n") || v != strings.TrimSpace(v) {
			long = append(long, k)
			continue
		}
		fmt.Fprintf(&b, "%s: %s\n", k, v)
	}
	section := func(marker, body string) error {
		for _, l := range strings.Split(body, "\n") {
			if markerRe.MatchString(l) {
				return fmt.Errorf("event %q, %s: the line %q reads as a section marker", f.Name, marker, l)
			}
		}
		fmt.Fprintf(&b, "=== %s ===\n%s\n", marker, body)
		return nil
	}
	ts := slices.Clone(f.Templates)
	slices.SortStableFunc(ts, func(a, c Template) int {
		if d := channelRank(a.Channel) - channelRank(c.Channel); d != 0 {
			return d
		}
		return strings.Compare(a.Language, c.Language)
	})
	for _, t := range ts {
		if err := t.check(); err != nil {
			return nil, fmt.Errorf("event %q: %v", f.Name, err)
		}
		if t.Language != "" && strings.ContainsAny(t.Language, " \t\r\n") {
			return nil, fmt.Errorf("event %q: language %q has a space", f.Name, t.Language)
		}
		suffix := ""
		if t.Language != "" {
			suffix = " " + t.Language
		}
		for _, p := range ChannelParts(t.Channel) {
			if src := t.Part(p); src != "" {
				if err := section(string(t.Channel)+" "+p+suffix, src); err != nil {
					return nil, err
				}
			}
		}
		for _, k := range sortedKeys(t.Extra) {
			if !strings.HasPrefix(k, "x-") || strings.ContainsAny(k, " \t\r\n") {
				return nil, fmt.Errorf("event %q: part %q: an extra part's name starts with x- and has no space", f.Name, k)
			}
			if err := section(string(t.Channel)+" "+k+suffix, t.Extra[k]); err != nil {
				return nil, err
			}
		}
	}
	for _, k := range long {
		if err := section(k, f.Notes[k]); err != nil {
			return nil, err
		}
	}
	return b.Bytes(), nil
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// channelRank orders channels as the default routing does.
func channelRank(ch sendivent.Channel) int {
	if i := slices.Index(defaultChannelOrder, ch); i >= 0 {
		return i
	}
	return len(defaultChannelOrder)
}

// ReadCatalog reads every CatalogExt file of dir, in name order. A
// directory without one is an error, as is a file that does not parse.
func ReadCatalog(dir string) ([]CatalogFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("catalogue: %w", err)
	}
	var out []CatalogFile
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), CatalogExt) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		data, err := readCatalogFile(path)
		if err != nil {
			return nil, fmt.Errorf("catalogue: %w", err)
		}
		f, err := ParseCatalogFile(path, data)
		if err != nil {
			return nil, fmt.Errorf("catalogue: %w", err)
		}
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("catalogue: no %s files in %s", CatalogExt, dir)
	}
	return out, nil
}

// maxCatalogFile bounds a catalogue file: an event's answer from the API
// is at most 1 MiB.
const maxCatalogFile = 16 << 20

// readCatalogFile reads the regular file at path (a symlink is followed),
// of at most maxCatalogFile bytes: a FIFO would never end, nor would a
// device such as /dev/zero.
func readCatalogFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCatalogFile+1))
	if err == nil && len(data) > maxCatalogFile {
		err = fmt.Errorf("%s: over 16 MiB", path)
	}
	return data, err
}

// CatalogFileName is the file name of event in a catalogue, or an error
// for a name that cannot be one file's on every system a catalogue may be
// checked out on: a path separator, a leading dot, a control character,
// a character or a device name that Windows refuses (<>:"|?*, CON,
// NUL.x…), a trailing dot or space, or more than 255 bytes.
func CatalogFileName(event string) (string, error) {
	name := event + CatalogExt
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("event %q: its name cannot be a file's name (%s)", event, why)
	}
	switch {
	case strings.TrimSpace(event) == "":
		return "", errors.New("an event without a name")
	case strings.ContainsAny(event, `/\`), strings.HasPrefix(event, "."):
		return bad("a path")
	case strings.ContainsFunc(event, unicode.IsControl):
		return bad("a control character")
	case strings.ContainsAny(event, `<>:"|?*`), strings.HasSuffix(event, "."), strings.HasSuffix(event, " "):
		return bad(`Windows refuses <>:"|?* and a trailing dot or space`)
	case windowsDevice(event):
		return bad("a Windows device name")
	case len(name) > 255:
		return bad("over 255 bytes")
	}
	return name, nil
}

// windowsDevice reports whether Windows reads a file named event, with
// any extension, as a device.
func windowsDevice(event string) bool {
	stem, _, _ := strings.Cut(event, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	return len(stem) == 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) &&
		stem[3] >= '0' && stem[3] <= '9'
}

// WithCatalog declares the events of the catalogue in dir (see
// CatalogFile), with their steps and templates, as WithEvents does. Their
// templates need an engine: add WithTemplateEngine. NewServer panics if
// the catalogue does not read.
func WithCatalog(dir string) Option {
	files, err := ReadCatalog(dir)
	if err != nil {
		return func(c *config) { c.tpl.errs = append(c.tpl.errs, err.Error()) }
	}
	events := make([]EventConfig, len(files))
	for i, f := range files {
		events[i] = f.EventConfig
	}
	return WithEvents(events...)
}

// wireTemplates are ts as GET /v1/events/{identifier} answers them: one
// object per template with its channel, language and parts (and its extra
// parts), the format "sendivent events pull" reads.
func wireTemplates(ts []Template) []map[string]string {
	out := make([]map[string]string, 0, len(ts))
	for _, t := range ts {
		m := map[string]string{"channel": string(t.Channel)}
		if t.Language != "" {
			m["language"] = t.Language
		}
		for k, v := range t.Extra {
			m[k] = v
		}
		for _, p := range ChannelParts(t.Channel) {
			if src := t.Part(p); src != "" {
				m[p] = src
			}
		}
		out = append(out, m)
	}
	return out
}
