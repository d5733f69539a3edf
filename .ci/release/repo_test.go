package main

import "testing"

func TestReleased(t *testing.T) {
	t.Parallel()
	for dir, want := range map[string]bool{
		".":                                true,
		"cmd/sendivent":                    true,
		"sendiventredis":                   true,
		"examples/typed":                   false,
		"cmd/sendivent/internal/inboxtest": false,
		".ci/release":                      false,
		"_tools":                           false,
		"templates/testdata/mod":           false,
		"vendor/x":                         false,
	} {
		if got := Released(dir); got != want {
			t.Errorf("Released(%q) = %v, want %v", dir, got, want)
		}
	}
}
