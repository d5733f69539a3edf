package main

import (
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
)

// The README's command prints the spans of a send retried once, of a Wait
// and of a webhook delivery, as JSON, and no recipient.
func TestExamplePrintsTheSpans(t *testing.T) {
	out, err := os.CreateTemp(t.TempDir(), "spans")
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = out
	defer func() { os.Stdout = stdout }()
	main()
	os.Stdout = stdout

	if _, err := out.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "alice") {
		t.Error("the spans hold the recipient")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	var names []string
	for dec.More() {
		var span struct{ Name string }
		if err := dec.Decode(&span); err != nil {
			t.Fatalf("not JSON spans: %v", err)
		}
		names = append(names, span.Name)
	}
	got := strings.Join(names, ",")
	// Each group's spans end in this order. Other spans may end between
	// them: the fake delivers the webhooks on goroutines of its own, and
	// they may end before the send's span does.
	for _, want := range []string{"POST /v1/send/{event},POST /v1/send/{event},sendivent send", "sendivent get_notification",
		"sendivent wait", "record delivery.sent,sendivent webhook delivery.sent"} {
		if !inOrder(names, strings.Split(want, ",")) {
			t.Errorf("spans %s: no %s", got, want)
		}
	}
}

// inOrder reports whether want are among names, in that order.
func inOrder(names, want []string) bool {
	for _, n := range names {
		if len(want) > 0 && n == want[0] {
			want = want[1:]
		}
	}
	return len(want) == 0
}
