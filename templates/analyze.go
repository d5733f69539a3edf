package templates

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mailgun/raymond/v2/ast"
	"github.com/mailgun/raymond/v2/parser"

	"github.com/sendivent/sendivent-go/sendiventtest"
)

// Kind is what a template does with a variable, which decides its Go type
// in generated code.
type Kind int

// The kinds, from the weakest: a variable only tested is a Bool; shown, a
// Text; compared with a number or used in arithmetic, a Number. One with
// fields is an Object, one that #each walks a List.
const (
	KindBool Kind = iota + 1
	KindText
	KindNumber
	KindObject
	KindList
)

func (k Kind) String() string {
	switch k {
	case KindBool:
		return "a condition"
	case KindText:
		return "text"
	case KindNumber:
		return "a number"
	case KindObject:
		return "an object"
	case KindList:
		return "a list"
	}
	return "nothing"
}

// Field is a payload variable that an event's templates use.
type Field struct {
	// Name is the variable's name in the payload, as the templates write it.
	Name string
	Kind Kind
	// Fields are an Object's fields, sorted by name.
	Fields []*Field
	// Item is what a List holds: an Object (a template uses its fields) or
	// a Text ({{this}}).
	Item *Field
	// Uses are the template parts that use the variable, such as "email
	// subject" or "sms text (sv)", sorted.
	Uses []string
}

func (f *Field) child(name string) *Field {
	for _, c := range f.Fields {
		if c.Name == name {
			return c
		}
	}
	c := &Field{Name: name}
	f.Fields = append(f.Fields, c)
	slices.SortFunc(f.Fields, func(a, b *Field) int { return strings.Compare(a.Name, b.Name) })
	return c
}

func (f *Field) use(where string) {
	if !slices.Contains(f.Uses, where) {
		f.Uses = append(f.Uses, where)
		slices.Sort(f.Uses)
	}
}

// merge records that a template uses f as kind k.
func (f *Field) merge(k Kind, path string) error {
	cur := f.Kind
	switch {
	case cur == 0 || cur == k:
		f.Kind = k
	case cur <= KindNumber && k <= KindNumber:
		f.Kind = max(cur, k)
	case k == KindBool && cur >= KindObject:
		// {{#if lines}}{{#each lines}}: still a list.
	case cur == KindBool && k >= KindObject:
		f.Kind = k
	default:
		return fmt.Errorf("variable %q is used as %s and as %s", path, cur, k)
	}
	return nil
}

// SystemVariables are the names at a template's root that the service
// fills (the contact, and app, sender, platform, cdn): not payload fields.
var SystemVariables = []string{"contact", "app", "sender", "platform", "cdn"}

// PayloadFields returns the payload that event's templates use, in every
// channel and language together: the root fields, sorted by name. A name
// at the root and under "payload." is one field; system and contact
// variables are none; a dotted name is an Object; #each makes a List of
// what its block uses; #with and a section {{#x}} an Object. An error
// names a template that does not parse, or a variable used in two ways
// (as text and as an object).
func PayloadFields(event sendiventtest.EventConfig) ([]*Field, error) {
	root := &Field{Kind: KindObject}
	for _, t := range event.Templates {
		for _, p := range sendiventtest.ChannelParts(t.Channel) {
			src := t.Part(p)
			if src == "" {
				continue
			}
			where := string(t.Channel) + " " + p
			if t.Language != "" {
				where += " (" + t.Language + ")"
			}
			if err := analyzeSource(root, src, where); err != nil {
				return nil, fmt.Errorf("event %q, %s: %w", event.Name, where, err)
			}
		}
	}
	return root.Fields, nil
}

// analyzeSource adds the variables of one template part to root.
func analyzeSource(root *Field, src, where string) error {
	s1, err := rewriteFallbacks(src)
	if err != nil {
		return err
	}
	if _, _, err := rewrite(s1); err != nil { // the renderer's checks
		return err
	}
	prog, err := parser.Parse(s1)
	if err != nil {
		return parseError(err)
	}
	a := &analyzer{where: where, frames: []*frame{{field: root, root: true}}}
	a.program(prog)
	return a.err
}

// frame is a context a template's names are looked up in.
type frame struct {
	field  *Field // nil: not the payload's (a system variable's)
	root   bool
	params []string // the block parameters that name this frame
}

type analyzer struct {
	where  string
	frames []*frame
	err    error
}

func (a *analyzer) cur() *frame { return a.frames[len(a.frames)-1] }

