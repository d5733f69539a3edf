package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/format"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

const genLong = `Write Go code from a catalogue of events (the files of "sendivent events
pull", or written by hand: go doc sendiventtest.CatalogFile): per event, a
payload struct whose fields are the variables its templates use, in all
channels and languages, and a function that starts a send of that event with
that payload, so that a payload that no longer fits its templates does not
compile.

  {{order_id}}                 OrderID string    ` + "`json:\"order_id,omitempty\"`" + `
  {{customer.name}}            Customer struct{ Name string … }
  {{#each lines}}{{qty}}       Lines []struct{ Qty string … }
  {{#if vip}}                  VIP bool
  {{#compare credits ">" 100}} Credits float64 (a number is always sent)

Variables of the contact (contact.*) and of the system (app, sender,
platform, cdn) are not payload fields; {{payload.x}} and {{x}} are one.
Text and conditions are left out of the payload when empty, so that the
fake (sendivent fake --strict, or sendiventtest) reports a text the code
did not set.

Use it from go generate:

  //go:generate go run github.com/sendivent/sendivent-go/cmd/sendivent gen --catalog catalog --out events_gen.go

--check writes nothing and exits 1 when the file differs from what the
catalogue gives (for CI).`

type genFlags struct {
	catalog, out, pkg string
	check             bool
}

func newGenCmd(a *app) *cobra.Command {
	var f genFlags
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Write typed payloads and sends from a catalogue of events' templates",
		Long:  genLong,
		Example: `  sendivent gen --catalog catalog --out events_gen.go
  sendivent gen --catalog catalog --out events_gen.go --check`,
		Args: exactArgs(),
	}
	fs := cmd.Flags()
	fs.StringVar(&f.catalog, "catalog", "catalog", "read the catalogue's .event files from `DIR`")
	fs.StringVar(&f.out, "out", "sendivent_events.go", "write the Go code to `FILE`")
	fs.StringVar(&f.pkg, "package", "", "the generated file's package `NAME` (default: that of the other Go files beside it, else the directory's name)")
	fs.BoolVar(&f.check, "check", false, "write nothing; exit 1 if FILE differs from what the catalogue gives")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		a.ran = true
		return a.gen(f)
	}
	return cmd
}

func (a *app) gen(f genFlags) error {
	files, err := sendiventtest.ReadCatalog(f.catalog)
	if err != nil {
		return usagef("%s", strings.TrimPrefix(err.Error(), "catalogue: "))
	}
	pkg := f.pkg
	if pkg == "" {
		pkg = packageOf(filepath.Dir(f.out), filepath.Base(f.out))
	}
	if !token.IsIdentifier(pkg) {
		return usagef("--package %q is not a Go package name", pkg)
	}
	code, err := generate(files, pkg, filepath.ToSlash(f.catalog))
	if err != nil {
		return err
	}
	if f.check {
		old, err := os.ReadFile(f.out)
		switch {
		case errors.Is(err, os.ErrNotExist):
			return fmt.Errorf("%s does not exist: run sendivent gen --catalog %s --out %s", f.out, f.catalog, f.out)
		case err != nil:
			return err
		case !bytes.Equal(old, code):
			return fmt.Errorf("%s is not what the catalogue %s gives: run sendivent gen --catalog %s --out %s (go generate)", f.out, f.catalog, f.catalog, f.out)
		}
		fmt.Fprintf(a.stdout, "%s is up to date\n", f.out)
		return nil
	}
	if err := os.WriteFile(f.out, code, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "wrote %s: %d events\n", f.out, len(files))
	return nil
}

// packageOf returns the package of the Go files in dir other than skip,
// else dir's name made a package name.
func packageOf(dir, skip string) string {
	matches, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	for _, m := range matches {
		if filepath.Base(m) == skip || strings.HasSuffix(m, "_test.go") {
			continue
		}
		data, err := os.ReadFile(m)
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(data), "\n") {
			if name, ok := strings.CutPrefix(strings.TrimSpace(l), "package "); ok {
				return strings.TrimSpace(name)
			}
		}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "events"
	}
	name := strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			return unicode.ToLower(r)
		}
		return -1
	}, filepath.Base(abs))
	if !token.IsIdentifier(name) || name == "main" {
		return "events"
	}
	return name
}

