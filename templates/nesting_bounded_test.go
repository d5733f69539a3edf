package templates_test

import (
	"strings"
	"testing"

	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

// TestNestingIsBounded: a template that nests deeper than 64 (blocks,
// sections, sub-expressions, the names of a variable) is malformed, for
// the renderer and for PayloadFields alike: raymond's parser, the
// analysis and sendivent gen's code grow with the square of the depth (a
// 128 kB path took 14 s to analyse and a 32 kB one made 513 MB of Go).
// The refusal reads the tokens only, so a 1 MiB template is refused at
// once.
func TestNestingIsBounded(t *testing.T) {
	t.Parallel()
	path := func(n int) string { return strings.TrimSuffix(strings.Repeat("a.", n), ".") }
	blocks := func(open, close string, n int) string {
		return strings.Repeat(open, n) + "{{b}}" + strings.Repeat(close, n)
	}
	sexpr := func(n int) string {
		return "{{uppercase " + strings.Repeat("(lowercase ", n) + "x" + strings.Repeat(")", n) + "}}"
	}
	tests := []struct {
		name, src, err string
	}{
		{"a path of 64 names", "{{" + path(64) + "}}", ""},
		{"a path of 65 names", "{{" + path(65) + "}}", "line 1: a variable nested deeper than 64"},
		{"a path of 1 MiB", "{{" + path(1<<19) + "}}", "a variable nested deeper than 64"},
		{"a path in a block's argument", "{{#each " + path(100) + "}}x{{/each}}", "a variable nested deeper than 64"},
		{"a data path", "{{@root." + path(100) + "}}", "a variable nested deeper than 64"},
		{"64 blocks", blocks("{{#with a}}", "{{/with}}", 64), ""},
		{"65 blocks", "x\n" + blocks("{{#with a}}", "{{/with}}", 65), "line 2: blocks nested deeper than 64"},
		{"1 MiB of blocks", blocks("{{#if a}}", "{{/if}}", 1<<16), "blocks nested deeper than 64"},
		{"inverse sections", blocks("{{^a}}", "{{/a}}", 65), "blocks nested deeper than 64"},
		{"blocks one after another", strings.Repeat("{{#if a}}x{{/if}}", 1000), ""},
		{"64 sub-expressions", sexpr(63), ""},
		{"65 sub-expressions", sexpr(65), "sub-expressions nested deeper than 64"},
	}
	e := templates.Handlebars()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkErr := e.Check(tt.src)
			_, fieldsErr := templates.PayloadFields(sendiventtest.EventConfig{Name: "e",
				Templates: []sendiventtest.Template{{Channel: "sms", Text: tt.src}}})
			for what, err := range map[string]error{"Check": checkErr, "PayloadFields": fieldsErr} {
				switch {
				case tt.err == "" && err != nil:
					t.Errorf("%s: %v", what, err)
				case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
					t.Errorf("%s: %v, want %q", what, err, tt.err)
				}
			}
		})
	}
}
