//go:build unix

package sendiventtest_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sendivent/sendivent-go/sendiventtest"
)

// TestReadCatalogReadsOnlyFilesOfBoundedSize: a catalogue directory
// (sendivent fake --catalog, sendivent gen, WithCatalog) whose .event
// entry is a FIFO, a device or a huge file is an error that names it: a
// FIFO hung the reader forever, /dev/zero grew it until memory ran out.
// An error quotes at most a little of a line (it quoted a whole line: 64
// MB of error for a 16 MiB binary file). A symlink to a catalogue file is
// read as the file.
func TestReadCatalogReadsOnlyFilesOfBoundedSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		make func(t *testing.T, path string)
		err  string
	}{
		{"a FIFO without a writer", func(t *testing.T, path string) {
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Skip("no FIFO here:", err)
			}
		}, "not a regular file"},
		{"a symlink to /dev/zero", func(t *testing.T, path string) {
			if _, err := os.Stat("/dev/zero"); err != nil {
				t.Skip("no /dev/zero")
			}
			if err := os.Symlink("/dev/zero", path); err != nil {
				t.Skip(err)
			}
		}, "not a regular file"},
		{"a file over 16 MiB", func(t *testing.T, path string) {
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := f.Truncate(16<<20 + 1); err != nil { // sparse: no disk
				t.Fatal(err)
			}
		}, "over 16 MiB"},
		{"a binary file of 1 MiB", func(t *testing.T, path string) {
			if err := os.WriteFile(path, make([]byte, 1<<20), 0o644); err != nil {
				t.Fatal(err)
			}
		}, `want "key: value"`},
		{"a symlink to a catalogue file", func(t *testing.T, path string) {
			real := filepath.Join(filepath.Dir(path), "..", "real.txt")
			if err := os.WriteFile(real, []byte("=== sms text ===\nHi\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(real, path); err != nil {
				t.Skip(err)
			}
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "catalog")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			tt.make(t, filepath.Join(dir, "welcome.event"))
			type result struct {
				files []sendiventtest.CatalogFile
				err   error
			}
			done := make(chan result, 1)
			go func() {
				files, err := sendiventtest.ReadCatalog(dir)
				done <- result{files, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(time.Minute): // forever before
				t.Fatal("ReadCatalog does not return")
			}
			switch {
			case tt.err == "" && (r.err != nil || len(r.files) != 1 || r.files[0].Templates[0].Text != "Hi"):
				t.Errorf("%+v, %v", r.files, r.err)
			case tt.err != "" && (r.err == nil || !strings.Contains(r.err.Error(), tt.err) || !strings.Contains(r.err.Error(), "welcome.event") || len(r.err.Error()) > 1000):
				msg := fmt.Sprint(r.err)
				t.Errorf("err = %.300q (%d bytes), want one naming welcome.event that says %q", msg, len(msg), tt.err)
			}
		})
	}
}
