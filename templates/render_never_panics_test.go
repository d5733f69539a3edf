package templates_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go"
	"github.com/sendivent/sendivent-go/sendiventtest"
	"github.com/sendivent/sendivent-go/templates"
)

// hostileValues are payload values of every JSON type, and the numbers
// and strings that break arithmetic: NaN, infinities, huge ones.
var hostileValues = map[string]any{
	"null": nil, "yes": true, "no": false, "zero": 0.0, "minus": -1.0, "half": 0.5, "huge": 1e300, "nhuge": -1e300,
	"maxint": 9.3e18, "snan": "NaN", "sinf": "Infinity", "sninf": "-Infinity", "snhuge": "-1e300", "empty": "",
	"text": "x y", "list": []any{}, "list1": []any{1.0, "a"}, "obj": map[string]any{}, "obj1": map[string]any{"a": 1.0},
}

// TestRenderNeverPanics: every helper, called with every kind of payload
// value, inline, as a block and with a hash argument, renders or returns
// an error: a panic (truncate's limit of NaN or -1e300 with a suffix, and
// raymond's lookup with a negative index, panicked at run time) would
// kill a fake's lifecycle goroutine, and the process with it.
func TestRenderNeverPanics(t *testing.T) {
	t.Parallel()
	var names []string
	for k := range hostileValues {
		names = append(names, k)
	}
	slices.Sort(names)
	e := templates.Handlebars()
	arity := map[string]int{"lookup": 2, "compare": 3, "replace": 3, "truncate": 2, "default": 2, "contains": 2,
		"eq": 2, "is": 2, "isnt": 2, "gt": 2, "gte": 2, "lt": 2, "lte": 2, "and": 2, "or": 2, "append": 2, "prepend": 2,
		"add": 2, "subtract": 2, "multiply": 2, "divide": 2}
	for _, h := range templates.Helpers() {
		if h == "log" || h == "each" || h == "with" || h == "if" || h == "unless" {
			continue
		}
		t.Run(h, func(t *testing.T) {
			t.Parallel()
			n := arity[h]
			if n == 0 {
				n = 1
			}
			for _, a := range names {
				for _, b := range names {
					if n == 1 && b != names[0] {
						continue
					}
					args := []string{a, b, b}[:n]
					if h == "compare" {
						args = []string{a, `"<"`, b}
					}
					call := h + " " + strings.Join(args, " ")
					for _, src := range []string{"{{" + call + "}}", "{{" + call + ` suffix="…"}}`,
						"{{#" + call + "}}x{{else}}y{{/" + h + "}}"} {
						func() {
							defer func() {
								if r := recover(); r != nil {
									t.Errorf("%s panicked: %v", src, r)
								}
							}()
							_, _, _ = e.Render(src, hostileValues, true)
						}()
					}
				}
			}
		})
	}
}

// TestFakeSurvivesAPanickingRender: an event's second message renders on
// the fake's lifecycle goroutine; a payload that made a helper panic
// there killed the process. The problem is recorded instead.
func TestFakeSurvivesAPanickingRender(t *testing.T) {
	t.Parallel()
	srv := sendiventtest.NewServer(
		sendiventtest.WithTemplateEngine(templates.Handlebars()),
		sendiventtest.WithStepDelay(time.Millisecond),
		sendiventtest.WithEvents(sendiventtest.EventConfig{Name: "two-steps",
			Steps: []sendiventtest.Step{sendiventtest.Send("email"), sendiventtest.Wait(time.Millisecond), sendiventtest.Send("sms")},
			Templates: []sendiventtest.Template{
				{Channel: "email", Subject: "Hi", Text: "Hi"},
				{Channel: "sms", Text: "{{truncate text limit suffix=\"…\"}} {{lookup items index}}"},
			}}),
	)
	defer srv.Close()
	for i, p := range []sendivent.Payload{
		{"text": "hello", "limit": "NaN", "items": []any{"a"}, "index": 0},
		{"text": "hello", "limit": 3, "items": []any{"a"}, "index": -1},
	} {
		res, err := srv.Client().Event("two-steps").To(sendivent.Contact{Email: fmt.Sprintf("ann%d@example.com", i), Phone: fmt.Sprintf("+4670123456%d", i)}).Payload(p).Send(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		n, err := srv.Client().Wait(ctx, res.Notifications[0].ID)
		cancel()
		if err != nil || n.Status != sendivent.StatusCompleted {
			t.Fatalf("payload %d: %+v, %v", i, n, err)
		}
	}
	probs := srv.TemplateProblems()
	if len(probs) != 2 {
		t.Errorf("problems: %+v", probs)
	}
}
