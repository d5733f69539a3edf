package idem

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	uuidV8 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

func TestNew(t *testing.T) {
	t.Parallel()
	seen := make(map[string]bool, 2000)
	for range 2000 {
		k := New()
		require.Regexp(t, uuidV4, k)
		require.False(t, seen[k], "duplicate key %s", k)
		seen[k] = true
		require.NoError(t, Check(k))
	}
}

func TestFrom(t *testing.T) {
	t.Parallel()
	k := From("order-42", "welcome")
	assert.Regexp(t, uuidV8, k)
	assert.Equal(t, k, From("order-42", "welcome"))
	tests := [][2][]string{
		{{"ab", "c"}, {"a", "bc"}},
		{{"a"}, {"a", ""}},
		{{}, {""}},
		{{"order-42"}, {"order-43"}},
		{{"a", "b"}, {"b", "a"}},
		{{"a\x00b"}, {"a", "b"}},
	}
	for _, tt := range tests {
		assert.NotEqual(t, From(tt[0]...), From(tt[1]...), "%q vs %q", tt[0], tt[1])
	}
	assert.Regexp(t, uuidV8, From())
	assert.NoError(t, Check(From(strings.Repeat("x", 10000))))
	// Pinned, so that a change of derivation (which would make re-run jobs
	// send new keys and duplicate notifications) cannot pass unnoticed.
	assert.Equal(t, "523d2202-eac8-8894-9122-c6095e63484d", k)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key string
		ok  bool
	}{
		{"", true},
		{"order-42-welcome", true},
		{"with space and ünicode", true},
		{strings.Repeat("k", MaxLen), true},
		{strings.Repeat("k", MaxLen+1), false},
		{"a\r\nX-Evil: 1", false},
		{"tab\t", false},
		{"nul\x00", false},
		{"del\x7f", false},
		{"   ", false},
		{" k1", false},
		{"k1 ", false},
	}
	for _, tt := range tests {
		err := Check(tt.key)
		if tt.ok {
			assert.NoError(t, err, "%q", tt.key)
		} else {
			assert.Error(t, err, "%q", tt.key)
		}
	}
}
