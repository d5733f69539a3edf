package sendivent_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestReadmeSnippetsRun: every Go snippet of README.md and of the package
// doc is code that compiles and runs: it appears, but for white space, in
// one of the module's Go files (an Example, a test, an example program),
// which go test builds and runs. Copy snippets from there, not by hand.
func TestReadmeSnippetsRun(t *testing.T) {
	t.Parallel()
	var sources strings.Builder
	err := filepath.WalkDir(".", func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != "." {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && path != "sendivent.go" {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sources.WriteString(squash(string(b)))
		}
		return nil
	})
	require.NoError(t, err)
	all := sources.String()

	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, blocks)
	for _, b := range blocks {
		if !strings.Contains(all, squash(b[1])) {
			t.Errorf("README snippet is not in any Go file of the module:\n%s", b[1])
		}
	}

	doc, err := os.ReadFile("sendivent.go")
	require.NoError(t, err)
	for _, line := range strings.Split(string(doc), "\n") {
		if code, ok := strings.CutPrefix(line, "//\t"); ok && !strings.HasPrefix(code, "-") {
			if !strings.Contains(all, squash(code)) {
				t.Errorf("package doc line is not in any Go file of the module: %s", code)
			}
		}
	}
}

// squash collapses each run of white space to one space.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }
