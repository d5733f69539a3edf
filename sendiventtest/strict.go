package sendiventtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// New starts a fake server for the test t and is the recommended way to get
// one: the server closes when the test ends (t.Cleanup), and the test fails
// (t.Errorf) if, by then,
//
//   - a request named an event that was not declared, once any event was
//     declared with WithEvent: a misspelt event name, which the service
//     answers 404 and an application may only log;
//   - a fault script queued with Inject was never used up: the test did not
//     exercise what it meant to.
//
// A test that means to send to an undeclared event, or to leave a script
// unused, uses NewServer and closes it itself.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := NewServer(opts...)
	t.Cleanup(func() {
		s.Close()
		for _, p := range s.problems() {
			t.Errorf("sendiventtest: %s", p)
		}
	})
	return s
}

// problems lists what New reports on the test.
func (s *Server) problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	if len(s.undeclared) > 0 {
		declared := make([]string, 0, len(s.events))
		for name := range s.events {
			declared = append(declared, name)
		}
		slices.Sort(declared)
		more := ""
		if s.keep.undeclared > 0 {
			more = fmt.Sprintf("\n\t… and %d more", s.keep.undeclared)
		}
		out = append(out, "requests named events that are not declared (declared: "+
			strings.Join(declared, ", ")+"):\n\t"+strings.Join(s.undeclared, "\n\t")+more)
	}
	out = append(out, s.templateProblemLinesLocked()...)
	if len(s.scripts) > 0 {
		left := make([]string, 0, len(s.scripts))
		for _, sc := range s.scripts {
			left = append(left, sc.String())
		}
		out = append(out, "fault scripts never used up:\n\t"+strings.Join(left, "\n\t"))
	}
	return out
}