// generator writes the code of a catalogue.
type generator struct {
	b     bytes.Buffer
	types map[string]bool // the type names given so far
	later []func()        // the nested types, written after their parent
}

func generate(files []sendiventtest.CatalogFile, pkg, catalog string) ([]byte, error) {
	if strings.ContainsFunc(catalog, unicode.IsControl) {
		return nil, fmt.Errorf("the catalogue's path %q has a control character, which the generated file's first line cannot hold", catalog)
	}
	g := &generator{types: map[string]bool{"toPayload": true}}
	fmt.Fprintf(&g.b, "// Code generated by sendivent gen from the catalogue %s; DO NOT EDIT.\n\n", catalog)
	fmt.Fprintf(&g.b, "package %s\n\nimport (\n\t\"encoding/json\"\n\n\t\"github.com/sendivent/sendivent-go\"\n)\n\n", pkg)
	g.b.WriteString("// The events of the catalogue.\nconst (\n")
	names := map[string]string{}
	decl := map[string]string{} // the events' top-level names, by event
	for _, f := range files {
		name := goName(f.Name)
		if other, dup := names[name]; dup {
			return nil, fmt.Errorf("events %q and %q would both be %s in Go", other, f.Name, name)
		}
		names[name] = f.Name
		if err := reserveEvent(decl, f.Name, name); err != nil {
			return nil, err
		}
	}
	for id := range decl {
		g.types[id] = true // nested types are named around them
	}
	for _, f := range files {
		name := goName(f.Name)
		title := ""
		if f.Title != "" && f.Title != f.Name {
			title = " (" + commentText(f.Title) + ")"
		}
		fmt.Fprintf(&g.b, "\t// Event%s is the event %q%s.\n\tEvent%s = %q\n", name, f.Name, title, name, f.Name)
	}
	g.b.WriteString(")\n")
	for _, f := range files {
		fields, err := templates.PayloadFields(f.EventConfig)
		if err != nil {
			return nil, err
		}
		if err := checkFieldNames(f.Name, fields); err != nil {
			return nil, err
		}
		name := goName(f.Name)
		typ := name + "Payload" // reserved above
		fmt.Fprintf(&g.b, "\n// %s is the payload of event %q: the variables its templates use.\n", typ, f.Name)
		g.structType(typ, name, fields)
		g.flush()
		fmt.Fprintf(&g.b, "\n// %s starts a send of event %q with payload p: add its recipients\n", name, f.Name)
		fmt.Fprintf(&g.b, "// with To, then Send.\nfunc %s(c *sendivent.Client, p %s) *sendivent.EventBuilder {\n", name, typ)
		fmt.Fprintf(&g.b, "\treturn c.Event(Event%s).Payload(toPayload(p))\n}\n", name)
	}
	g.b.WriteString(`
// toPayload is p as the JSON object the service gets.
func toPayload(p any) sendivent.Payload {
	b, err := json.Marshal(p)
	if err != nil {
		panic("sendivent gen: a payload does not encode: " + err.Error())
	}
	var out sendivent.Payload
	if err := json.Unmarshal(b, &out); err != nil {
		panic("sendivent gen: a payload does not decode: " + err.Error())
	}
	return out
}
`)
	code, err := format.Source(g.b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("internal error: the generated code does not format: %v\n%s", err, g.b.Bytes())
	}
	return code, nil
}

// typeName makes name unique among the file's types.
func (g *generator) typeName(name string) string {
	n := name
	for i := 2; g.types[n]; i++ {
		n = fmt.Sprintf("%s%d", name, i)
	}
	g.types[n] = true
	return n
}

