package wire

import "time"

// timeLayouts are RFC 3339 and the near forms a young API may send: no
// colon in the offset, a space for the T, no offset at all (read as UTC).
var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"}

// ParseTime reads a service timestamp leniently: a string it cannot read
// gives the zero time, so that one odd field does not fail a whole answer.
func ParseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
