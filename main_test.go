package sendivent

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running when
// they end: a retry wait, a poll or a connection that outlived its call.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