func (g *generator) flush() {
	for len(g.later) > 0 {
		f := g.later[0]
		g.later = g.later[1:]
		f()
	}
}

// structType writes the struct type typ of fields; prefix names its nested
// types.
func (g *generator) structType(typ, prefix string, fields []*templates.Field) {
	fmt.Fprintf(&g.b, "type %s struct {\n", typ)
	used := map[string]bool{}
	for _, f := range fields {
		name := goName(f.Name)
		for i := 2; used[name]; i++ {
			name = fmt.Sprintf("%s%d", goName(f.Name), i)
		}
		used[name] = true
		goType, omit := g.fieldType(prefix+goName(f.Name), typ+"."+name, f)
		tag := jsonTag(f.Name, omit)
		fmt.Fprintf(&g.b, "\t// %s is %s in %s.\n", name, describe(f), commentText(strings.Join(f.Uses, ", ")))
		fmt.Fprintf(&g.b, "\t%s %s `json:%q`\n", name, goType, tag)
	}
	g.b.WriteString("}\n")
}

// fieldType is the Go type of f, and whether its JSON omits it when
// empty; nested types are queued.
func (g *generator) fieldType(prefix, owner string, f *templates.Field) (string, bool) {
	switch f.Kind {
	case templates.KindBool:
		return "bool", true
	case templates.KindNumber:
		return "float64", false
	case templates.KindObject:
		typ := g.typeName(prefix)
		g.later = append(g.later, func() {
			fmt.Fprintf(&g.b, "\n// %s is %s.\n", typ, owner)
			g.structType(typ, typ, f.Fields)
		})
		return typ, false
	case templates.KindList:
		if f.Item == nil || f.Item.Kind == 0 {
			return "[]any", true
		}
		if f.Item.Kind != templates.KindObject {
			t, _ := g.fieldType(prefix, owner, f.Item)
			return "[]" + t, true
		}
		typ := g.typeName(singular(prefix))
		g.later = append(g.later, func() {
			fmt.Fprintf(&g.b, "\n// %s is an item of %s.\n", typ, owner)
			g.structType(typ, typ, f.Item.Fields)
		})
		return "[]" + typ, true
	}
	return "string", true
}

func describe(f *templates.Field) string {
	switch f.Kind {
	case templates.KindList:
		return fmt.Sprintf("the list {{#each %s}}", f.Name)
	case templates.KindBool:
		return fmt.Sprintf("the condition {{#if %s}}", f.Name)
	case templates.KindObject:
		return fmt.Sprintf("{{%s.…}}", f.Name)
	case templates.KindNumber:
		return fmt.Sprintf("the number {{%s}}", f.Name)
	}
	return fmt.Sprintf("{{%s}}", f.Name)
}

// initialisms are written in capitals in Go names.
var initialisms = []string{"ID", "URL", "URI", "HTML", "HTTP", "HTTPS", "API", "JSON", "SMS", "UUID", "OTP", "VIP", "IP", "CSS", "PDF", "SKU", "UI"}

// goName makes an exported Go name of a template or event name:
// order_id → OrderID, tracking-url → TrackingURL, firstName → FirstName.
func goName(s string) string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = nil
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && len(cur) > 0 && (unicode.IsLower(cur[len(cur)-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	var b strings.Builder
	for _, w := range words {
		if up := strings.ToUpper(w); slices.Contains(initialisms, up) {
			b.WriteString(up)
			continue
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	name := b.String()
	if !token.IsExported(name) { // empty, a digit first, or a letter without case (名前)
		name = "X" + name
	}
	return name
}

// singular is a plural Go name made singular (Lines → Line, Entries →
// Entry), or the name and "Item".
func singular(name string) string {
	switch {
	case strings.HasSuffix(name, "ies"):
		return strings.TrimSuffix(name, "ies") + "y"
	case strings.HasSuffix(name, "s") && !strings.HasSuffix(name, "ss"):
		return strings.TrimSuffix(name, "s")
	}
	return name + "Item"
}
