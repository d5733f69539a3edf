package templates

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/mailgun/raymond/v2/ast"
	"github.com/mailgun/raymond/v2/lexer"
	"github.com/mailgun/raymond/v2/parser"
)

// A template is rendered by raymond after two rewrites of its source, each
// made at the positions of raymond's own tokens and nodes, so that the
// rest of the source stays byte for byte:
//
//  1. the service's fallback, {{contact.name | "Guest"}}, which is not
//     Handlebars, becomes a call of the internal helper fallbackHelper;
//  2. every variable that a message shows or a helper compares becomes a
//     call of valueHelper with the variable's name, so that a missing one
//     is reported by name instead of rendering blank; a block helper
//     other than Handlebars' own gets the hash argument blockMarker, so
//     that it knows it is one; and, for the parts that are not HTML, every
//     {{x}} becomes {{&x}} (no escaping).
//
// A variable that a template only tests ({{#if x}}, {{#each x}}, {{#with
// x}}, a section {{#x}}, or an argument of default, and, or, not, or of a
// fallback) is not reported missing: testing is how a template says a
// variable is optional.

// Internal helper names; a template cannot call them by these names, as
// they are not valid in its source (the lexer reads "__v" fine, but the
// rewrite is the only writer of them: see knownHelper).
const (
	valueHelper     = "__v"  // __v "name" value: reports a missing value, checks the scope
	valueHelperFree = "__vx" // __vx "name" value: reports a missing value
	fallbackHelper  = "__or" // __or value "literal" or __or value other "literal"
	blockMarker     = "__block"
)

// edit replaces src[pos:end] with text.
type edit struct {
	pos, end int
	text     string
}

func applyEdits(src string, edits []edit) string {
	// By position; an insertion before a replacement at the same place.
	slices.SortStableFunc(edits, func(a, b edit) int {
		if a.pos != b.pos {
			return a.pos - b.pos
		}
		return a.end - b.end
	})
	var b strings.Builder
	last := 0
	for _, e := range edits {
		b.WriteString(src[last:e.pos])
		b.WriteString(e.text)
		last = e.end
	}
	b.WriteString(src[last:])
	return b.String()
}

// tokenEnd is where token t ends in the source. A string token's value is
// unquoted, so its end is found by scanning for the closing quote.
func tokenEnd(src string, t lexer.Token) int {
	if t.Kind != lexer.TokenString {
		return t.Pos + len(t.Val)
	}
	q := src[t.Pos-1]
	for i := t.Pos; i < len(src); i++ {
		switch src[i] {
		case '\\':
			i++
		case q:
			return i + 1
		}
	}
	return len(src)
}

func isPathToken(k lexer.TokenKind) bool {
	return k == lexer.TokenID || k == lexer.TokenSep || k == lexer.TokenData
}

// pathRun returns the end index (exclusive) of the run of path tokens that
// starts at toks[i]: ID, separator and @ tokens with nothing between them.
func pathRun(toks []lexer.Token, i int) int {
	j := i + 1
	for j < len(toks) && isPathToken(toks[j].Kind) && toks[j].Pos == toks[j-1].Pos+len(toks[j-1].Val) {
		j++
	}
	return j
}

