package main

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/sendivent/sendivent-go/templates"
)

// The names that generated code declares or writes come from catalogue
// files, which may come from an account's API (events pull). They are
// checked here, so that the code compiles and does what gen says: a
// variable goes out under its own JSON name, and no text of a catalogue
// becomes Go code.

// reserveEvent records the top-level names that event declares (its
// function, its constant and its payload type) in decl, by the event that
// declares each; two events that would declare one name are an error.
func reserveEvent(decl map[string]string, event, name string) error {
	for _, id := range []string{name, "Event" + name, name + "Payload"} {
		if other, dup := decl[id]; dup && other != event {
			return fmt.Errorf("events %q and %q would both declare %s in Go: rename one", other, event, id)
		}
		decl[id] = event
	}
	return nil
}

// checkFieldNames checks that every variable of fields can be the JSON
// name of a Go field: encoding/json ignores a tag name with other
// characters than letters, digits and !#$%&()*+-./:;<=>?@[]^_{|}~ and
// space, and a backquote would end the struct tag.
func checkFieldNames(event string, fields []*templates.Field) error {
	for _, f := range fields {
		if !jsonName(f.Name) {
			return fmt.Errorf("event %q: variable %q cannot be a JSON name in Go (one or more letters, digits, spaces and !#$%%&()*+-./:;<=>?@[]^_{|}~)", event, f.Name)
		}
		if err := checkFieldNames(event, f.Fields); err != nil {
			return err
		}
		if f.Item != nil {
			if err := checkFieldNames(event, f.Item.Fields); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonName reports whether encoding/json takes s as a tag's name.
func jsonName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", r) && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// jsonTag is the json tag of variable name: "-" alone would leave the
// field out, "-," names it "-".
func jsonTag(name string, omit bool) string {
	switch {
	case omit:
		return name + ",omitempty"
	case name == "-":
		return "-,"
	}
	return name
}

// commentText is s fit for a line comment: a control character (a NUL is
// not Go source) or a byte order mark becomes '?'.
func commentText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\uFEFF' {
			return '?'
		}
		return r
	}, s)
}
