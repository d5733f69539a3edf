package templates

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/mailgun/raymond/v2"

	"github.com/sendivent/sendivent-go/sendiventtest"
)

// Engine renders Sendivent templates with raymond, a Go implementation of
// Handlebars, plus what the service adds: the fallback {{x | "default"}},
// the handlebars-helpers helpers of Helpers, and a report of every
// variable that a template uses and the data lacks. It implements
// sendiventtest.TemplateEngine. An Engine is safe for concurrent use.
type Engine struct {
	mu    sync.Mutex
	cache map[string]*compiled // by source
}

var _ sendiventtest.TemplateEngine = (*Engine)(nil)

// The bounds of one Render: a message is not made of more.
const (
	MaxLoopItems   = 10_000
	MaxRenderBytes = 1 << 20
)

// maxCache bounds the compiled templates an Engine keeps.
const maxCache = 4096

// Handlebars returns an engine that renders templates as the service does.
func Handlebars() *Engine { return &Engine{cache: map[string]*compiled{}} }

// compiled is a template ready to render.
type compiled struct {
	html, text *raymond.Template
}

// compile rewrites and parses src, or reports what is wrong with it.
func (e *Engine) compile(src string) (*compiled, error) {
	e.mu.Lock()
	c, ok := e.cache[src]
	e.mu.Unlock()
	if ok {
		return c, nil
	}
	c, err := compileSource(src)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if len(e.cache) >= maxCache {
		clear(e.cache)
	}
	e.cache[src] = c
	e.mu.Unlock()
	return c, nil
}

func compileSource(src string) (*compiled, error) {
	s1, err := rewriteFallbacks(src)
	if err != nil {
		return nil, err
	}
	htmlSrc, textSrc, err := rewrite(s1)
	if err != nil {
		return nil, err
	}
	c := &compiled{}
	for _, p := range []struct {
		dst **raymond.Template
		src string
	}{{&c.html, htmlSrc}, {&c.text, textSrc}} {
		t, err := raymond.Parse(p.src)
		if err != nil {
			return nil, fmt.Errorf("internal error: the rewritten template does not parse: %v", parseError(err))
		}
		for name, h := range helpers {
			t.RegisterHelper(name, h)
		}
		t.RegisterHelper("log", func(any) any { return "" }) // raymond's logs to logrus
		*p.dst = t
	}
	return c, nil
}

// Check reports a template that cannot render: malformed (the error names
// the line), using a partial, or calling a helper that is not one of
// Helpers.
func (e *Engine) Check(source string) error {
	_, err := e.compile(source)
	return err
}

// Render renders source with data, escaping values for HTML when html is
// true (as {{x}} does in Handlebars; {{{x}}} never escapes). Every
// variable that source shows or compares and data does not provide
// (absent, or null) renders empty and is listed in missing, once, in the
// order of first use. A variable that source only tests ({{#if x}},
// {{#each x}}, {{#with x}}, default, and, or, not, a fallback) is not.
//
// A render is bounded, so that data cannot hold its caller for long or
// make it run out of memory: it fails once its loops have walked more than
// MaxLoopItems items in all, or made more than MaxRenderBytes (counted at
// each level of nested loops), or a replace would make more.
func (e *Engine) Render(source string, data map[string]any, html bool) (text string, missing []sendiventtest.MissingVariable, err error) {
	c, err := e.compile(source)
	if err != nil {
		return "", nil, err
	}
	t := c.text
	if html {
		t = c.html
	}
	t = t.Clone()
	st := &renderState{root: reflect.ValueOf(data), seen: map[string]bool{}}
	t.RegisterHelper("each", st.each) // counts toward the render's budget
	t.RegisterHelper(valueHelper, func(name string, v any, o *raymond.Options) any { return st.value(name, v, o, true) })
	t.RegisterHelper(valueHelperFree, func(name string, v any, o *raymond.Options) any { return st.value(name, v, o, false) })
	t.RegisterHelper(fallbackHelper, fallback)
	defer func() {
		// raymond passes on a helper's run-time panic (its own lookup
		// with a negative index): a payload is bad input, not a bug of
		// the caller, whose lifecycle goroutine it would kill.
		if r := recover(); r != nil {
			text, missing, err = "", st.missing, fmt.Errorf("the template failed on this data: %v", r)
		}
	}()
	out, err := t.Exec(data)
	if err != nil {
		return "", st.missing, execError(err)
	}
	return out, st.missing, nil
}

// execError shortens raymond's evaluation error to its cause.
func execError(err error) error {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "Evaluation error: ")
	if i := strings.Index(msg, "\nCurrent node:"); i >= 0 {
		msg = msg[:i]
	}
	return errors.New(msg)
}

// renderState is what one Render learns.
type renderState struct {
	root    reflect.Value
	seen    map[string]bool
	missing []sendiventtest.MissingVariable
	loops   int // items the loops have walked
	looped  int // bytes the loops have made, counted at each level
}

func (st *renderState) add(name, hint string) {
	if !st.seen[name] {
		st.seen[name] = true
		st.missing = append(st.missing, sendiventtest.MissingVariable{Name: name, Hint: hint})
	}
}

// value is the valueHelper: v is what raymond found for the variable
// written name. Handlebars looks a plain name up in the current context
// only, where raymond also looks in the enclosing ones, as Mustache does;
// scoped asks for Handlebars' rule, so that a template that works in the
// fake works in the service.
func (st *renderState) value(name string, v any, o *raymond.Options, scoped bool) any {
	if scoped {
		first := firstPart(name)
		ctx := o.Ctx()
		cv := reflect.ValueOf(ctx)
		if first != "" && !st.isRoot(cv) && cv.Kind() != reflect.Bool && !hasKey(cv, first) {
			hint := ""
			if hasKey(st.root, first) {
				hint = "inside a block, a name is looked up in the block's item, not in the payload: write @root." +
					strings.TrimPrefix(strings.TrimPrefix(name, "this."), "./")
			}
			st.add(name, hint)
			return nil
		}
	}
	if v == nil {
		st.add(name, "")
	}
	return v
}

func (st *renderState) isRoot(v reflect.Value) bool {
	return v.Kind() == reflect.Map && st.root.Kind() == reflect.Map && v.Pointer() == st.root.Pointer()
}

// firstPart is the first name of a written path: "a" in "a.b", "this.a",
// "./a", "[a].b".
func firstPart(name string) string {
	name = strings.TrimPrefix(name, "this.")
	name = strings.TrimPrefix(name, "this/")
	name = strings.TrimPrefix(name, "./")
	if strings.HasPrefix(name, "[") {
		if i := strings.Index(name, "]"); i > 0 {
			return name[1:i]
		}
	}
	if i := strings.IndexAny(name, "./"); i >= 0 {
		name = name[:i]
	}
	if name == "this" {
		return ""
	}
	return name
}

// hasKey reports whether the object (or array) v has key.
func hasKey(v reflect.Value, key string) bool {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return false
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Map:
		if v.Type().Key().Kind() != reflect.String {
			return false
		}
		return v.MapIndex(reflect.ValueOf(key).Convert(v.Type().Key())).IsValid()
	case reflect.Slice, reflect.Array:
		var i int
		_, err := fmt.Sscanf(key, "%d", &i)
		return err == nil && i >= 0 && i < v.Len()
	}
	return false
}

// fallback is the fallbackHelper: the variable's value when it is set and
// not empty; else the other variable's; else the literal.
func fallback(v, other, literal any) any {
	for _, x := range []any{v, other} {
		if x != nil && str(x) != "" {
			return x
		}
	}
	return literal
}