// rewriteFallbacks turns each {{path | fallback}} into a fallbackHelper
// call: a quoted fallback, or a number, is a literal; an unquoted one is
// tried as a variable first, then used as a literal (several words are a
// literal). Anything else after "|" is an error.
func rewriteFallbacks(src string) (string, error) {
	toks := lexer.Collect(src)
	if err := checkNesting(src, toks); err != nil {
		return "", err
	}
	var edits []edit
	for i := 0; i < len(toks); i++ {
		open := toks[i]
		if open.Kind != lexer.TokenOpen && open.Kind != lexer.TokenOpenUnescaped {
			continue
		}
		// The mustache's tokens, up to its close.
		j := i + 1
		for j < len(toks) && toks[j].Kind != lexer.TokenClose && toks[j].Kind != lexer.TokenCloseUnescaped && toks[j].Kind != lexer.TokenEOF && toks[j].Kind != lexer.TokenError {
			j++
		}
		if j >= len(toks) || (toks[j].Kind != lexer.TokenClose && toks[j].Kind != lexer.TokenCloseUnescaped) {
			break // the parser reports it
		}
		inner := toks[i+1 : j]
		bar := slices.IndexFunc(inner, func(t lexer.Token) bool { return t.Kind == lexer.TokenCloseBlockParams })
		if bar < 0 {
			i = j
			continue
		}
		line := 1 + strings.Count(src[:open.Pos], "\n")
		if bar == 0 || !isPathToken(inner[0].Kind) || pathRun(inner, 0) != bar {
			return "", fmt.Errorf("line %d: a fallback is {{variable | \"literal\"}}: one variable before the '|'", line)
		}
		lhs := src[inner[0].Pos:tokenEnd(src, inner[bar-1])]
		rest := inner[bar+1:]
		rhsSrc := strings.TrimSpace(src[inner[bar].Pos+1 : toks[j].Pos])
		var call string
		switch {
		case len(rest) == 1 && (rest[0].Kind == lexer.TokenString || rest[0].Kind == lexer.TokenNumber || rest[0].Kind == lexer.TokenBoolean):
			lit := quote(rest[0].Val)
			call = fmt.Sprintf("%s %s %s %s", fallbackHelper, lhs, lit, lit)
		case len(rest) > 0 && isPathToken(rest[0].Kind) && pathRun(rest, 0) == len(rest):
			call = fmt.Sprintf("%s %s %s %s", fallbackHelper, lhs, rhsSrc, quote(rhsSrc))
		case len(rest) > 0 && !slices.ContainsFunc(rest, func(t lexer.Token) bool { return t.Kind != lexer.TokenID }):
			lit := quote(rhsSrc) // several words
			call = fmt.Sprintf("%s %s %s %s", fallbackHelper, lhs, lit, lit)
		default:
			return "", fmt.Errorf("line %d: after '|' a fallback is a \"quoted\" literal, a number, a variable or words: %q", line, rhsSrc)
		}
		end := toks[j].Pos - trailingSpace(src[inner[0].Pos:toks[j].Pos])
		edits = append(edits, edit{pos: inner[0].Pos, end: end, text: call})
		i = j
	}
	return applyEdits(src, edits), nil
}

// maxNesting bounds how deep blocks and sub-expressions nest and how many
// names a variable has. A message needs a few; parsing a template
// (raymond's parser), analysing it (PayloadFields) and the code sendivent
// gen makes of it grow with the square of the depth.
const maxNesting = 64

// checkNesting refuses a template that nests deeper than maxNesting, from
// its tokens, before it is parsed.
func checkNesting(src string, toks []lexer.Token) error {
	blocks, sexprs := 0, 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		deeper := ""
		switch t.Kind {
		case lexer.TokenOpenBlock, lexer.TokenOpenInverse, lexer.TokenOpenRawBlock:
			if blocks++; blocks > maxNesting {
				deeper = "blocks nested"
			}
		case lexer.TokenOpenEndBlock, lexer.TokenOpenEndRawBlock:
			blocks--
		case lexer.TokenOpenSexpr:
			if sexprs++; sexprs > maxNesting {
				deeper = "sub-expressions nested"
			}
		case lexer.TokenCloseSexpr:
			sexprs--
		case lexer.TokenID, lexer.TokenSep, lexer.TokenData:
			j := pathRun(toks, i)
			if (j-i+1)/2 > maxNesting {
				deeper = "a variable nested"
			}
			i = j - 1
		}
		if deeper != "" {
			line := 1 + strings.Count(src[:min(t.Pos, len(src))], "\n")
			return fmt.Errorf("line %d: %s deeper than %d", line, deeper, maxNesting)
		}
	}
	return nil
}

