package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/semver"
)

// Repo is a checkout of the repository: its modules, the version being
// prepared and the last release.
type Repo struct {
	Root    string   // absolute directory of the checkout
	Modules []Module // the root module first, then by directory
}

// Module is one go.mod of the repository.
type Module struct {
	Dir  string // relative to the repository root, slash-separated; "." for the root
	Path string // module path
	File *modfile.File
}

// Released reports whether dir holds a module that is released: not
// examples, test data, vendored code, a directory that ./... ignores (a
// name starting with "." or "_", like this tool's own module), nor a module
// under an internal directory, which only its parent could import (the
// command's browser tests).
func Released(dir string) bool {
	if dir == "." {
		return true
	}
	for _, elem := range strings.Split(dir, "/") {
		if strings.HasPrefix(elem, ".") || strings.HasPrefix(elem, "_") ||
			elem == "testdata" || elem == "vendor" || elem == "examples" || elem == "internal" {
			return false
		}
	}
	return true
}

// OpenRepo finds the repository that holds dir and reads its modules from
// the files git knows (tracked or new, not ignored), so a module is found
// without a list to keep.
func OpenRepo(dir string) (*Repo, error) {
	out, err := git(dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	root := strings.TrimSpace(out)
	files, err := git(root, "ls-files", "--cached", "--others", "--exclude-standard", "--", "go.mod", "*/go.mod")
	if err != nil {
		return nil, err
	}
	return readRepo(root, strings.Fields(files))
}

// readRepo reads the modules of the tree at root whose go.mod files are
// gomods (slash paths relative to root).
func readRepo(root string, gomods []string) (*Repo, error) {
	r := &Repo{Root: root}
	seen := map[string]bool{}
	for _, f := range gomods {
		if path.Base(f) != "go.mod" {
			continue
		}
		d := path.Dir(f)
		if seen[d] || !Released(d) {
			continue
		}
		seen[d] = true
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(f)))
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the work tree
		}
		if err != nil {
			return nil, err
		}
		mf, err := modfile.Parse(f, data, nil)
		if err != nil {
			return nil, err
		}
		if mf.Module == nil {
			return nil, fmt.Errorf("%s: no module line", f)
		}
		r.Modules = append(r.Modules, Module{Dir: d, Path: mf.Module.Mod.Path, File: mf})
	}
	slices.SortFunc(r.Modules, func(a, b Module) int {
		if a.Dir == "." || b.Dir == "." {
			return boolCmp(b.Dir == ".", a.Dir == ".")
		}
		return strings.Compare(a.Dir, b.Dir)
	})
	if len(r.Modules) == 0 || r.Modules[0].Dir != "." {
		return nil, fmt.Errorf("%s: no go.mod at the repository root", root)
	}
	return r, nil
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// Abs is the module's directory on disk.
func (r *Repo) Abs(m Module) string { return filepath.Join(r.Root, filepath.FromSlash(m.Dir)) }

// Module returns the repository's module with the given path.
func (r *Repo) Module(modPath string) (Module, bool) {
	for _, m := range r.Modules {
		if m.Path == modPath {
			return m, true
		}
	}
	return Module{}, false
}

// TagPrefix is what a module's tags start with: "" for the root, "dir/"
// for the others (the go command's rule for a module in a subdirectory).
func (m Module) TagPrefix() string {
	if m.Dir == "." {
		return ""
	}
	return m.Dir + "/"
}

// changelogHeading matches a version heading of CHANGELOG.md; the root
// package's TestVersionMatchesChangelog uses the same pattern.
var changelogHeading = regexp.MustCompile(`^##\s+\[?v?(\d+\.\d+\.\d+[0-9A-Za-z.+-]*)\]?`)

// PreparedVersion is the version being released ("v0.3.0"): the top version
// heading of CHANGELOG.md, which a test keeps equal to sendivent.Version.
func (r *Repo) PreparedVersion() (string, error) {
	data, err := os.ReadFile(filepath.Join(r.Root, "CHANGELOG.md"))
	if err != nil {
		return "", err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if m := changelogHeading.FindStringSubmatch(sc.Text()); m != nil {
			v := "v" + m[1]
			if !semver.IsValid(v) {
				return "", fmt.Errorf("CHANGELOG.md: %q is not a semantic version", m[1])
			}
			return v, nil
		}
	}
	return "", errors.New("CHANGELOG.md has no version heading")
}

// Base is the last release, read from .ci/release-base.
type Base struct {
	Version string // "v0.2.0"
	Commit  string // what that version's tags point at
}

// BaseFile is where the last release is recorded, relative to the root.
const BaseFile = ".ci/release-base"

// ReadBase reads .ci/release-base: one line "vX.Y.Z COMMIT"; lines starting
// with # are comments.
func (r *Repo) ReadBase() (Base, error) {
	data, err := os.ReadFile(filepath.Join(r.Root, filepath.FromSlash(BaseFile)))
	if err != nil {
		return Base{}, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 || !semver.IsValid(f[0]) {
			return Base{}, fmt.Errorf("%s: want \"vX.Y.Z COMMIT\", got %q", BaseFile, line)
		}
		return Base{Version: f[0], Commit: f[1]}, nil
	}
	return Base{}, fmt.Errorf("%s: no release recorded", BaseFile)
}

func git(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
