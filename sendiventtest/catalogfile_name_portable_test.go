package sendiventtest_test

import (
	"strings"
	"testing"

	"github.com/sendivent/sendivent-go/sendiventtest"
)

// TestCatalogFileNameIsOneFileEverywhere: an event's file name is a
// name of one file in one directory on every system a catalogue may be
// checked out on, or an error that names the event.
func TestCatalogFileNameIsOneFileEverywhere(t *testing.T) {
	t.Parallel()
	refused := []string{
		"", " ", "a/b", `a\b`, "../x", ".hidden", ".", "..",
		"a\x00b", "a\nb", "a\rb", "a\tb", "a\x1b[2Jb", "a\u0085b", "a\x7fb",
		"a:b", "a*b", "a?b", `a"b`, "a<b", "a>b", "a|b", "welcome.", "welcome ",
		"CON", "con", "Nul", "aux.welcome", "PRN.x.y", "COM1", "lpt9", "com0", "CONIN$",
		strings.Repeat("e", 250),
	}
	for _, name := range refused {
		if file, err := sendiventtest.CatalogFileName(name); err == nil {
			t.Errorf("CatalogFileName(%q) = %q, want an error", name, file)
		} else if strings.ContainsAny(err.Error(), "\x00\n\x1b") {
			t.Errorf("CatalogFileName(%q): the error quotes the name raw: %q", name, err)
		}
	}
	accepted := []string{"user.welcome", "order-shipped", "a b", "välkommen", "console", "com10", "lpt", "nul-x", "con_firm", strings.Repeat("e", 249)}
	for _, name := range accepted {
		if file, err := sendiventtest.CatalogFileName(name); err != nil || file != name+sendiventtest.CatalogExt {
			t.Errorf("CatalogFileName(%q) = %q, %v", name, file, err)
		}
	}
}
