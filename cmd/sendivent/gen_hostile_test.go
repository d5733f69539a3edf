package main

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sendivent/sendivent-go/sendiventtest"
)

// "sendivent gen" against hostile catalogues: variable, event and title
// text that would put Go code into the generated file or make it not
// compile, names that collide once made Go names, JSON names encoding/json
// cannot carry, deep nesting, thousands of variables. Either the output
// compiles, declares only what gen declares and sends each variable under
// its own name, or gen fails with a message and writes nothing.

// sdkStub is the part of package sendivent that generated code uses, so
// that the test type-checks the output without the go command.
const sdkStub = `package sendivent
type Client struct{}
type EventBuilder struct{}
type Payload map[string]any
func (*Client) Event(string) *EventBuilder { return nil }
func (*EventBuilder) Payload(Payload) *EventBuilder { return nil }
`

type stubImporter struct {
	fset *token.FileSet
	std  types.Importer
	sdk  *types.Package
}

func (im *stubImporter) Import(path string) (*types.Package, error) {
	if path != "github.com/sendivent/sendivent-go" {
		return im.std.Import(path)
	}
	if im.sdk == nil {
		f, err := parser.ParseFile(im.fset, "sendivent.go", sdkStub, 0)
		if err != nil {
			return nil, err
		}
		im.sdk, err = (&types.Config{}).Check(path, im.fset, []*ast.File{f}, nil)
		if err != nil {
			return nil, err
		}
	}
	return im.sdk, nil
}

// checkGenerated type-checks code and checks that it declares, at the top
// level, the events' constants, functions and types and toPayload only;
// and that each struct field is exported with a JSON name that is one of
// the variables (vars), which encoding/json uses as the key.
func checkGenerated(t *testing.T, code []byte, events []string, vars []string) {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "events_gen.go", code, parser.ParseComments)
	if err != nil {
		t.Fatalf("does not parse: %v\n%s", err, code)
	}
	im := &stubImporter{fset: fset, std: importer.ForCompiler(fset, "source", nil)}
	info := &types.Info{Defs: map[*ast.Ident]types.Object{}}
	pkg, err := (&types.Config{Importer: im}).Check("example.com/events", fset, []*ast.File{f}, info)
	if err != nil {
		t.Fatalf("does not compile: %v\n%s", err, code)
	}
	if !strings.HasPrefix(string(code), "// Code generated ") || !strings.Contains(strings.SplitN(string(code), "\n", 2)[0], " DO NOT EDIT.") {
		t.Errorf("the first line is not the generated-code line: %q", strings.SplitN(string(code), "\n", 2)[0])
	}
	funcs := []string{"toPayload"}
	for _, e := range events {
		funcs = append(funcs, goName(e))
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Recv != nil || !slices.Contains(funcs, d.Name.Name) {
				t.Errorf("the code declares func %s", d.Name.Name)
			}
		case *ast.GenDecl:
			if d.Tok == token.VAR {
				t.Errorf("the code declares a var at %v", fset.Position(d.Pos()))
			}
		}
	}
	for _, name := range pkg.Scope().Names() {
		tn, ok := pkg.Scope().Lookup(name).(*types.TypeName)
		if !ok {
			continue
		}
		st, ok := tn.Type().Underlying().(*types.Struct)
		if !ok {
			continue
		}
		for i := 0; i < st.NumFields(); i++ {
			fld := st.Field(i)
			tag, ok := reflect.StructTag(st.Tag(i)).Lookup("json")
			jsonName, _, _ := strings.Cut(tag, ",")
			switch {
			case !fld.Exported():
				t.Errorf("%s.%s is not exported: encoding/json leaves it out", name, fld.Name())
			case !ok || tag == "-" || !slices.Contains(vars, jsonName):
				t.Errorf("%s.%s has the tag %q: its JSON name is not one of the variables %q", name, fld.Name(), st.Tag(i), vars)
			}
		}
	}
}

