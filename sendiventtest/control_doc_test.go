package sendiventtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The package doc and README's table list the control endpoints and their
// errors; they must say what the code does: every route registered, no
// other, and every status and code that ctlErr answers with, no other.

// docRoute matches "GET  /_fake/health" in the package doc.
var docRoute = regexp.MustCompile(`(?m)^\s*(GET|POST|PUT|PATCH|DELETE)\s+(/_fake/[^\s\[]*)`)

// errorList matches "400 INVALID_REQUEST, 409 TERMINAL or TIMEOUT" in the
// sentence that lists a doc's errors.
var errorList = regexp.MustCompile("(\\d{3}) ((?:`?[A-Z_]{3,}`?(?:, | or )?)+)")

func TestControlDocsListEveryRoute(t *testing.T) {
	t.Parallel()
	var registered []string
	for _, r := range controlRoutes.routes {
		registered = append(registered, r.method+" /"+strings.Join(r.segs, "/"))
	}
	slices.Sort(registered)

	var inDoc []string
	for _, m := range docRoute.FindAllStringSubmatch(packageDoc(t), -1) {
		inDoc = append(inDoc, m[1]+" "+m[2])
	}
	slices.Sort(inDoc)
	assert.Equal(t, registered, inDoc, "the package doc's control endpoints")
	assert.Equal(t, registered, readmeRoutes(t), "README's table of control endpoints")
}

func TestControlDocsListEveryError(t *testing.T) {
	t.Parallel()
	inCode := controlErrorsInCode(t)
	require.NotEmpty(t, inCode)
	assert.Equal(t, inCode, errorsIn(t, packageDoc(t)), "the package doc's errors")
	assert.Equal(t, inCode, errorsIn(t, readme(t)), "README's errors")
}

// controlErrorsInCode lists "STATUS CODE" for every ctlErr call in the
// package's source.
func controlErrorsInCode(t *testing.T) []string {
	t.Helper()
	statusOf := map[string]int{
		"StatusBadRequest": http.StatusBadRequest, "StatusNotFound": http.StatusNotFound,
		"StatusMethodNotAllowed": http.StatusMethodNotAllowed, "StatusConflict": http.StatusConflict,
		"StatusRequestEntityTooLarge": http.StatusRequestEntityTooLarge,
		"StatusInternalServerError":   http.StatusInternalServerError, "StatusGatewayTimeout": http.StatusGatewayTimeout,
		"StatusForbidden": http.StatusForbidden, "StatusUnsupportedMediaType": http.StatusUnsupportedMediaType,
	}
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			if id, ok := call.Fun.(*ast.Ident); !ok || id.Name != "ctlErr" {
				return true
			}
			sel, ok := call.Args[0].(*ast.SelectorExpr)
			require.True(t, ok, "%s: ctlErr's status is not http.StatusX", name)
			status, ok := statusOf[sel.Sel.Name]
			require.True(t, ok, "%s: add %s to statusOf", name, sel.Sel.Name)
			lit, ok := call.Args[1].(*ast.BasicLit)
			require.True(t, ok, "%s: ctlErr's code is not a literal", name)
			code, err := strconv.Unquote(lit.Value)
			require.NoError(t, err)
			seen[strconv.Itoa(status)+" "+code] = true
			return true
		})
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// errorsIn lists "STATUS CODE" from the sentence of doc that starts "An
// error answers".
func errorsIn(t *testing.T, doc string) []string {
	t.Helper()
	i := strings.Index(doc, "An error answers")
	require.GreaterOrEqual(t, i, 0, "no sentence lists the errors")
	sentence, _, _ := strings.Cut(doc[i:], ".\n")
	sentence = strings.Join(strings.Fields(strings.ReplaceAll(sentence, "//", "")), " ")
	var out []string
	for _, m := range errorList.FindAllStringSubmatch(sentence, -1) {
		for _, code := range regexp.MustCompile(`[A-Z_]{3,}`).FindAllString(m[2], -1) {
			out = append(out, m[1]+" "+code)
		}
	}
	slices.Sort(out)
	return out
}

func packageDoc(t *testing.T) string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "server.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	require.NoError(t, err)
	require.NotNil(t, f.Doc)
	return f.Doc.Text()
}

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "README.md"))
	require.NoError(t, err)
	return string(b)
}

// readmeRoutes reads README's table of control endpoints: "`GET
// /_fake/faults` · `POST /_fake/faults`", and "`POST /_fake/x/advance` ·
// `/deliver`" for a sibling path.
func readmeRoutes(t *testing.T) []string {
	t.Helper()
	code := regexp.MustCompile("`([^`]+)`")
	route := regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE) (/_fake/[^\s\[]*)`)
	var out []string
	for _, line := range strings.Split(readme(t), "\n") {
		if !strings.HasPrefix(line, "| `") || !strings.Contains(line, "/_fake/") {
			continue
		}
		cell, _, _ := strings.Cut(strings.TrimPrefix(line, "| "), " |")
		var method, last string
		for _, m := range code.FindAllStringSubmatch(cell, -1) {
			if r := route.FindStringSubmatch(m[1]); r != nil {
				method, last = r[1], r[2]
			} else if strings.HasPrefix(m[1], "/") && method != "" {
				last = last[:strings.LastIndex(last, "/")] + m[1]
			} else {
				continue
			}
			out = append(out, method+" "+last)
		}
	}
	slices.Sort(out)
	return out
}
