package main

import (
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

// BuildProxy writes a module proxy to dir, in the layout of the GOPROXY
// protocol ($module/@v/list, $version.info, .mod, .zip), serving every
// module of the checkout at version: what the go command would download
// once the tags are pushed. A zip holds the files git knows in the module's
// directory (tracked or new, not ignored), as they are in the work tree;
// golang.org/x/mod/zip leaves out the nested modules and checks the rest.
func (r *Repo) BuildProxy(dir, version string) error {
	out, err := git(r.Root, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
	if err != nil {
		return err
	}
	all := strings.Split(strings.TrimRight(out, "\x00"), "\x00")
	for _, m := range r.Modules {
		if err := r.proxyModule(dir, m, version, all); err != nil {
			return err
		}
	}
	return nil
}

func (r *Repo) proxyModule(dir string, m Module, version string, all []string) error {
	mv := module.Version{Path: m.Path, Version: version}
	esc, err := module.EscapePath(m.Path)
	if err != nil {
		return err
	}
	vdir := filepath.Join(dir, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	var files []zip.File
	prefix := m.TagPrefix()
	for _, f := range all {
		if !strings.HasPrefix(f, prefix) {
			continue
		}
		abs := filepath.Join(r.Root, filepath.FromSlash(f))
		if _, err := os.Lstat(abs); errors.Is(err, fs.ErrNotExist) {
			continue // deleted in the work tree
		}
		files = append(files, workFile{rel: strings.TrimPrefix(f, prefix), abs: abs})
	}
	zf, err := os.Create(filepath.Join(vdir, version+".zip"))
	if err != nil {
		return err
	}
	if err := zip.Create(zf, mv, files); err != nil {
		zf.Close()
		return err
	}
	if err := zf.Close(); err != nil {
		return err
	}
	gomod, err := os.ReadFile(filepath.Join(r.Abs(m), "go.mod"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(vdir, version+".mod"), gomod, 0o644); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(vdir, version+".info"), info, 0o644); err != nil {
		return err
	}
	return appendLine(filepath.Join(vdir, "list"), version)
}

func appendLine(name, line string) error {
	f, err := os.OpenFile(name, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(f, line+"\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// workFile is a file of the work tree, named as in the module zip.
type workFile struct{ rel, abs string }

func (f workFile) Path() string                 { return path.Clean(f.rel) }
func (f workFile) Lstat() (os.FileInfo, error)  { return os.Lstat(f.abs) }
func (f workFile) Open() (io.ReadCloser, error) { return os.Open(f.abs) }
