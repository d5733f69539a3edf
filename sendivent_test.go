package sendivent

import (
	"bufio"
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIdempotencyKeyFrom(t *testing.T) {
	t.Parallel()
	uuidV8 := `^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`
	k := IdempotencyKeyFrom("order-42", "welcome")
	assert.Regexp(t, uuidV8, k)
	assert.Equal(t, k, IdempotencyKeyFrom("order-42", "welcome"), "stable")
	assert.NotEqual(t, k, IdempotencyKeyFrom("order-43", "welcome"))
	assert.NotEqual(t, k, IdempotencyKeyFrom("welcome", "order-42"))
	assert.NotEqual(t, IdempotencyKeyFrom("ab", "c"), IdempotencyKeyFrom("a", "bc"))
	assert.NotEqual(t, IdempotencyKeyFrom(), IdempotencyKeyFrom(""))
	assert.NotContains(t, k, "order")
	assert.Regexp(t, uuidV8, IdempotencyKeyFrom())
}

var changelogHeading = regexp.MustCompile(`^##\s+\[?v?(\d+\.\d+\.\d+[0-9A-Za-z.+-]*)\]?`)

func TestVersionMatchesChangelog(t *testing.T) {
	t.Parallel()
	f, err := os.Open("CHANGELOG.md")
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := changelogHeading.FindStringSubmatch(sc.Text()); m != nil {
			assert.Equal(t, Version, m[1], "the top CHANGELOG.md heading is the released version")
			return
		}
	}
	require.NoError(t, sc.Err())
	t.Fatal("CHANGELOG.md has no version heading")
}
