package sendivent

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An application that imports only the SDK compiles no test machinery: no
// fake clock, no package testing, no test library. The fake's fast clients
// go through the public WithTimeScale.
func TestSDKCompilesNoTestMachinery(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the go command")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "github.com/sendivent/sendivent-go")
	for _, dep := range deps {
		for _, banned := range []string{"testing", "github.com/sendivent/sendivent-go/internal/clocktest",
			"github.com/sendivent/sendivent-go/sendiventtest", "github.com/stretchr/testify", "github.com/jarcoal/httpmock"} {
			assert.False(t, dep == banned || strings.HasPrefix(dep, banned+"/"), "the SDK compiles %s", dep)
		}
	}
}