// ref records a use of path p as kind k and returns the field it names
// (nil if it is not the payload's).
func (a *analyzer) ref(p *ast.PathExpression, k Kind) *Field {
	parts := slices.Clone(p.Parts)
	f := a.cur()
	switch {
	case p.Data:
		if len(parts) == 0 || parts[0] != "root" {
			return nil // @index, @key, @first, @last
		}
		f, parts = a.frames[0], parts[1:]
	case len(parts) > 0 && !p.Scoped && p.Depth == 0 && a.param(parts[0]) != nil:
		f, parts = a.param(parts[0]), parts[1:]
	case p.Depth > 0:
		i := len(a.frames) - 1 - p.Depth
		f = a.frames[max(i, 0)]
	}
	if f.field == nil {
		return nil
	}
	if f.root {
		if len(parts) == 0 || slices.Contains(SystemVariables, parts[0]) {
			return nil
		}
		if parts[0] == "payload" {
			if parts = parts[1:]; len(parts) == 0 {
				return nil
			}
		}
	}
	field, path := f.field, ""
	for i, name := range parts {
		name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
		if field.Kind == KindList && name == "length" && i == len(parts)-1 {
			return nil // raymond's lines.length
		}
		path = strings.TrimPrefix(path+"."+name, ".")
		if err := field.merge(KindObject, strings.TrimSuffix(path, "."+name)); err != nil {
			a.fail(err)
			return nil
		}
		field = field.child(name)
		field.use(a.where)
	}
	if err := field.merge(k, p.Original); err != nil {
		a.fail(err)
		return nil
	}
	return field
}

func (a *analyzer) param(name string) *frame {
	for i := len(a.frames) - 1; i >= 0; i-- {
		if slices.Contains(a.frames[i].params, name) {
			return a.frames[i]
		}
	}
	return nil
}

func (a *analyzer) fail(err error) {
	if a.err == nil {
		a.err = err
	}
}

func (a *analyzer) program(p *ast.Program) {
	if p == nil {
		return
	}
	for _, n := range p.Body {
		switch s := n.(type) {
		case *ast.MustacheStatement:
			e := s.Expression
			if len(e.Params) > 0 || e.Hash != nil || knownHelper(e.HelperName()) {
				a.call(e)
			} else if p, ok := e.Path.(*ast.PathExpression); ok {
				a.ref(p, KindText)
			}
		case *ast.BlockStatement:
			a.block(s)
		}
	}
}

// within walks a block's program in the context of field f.
func (a *analyzer) within(prog *ast.Program, f *Field) {
	if prog == nil {
		return
	}
	a.frames = append(a.frames, &frame{field: f, params: prog.BlockParams})
	a.program(prog)
	a.frames = a.frames[:len(a.frames)-1]
}

func (a *analyzer) block(s *ast.BlockStatement) {
	e := s.Expression
	name := e.HelperName()
	path := func() *ast.PathExpression {
		if len(e.Params) == 0 {
			return nil
		}
		p, _ := e.Params[0].(*ast.PathExpression)
		return p
	}
	switch {
	case name == "each" || name == "with":
		var f *Field
		if p := path(); p != nil {
			if name == "each" {
				if f = a.ref(p, KindList); f != nil {
					if f.Item == nil {
						f.Item = &Field{Name: f.Name}
					}
					f = f.Item
				}
			} else {
				f = a.ref(p, KindObject)
			}
		} else {
			a.call(e)
		}
		a.within(s.Program, f)
	case name == "if" || name == "unless":
		a.call(e)
		a.program(s.Program)
	case knownHelper(name):
		a.call(e)
		a.program(s.Program)
	default: // a section, {{#x}}…{{/x}}: x is tested, or walked
		var f *Field
		if p, ok := e.Path.(*ast.PathExpression); ok {
			f = a.ref(p, KindBool)
		}
		a.within(s.Program, f)
	}
	a.program(s.Inverse)
}

// numberHelpers take numbers.
var numberHelpers = []string{"add", "subtract", "multiply", "divide", "round", "ifEven", "ifOdd"}

// orderHelpers compare: a variable compared with a number is a Number.
var orderHelpers = []string{"compare", "gt", "gte", "lt", "lte", "eq", "is", "isnt"}

// call records the variables of a helper call.
func (a *analyzer) call(e *ast.Expression) {
	name := e.HelperName()
	kind := KindText
	switch {
	case slices.Contains([]string{"if", "unless", "and", "or", "not"}, name):
		kind = KindBool
	case slices.Contains(numberHelpers, name):
		kind = KindNumber
	case slices.Contains(orderHelpers, name) && slices.ContainsFunc(e.Params, func(n ast.Node) bool {
		_, ok := n.(*ast.NumberLiteral)
		return ok
	}):
		kind = KindNumber
	}
	arg := func(n ast.Node) {
		switch x := n.(type) {
		case *ast.SubExpression:
			a.call(x.Expression)
		case *ast.PathExpression:
			a.ref(x, kind)
		}
	}
	for _, p := range e.Params {
		arg(p)
	}
	if e.Hash != nil {
		for _, hp := range e.Hash.Pairs {
			arg(hp.Val)
		}
	}
}