// trailingSpace is the length of the white space at the end of s, which
// the rewrite keeps.
func trailingSpace(s string) int {
	return len(s) - len(strings.TrimRight(s, " \t\r\n"))
}

// quote makes a Handlebars string literal.
func quote(s string) string {
	return `"` + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`) + `"`
}

// lineErrRe finds raymond's "Parse error on line N:" heading.
var lineErrRe = regexp.MustCompile(`(?s)^Parse error on line (\d+):\s*(.*)$`)

// lexErrRe finds the lexer's own message in raymond's parse error.
var lexErrRe = regexp.MustCompile(`Error\{"(.+)"\}`)

// parseError turns raymond's multi-line parse error into one line.
func parseError(err error) error {
	m := lineErrRe.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	msg := strings.Join(strings.Fields(m[2]), " ")
	if lx := lexErrRe.FindStringSubmatch(msg); lx != nil {
		msg = strings.ToLower(lx[1][:1]) + lx[1][1:]
	}
	return fmt.Errorf("line %s: %s", m[1], msg)
}

// rewriter walks a parsed template and collects the edits of rewrite 2.
type rewriter struct {
	src    string
	toks   []lexer.Token
	at     map[int]int // token index by position
	edits  []edit
	err    error
	params [][]string // block parameters in scope, innermost last
}

func (r *rewriter) fail(pos int, format string, args ...any) {
	if r.err == nil {
		line := 1 + strings.Count(r.src[:min(pos, len(r.src))], "\n")
		r.err = fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
	}
}

// rewrite parses src (after rewriteFallbacks) and returns the sources that
// raymond renders: one that escapes values for HTML, one that does not.
func rewrite(src string) (htmlSrc, textSrc string, err error) {
	prog, err := parser.Parse(src)
	if err != nil {
		return "", "", parseError(err)
	}
	r := &rewriter{src: src, toks: lexer.Collect(src), at: map[int]int{}}
	for i, t := range r.toks {
		r.at[t.Pos] = i
	}
	r.program(prog)
	if r.err != nil {
		return "", "", r.err
	}
	htmlSrc = applyEdits(src, slices.Clone(r.edits))
	text := slices.Clone(r.edits)
	for _, t := range r.toks {
		if t.Kind == lexer.TokenOpen && !strings.Contains(t.Val, "&") {
			text = append(text, edit{pos: t.Pos + len(t.Val), end: t.Pos + len(t.Val), text: "&"})
		}
	}
	return htmlSrc, applyEdits(src, text), nil
}

func (r *rewriter) program(p *ast.Program) {
	if p == nil {
		return
	}
	for _, n := range p.Body {
		switch s := n.(type) {
		case *ast.MustacheStatement:
			r.mustache(s)
		case *ast.BlockStatement:
			r.block(s)
		case *ast.PartialStatement:
			r.fail(s.Loc.Pos, "partials ({{> name}}) are not supported: the service's templates have none")
		}
	}
}

func (r *rewriter) mustache(s *ast.MustacheStatement) {
	e := s.Expression
	name := e.HelperName()
	if len(e.Params) > 0 || e.Hash != nil || knownHelper(name) {
		r.call(e, false)
		return
	}
	if p, ok := e.Path.(*ast.PathExpression); ok {
		r.wrap(p, false)
	}
}

// Handlebars' own block helpers, which raymond runs itself.
var builtinBlocks = []string{"if", "unless", "each", "with"}