func TestGenHostileCatalogues(t *testing.T) {
	t.Parallel()
	type file = map[string]string
	sms := func(src string) string { return "=== sms text ===\n" + src + "\n" }
	tests := []struct {
		name   string
		files  file
		vars   []string // the JSON names the code may send
		refuse string   // what the error says, if gen must refuse
	}{
		{"a backquote that ends the struct tag and declares func init",
			file{"a.event": sms("{{[x` }; func init() { panic(0x70776e6564) }; type Z struct { Y string `]}}")},
			nil, "cannot be a JSON name"},
		{"a backquote", file{"a.event": sms("{{[a`b]}}")}, nil, "cannot be a JSON name"},
		{"a comma, which is a tag option", file{"a.event": sms("{{[x,string]}}")}, nil, "cannot be a JSON name"},
		{"a quote", file{"a.event": sms(`{{[a"b]}}`)}, nil, "cannot be a JSON name"},
		{"a backslash", file{"a.event": sms(`{{[a\b]}}`)}, nil, "cannot be a JSON name"},
		{"no name", file{"a.event": sms("{{[]}}")}, nil, "cannot be a JSON name"},
		{"a dash, which alone skips the field", file{"a.event": sms("{{add [-] 1}}")}, []string{"-"}, ""},
		{"names of no case", file{"a.event": sms("{{名前}} {{名前2}} {{_x}}")}, []string{"名前", "名前2", "_x"}, ""},
		{"names that shadow what the code uses", file{"a.event": sms("{{json}} {{sendivent}} {{toPayload}} {{init}} {{p}} {{c}} {{string}} {{any}}")},
			[]string{"json", "sendivent", "toPayload", "init", "p", "c", "string", "any"}, ""},
		{"names one Go name", file{"a.event": sms("{{order_id}} {{orderId}} {{order-id}} {{OrderID}}")}, []string{"order_id", "orderId", "order-id", "OrderID"}, ""},
		{"a comment closer, a title with a carriage return",
			file{"a.event": "title: a */ b \r func init() {}\n" + sms("{{[*/]}} {{[/*]}} {{[//]}}")}, []string{"*/", "/*", "//"}, ""},
		{"a title and a language with NUL, a byte order mark, escapes", file{"a.event": "title: a\x00b\ufeffc\x1b[2J\u0085d\n=== sms text sv\x00\ufeff\x1b ===\n{{a}}\n"},
			[]string{"a"}, ""},
		{"an event and another's payload type", file{"x.event": sms("{{a}}"), "x-payload.event": sms("{{a}}")}, nil, "XPayload"},
		{"an event and another's constant", file{"x.event": sms("{{a}}"), "event-x.event": sms("{{a}}")}, nil, "EventX"},
		{"an event and another's nested type", file{"order.event": sms("{{customer.name}}"), "order-customer.event": sms("{{a}}")},
			[]string{"customer", "name", "a"}, ""},
		{"events named as the code's own", file{"init.event": sms("{{a}}"), "to-payload.event": sms("{{a}}"), "json.event": sms("{{a}}"), "sendivent.event": sms("{{a}}")},
			[]string{"a"}, ""},
		{"a path nested 1000 deep", file{"a.event": sms("{{" + strings.TrimSuffix(strings.Repeat("a.", 1000), ".") + "}}")}, nil, "deeper than"},
		{"blocks nested 1000 deep", file{"a.event": sms(strings.Repeat("{{#with a}}", 1000) + "{{b}}" + strings.Repeat("{{/with}}", 1000))}, nil, "deeper than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			cat := filepath.Join(dir, "catalog")
			if err := os.Mkdir(cat, 0o755); err != nil {
				t.Fatal(err)
			}
			var events []string
			for name, src := range tt.files {
				if err := os.WriteFile(filepath.Join(cat, name), []byte(src), 0o644); err != nil {
					t.Fatal(err)
				}
				events = append(events, strings.TrimSuffix(name, ".event"))
			}
			out := filepath.Join(dir, "events_gen.go")
			code, stdout, stderr := runEnv(t, "", "", "gen", "--catalog", cat, "--out", out, "--package", "events")
			written, rerr := os.ReadFile(out)
			if tt.refuse != "" {
				if code == exitOK || !strings.Contains(stderr, tt.refuse) || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
					t.Errorf("exit %d, stderr %q: want a one-line error saying %q", code, stderr, tt.refuse)
				}
				if rerr == nil {
					t.Errorf("gen wrote a file:\n%s", written)
				}
				return
			}
			if code != exitOK {
				t.Fatalf("exit %d: %s%s", code, stdout, stderr)
			}
			checkGenerated(t, written, events, tt.vars)
		})
	}
}

// TestGenThousandsOfVariables: an event with 3000 variables, some of
// which are one Go name, generates code that compiles.
func TestGenThousandsOfVariables(t *testing.T) {
	t.Parallel()
	var src strings.Builder
	var vars []string
	for i := range 1000 {
		for _, f := range []string{"v_%d", "v%d", "V-%d"} {
			v := strings.Replace(f, "%d", strconv.Itoa(i), 1)
			vars = append(vars, v)
			src.WriteString("{{" + v + "}} ")
		}
	}
	files := []sendiventtest.CatalogFile{{EventConfig: sendiventtest.EventConfig{Name: "big",
		Templates: []sendiventtest.Template{{Channel: "sms", Text: src.String()}}}}}
	code, err := generate(files, "events", "catalog")
	if err != nil {
		t.Fatal(err)
	}
	checkGenerated(t, code, []string{"big"}, vars)
}

// TestGenCataloguePathIsOneCommentLine: the catalogue's path is in the
// generated-code line; a path that would break it is an error.
func TestGenCataloguePathIsOneCommentLine(t *testing.T) {
	t.Parallel()
	files := []sendiventtest.CatalogFile{{EventConfig: sendiventtest.EventConfig{Name: "a"}}}
	for _, catalog := range []string{"cat\nfunc init() { panic(1) }\n//", "cat\rx"} {
		if code, err := generate(files, "events", catalog); err == nil {
			t.Errorf("catalogue %q: no error:\n%s", catalog, code)
		}
	}
}
