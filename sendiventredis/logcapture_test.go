package sendiventredis_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// logCapture is a slog.Handler that keeps every record and, when w is set,
// also writes it there as text.
type logCapture struct {
	w  io.Writer
	mu *sync.Mutex
	rs *[]slog.Record
}

func newLogCapture(w io.Writer) *logCapture {
	return &logCapture{w: w, mu: &sync.Mutex{}, rs: &[]slog.Record{}}
}

func (h *logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (h *logCapture) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.rs = append(*h.rs, r.Clone())
	if h.w != nil {
		fmt.Fprintln(h.w, recordText(r))
	}
	return nil
}

func (h *logCapture) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logCapture) WithGroup(string) slog.Handler      { return h }

// count returns how many records at level have a message containing sub.
func (h *logCapture) count(level slog.Level, sub string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range *h.rs {
		if r.Level == level && strings.Contains(r.Message, sub) {
			n++
		}
	}
	return n
}

// text returns every record as text, one a line.
func (h *logCapture) text() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, r := range *h.rs {
		b.WriteString(recordText(r) + "\n")
	}
	return b.String()
}

func recordText(r slog.Record) string {
	s := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool { s += " " + a.String(); return true })
	return s
}

// Messages the limiter logs, as the tests look for them.
const (
	msgOutage   = "Redis unreachable"
	msgRecovery = "Redis answers again"
)
