package wire

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2026, 3, 30, 12, 0, 0, 123e6, time.UTC)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-03-30T12:00:00.123Z", want},
		{"2026-03-30T14:00:00.123+02:00", want},
		{"2026-03-30T14:00:00.123+0200", want},
		{"2026-03-30 12:00:00.123Z", want},
		{"2026-03-30T12:00:00.123", want},
		{"2026-03-30 12:00:00.123", want},
		{"", time.Time{}},
		{"yesterday", time.Time{}},
		{"1774872000", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got := ParseTime(tt.in)
			assert.True(t, tt.want.Equal(got), "ParseTime(%q) = %v, want %v", tt.in, got, tt.want)
		})
	}
}
