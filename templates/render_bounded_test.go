package templates_test

import (
	"strings"
	"testing"

	"github.com/sendivent/sendivent-go/templates"
)

// TestRenderIsBounded: a payload cannot make one render run for long or
// grow without end (the fake renders under its lock, so one send would
// hold every other). A render whose loops run more than 10,000 times in
// all, or whose loops or replace make more than 1 MiB, ends with an error
// that says so, at once; a message of normal size renders as before.
func TestRenderIsBounded(t *testing.T) {
	t.Parallel()
	nums := func(n int) []any {
		a := make([]any, n)
		for i := range a {
			a[i] = float64(i)
		}
		return a
	}
	big := strings.Repeat("y", 300_000)
	tests := []struct {
		name, src string
		data      map[string]any
		err       string // "": renders
		out       int    // the output's length when it renders
	}{
		{"a loop of 10,000 items", "{{#each a}}{{this}}{{/each}}", map[string]any{"a": nums(10_000)}, "", 38_890},
		{"a loop of 10,001 items", "{{#each a}}.{{/each}}", map[string]any{"a": nums(10_001)}, "loops ran more than 10000 times", 0},
		{"a loop of 500,000 items", "{{#each a}}{{this}},{{/each}}", map[string]any{"a": nums(500_000)}, "loops ran more than 10000 times", 0},
		{"nested loops over the same 5,000 items", "{{#each a}}{{#each @root.a}}{{/each}}{{/each}}", map[string]any{"a": nums(5_000)}, "loops ran more than 10000 times", 0},
		{"nested loops, 99 × 99", "{{#each a}}{{#each @root.a}}x{{/each}}{{/each}}", map[string]any{"a": nums(99)}, "", 9_801},
		{"an object's keys", "{{#each o}}{{@key}}{{/each}}", map[string]any{"o": func() map[string]any {
			m := map[string]any{}
			for i := range 20_000 {
				m[strings.Repeat("k", 1+i%7)+string(rune('a'+i%26))+strings.Repeat("z", i/182)] = 1.0
			}
			return m
		}()}, "loops ran more than 10000 times", 0},
		{"a loop that shows a large value", "{{#each a}}{{@root.big}}{{/each}}", map[string]any{"a": nums(10), "big": big}, "loops made more than 1 MiB", 0},
		{"a loop of three large values", "{{#each a}}{{this}}{{/each}}", map[string]any{"a": []any{big, big, big}}, "", 900_000},
		{"replace that repeats", `{{replace t "" t}}`, map[string]any{"t": big}, "replace: the result would be over 1 MiB", 0},
		{"replace that grows", `{{replace t "y" r}}`, map[string]any{"t": big, "r": "abcd"}, "replace: the result would be over 1 MiB", 0},
		{"replace that fits", `{{replace t "y" "ab"}}`, map[string]any{"t": big}, "", 600_000},
	}
	e := templates.Handlebars()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, _, err := e.Render(tt.src, tt.data, false)
			switch {
			case tt.err == "" && err != nil:
				t.Fatal(err)
			case tt.err == "" && len(out) != tt.out:
				t.Errorf("rendered %d bytes, want %d", len(out), tt.out)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("err = %v (%d bytes rendered), want %q", err, len(out), tt.err)
			}
		})
	}
}
