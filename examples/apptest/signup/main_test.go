package signup_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine (a fake server's, or a
// client connection's) outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