func (r *rewriter) block(s *ast.BlockStatement) {
	e := s.Expression
	name := e.HelperName()
	var blockParams []string
	if s.Program != nil {
		blockParams = s.Program.BlockParams
	}
	switch {
	case name == "each" && len(blockParams) > 1:
		r.fail(s.Loc.Pos, "{{#each … as |item index|}}: a second block parameter is not supported; write @index (or @key)")
	case slices.Contains(builtinBlocks, name):
		// The condition, or what each or with walks, may be missing:
		// only sub-expressions in it are checked.
		for _, p := range e.Params {
			if sub, ok := p.(*ast.SubExpression); ok {
				r.call(sub.Expression, false)
			}
		}
	case knownHelper(name):
		r.call(e, true)
	case len(e.Params) > 0 || e.Hash != nil:
		r.fail(s.Loc.Pos, "unknown helper %q (the helpers: %s)", name, strings.Join(helperNames(), ", "))
	}
	r.params = append(r.params, blockParams)
	r.program(s.Program)
	r.params = r.params[:len(r.params)-1]
	r.program(s.Inverse)
}

// call rewrites a helper call: its variable arguments report a missing
// value, unless the helper is one that tests for presence; a block call
// gets the block marker.
func (r *rewriter) call(e *ast.Expression, isBlock bool) {
	name := e.HelperName()
	if !knownHelper(name) {
		r.fail(e.Loc.Pos, "unknown helper %q (the helpers: %s)", name, strings.Join(helperNames(), ", "))
		return
	}
	if n, ok := arity[name]; ok && len(e.Params) != n {
		plural := "s"
		if n == 1 {
			plural = ""
		}
		r.fail(e.Loc.Pos, "helper %q takes %d argument%s, not %d", name, n, plural, len(e.Params))
		return
	}
	if name == "compare" {
		if op, ok := e.Params[1].(*ast.StringLiteral); ok && !slices.Contains(compareOps, op.Value) {
			r.fail(e.Loc.Pos, "compare: unknown operator %q (want %s)", op.Value, strings.Join(compareOps, ", "))
			return
		}
	}
	check := !slices.Contains(presenceHelpers, name)
	arg := func(n ast.Node) {
		switch a := n.(type) {
		case *ast.SubExpression:
			r.call(a.Expression, false)
		case *ast.PathExpression:
			if check {
				r.wrap(a, true)
			}
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
	if isBlock && !slices.Contains(builtinBlocks, name) {
		r.markBlock(e)
	}
}

// markBlock adds blockMarker=true to the end of a block's opening
// expression, before its block parameters.
func (r *rewriter) markBlock(e *ast.Expression) {
	i, ok := r.at[e.Loc.Pos]
	if !ok {
		r.fail(e.Loc.Pos, "internal error: no token at the block's expression")
		return
	}
	depth := 0
	for ; i < len(r.toks); i++ {
		switch r.toks[i].Kind {
		case lexer.TokenOpenSexpr:
			depth++
		case lexer.TokenCloseSexpr:
			depth--
		case lexer.TokenOpenBlockParams, lexer.TokenClose:
			if depth == 0 {
				pos := r.toks[i].Pos
				r.edits = append(r.edits, edit{pos: pos, end: pos, text: " " + blockMarker + "=true "})
				return
			}
		}
	}
}

// wrap rewrites a variable into a valueHelper call; asArg puts the call in
// parentheses, as an argument.
func (r *rewriter) wrap(p *ast.PathExpression, asArg bool) {
	start := p.Loc.Pos
	if p.Data {
		start-- // the '@'
	}
	i, ok := r.at[start]
	if !ok {
		r.fail(p.Loc.Pos, "internal error: no token at variable %q", p.Original)
		return
	}
	end := tokenEnd(r.src, r.toks[pathRun(r.toks, i)-1])
	written := r.src[start:end]
	helper := valueHelperFree
	if !p.Data && p.Depth == 0 && len(p.Parts) > 0 && !r.isBlockParam(p.Parts[0]) {
		helper = valueHelper
	}
	call := fmt.Sprintf("%s %s %s", helper, quote(written), written)
	if asArg {
		call = "(" + call + ")"
	}
	r.edits = append(r.edits, edit{pos: start, end: end, text: call})
}

func (r *rewriter) isBlockParam(name string) bool {
	for _, ps := range r.params {
		if slices.Contains(ps, name) {
			return true
		}
	}
	return false
}
