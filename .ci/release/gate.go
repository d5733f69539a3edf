package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/exp/apidiff"
	"golang.org/x/mod/semver"
	"golang.org/x/tools/go/packages"
)

// Gate compares the exported API of every module with the last release
// (.ci/release-base) and fails on an incompatible change unless the
// version being prepared may make one and CHANGELOG.md states it. It
// writes what it compared to w.
func (r *Repo) Gate(w io.Writer) error {
	base, err := r.ReadBase()
	if err != nil {
		return err
	}
	prepared, err := r.PreparedVersion()
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "release-base-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	old, err := r.extract(base.Commit, tmp)
	if err != nil {
		return fmt.Errorf("the last release, %s at %s: %w", base.Version, base.Commit, err)
	}
	fmt.Fprintf(w, "compatibility of %s against %s (%s)\n", prepared, base.Version, base.Commit)

	var breaks []Break
	for _, m := range r.Modules {
		om, ok := old.Module(m.Path)
		if !ok {
			fmt.Fprintf(w, "  %s: new since %s, nothing to compare\n", m.Path, base.Version)
			continue
		}
		rep, err := compareModule(old.Abs(om), r.Abs(m), m.Path)
		if err != nil {
			return fmt.Errorf("module %s: %w", m.Dir, err)
		}
		compatible, incompatible := 0, 0
		for _, c := range rep.Changes {
			switch {
			case m.Dir == "." && strings.HasPrefix(c.Message, versionChange):
				fmt.Fprintf(w, "  %s: %s (every release)\n", m.Path, c.Message)
			case c.Compatible:
				compatible++
			default:
				incompatible++
				breaks = append(breaks, Break{Module: m.Path, Message: c.Message})
			}
		}
		fmt.Fprintf(w, "  %s: %d compatible change(s), %d incompatible\n", m.Path, compatible, incompatible)
	}
	for _, om := range old.Modules {
		if _, ok := r.Module(om.Path); !ok {
			fmt.Fprintf(w, "  %s: gone since %s (removed or renamed)\n", om.Path, base.Version)
			breaks = append(breaks, Break{Module: om.Path, Message: "module " + om.Path + ": removed or renamed", Subject: om.Path})
		}
	}
	if len(breaks) == 0 {
		return nil
	}
	section, err := r.IncompatibleSection(prepared)
	if err != nil {
		return err
	}
	return Judge(base.Version, prepared, breaks, section, w)
}

// versionChange starts apidiff's message for the new value of the root
// package's Version constant, which every release changes by design: a
// program that reads it gets the version it runs with.
const versionChange = "Version: value changed from "

// Break is one incompatible change.
type Break struct {
	Module  string
	Message string // apidiff's, "Client.Send: changed from … to …"
	Subject string // what CHANGELOG.md must name; from Message when empty
}

// Name is what the CHANGELOG's incompatible changes must mention: the
// changed object as apidiff names it ("Client.Send", "sendiventtest.Server",
// "package …/webhook"), or a removed module's path.
func (b Break) Name() string {
	if b.Subject != "" {
		return b.Subject
	}
	s, _, _ := strings.Cut(b.Message, ": ")
	s = strings.TrimPrefix(s, "package ")
	s = strings.NewReplacer("(*", "", "(", "", ")", "").Replace(s)
	return strings.TrimPrefix(s, "./")
}

// Judge decides whether breaks may ship in version prepared after base:
// below 1.0 only in a minor bump (0.2.x to 0.3.0), from 1.0 on only in a
// major one, and only when section (the CHANGELOG's incompatible changes
// for prepared) names each of them.
func Judge(base, prepared string, breaks []Break, section string, w io.Writer) error {
	fmt.Fprintln(w, "incompatible changes:")
	var unstated []string
	for _, b := range breaks {
		stated := Mentions(section, b.Name())
		mark := "stated in CHANGELOG.md"
		if !stated {
			mark = "NOT STATED in CHANGELOG.md"
			unstated = append(unstated, b.Name())
		}
		fmt.Fprintf(w, "  %s: %s (%s)\n", b.Module, b.Message, mark)
	}
	var errs []error
	if !MayBreak(base, prepared) {
		errs = append(errs, fmt.Errorf("%s after %s may not make incompatible changes: below v1 only a minor bump may (v0.2.x to v0.3.0), from v1 only a major one", prepared, base))
	}
	if len(unstated) > 0 {
		errs = append(errs, fmt.Errorf("CHANGELOG.md's %q for %s must name each incompatible change; missing: %s",
			IncompatibleHeading, strings.TrimPrefix(prepared, "v"), strings.Join(unstated, ", ")))
	}
	return errors.Join(errs...)
}

// Mentions reports whether text names name as a whole: "B" in "`B` is
// gone" but not in "Both", "Client.Send" but not "Client.SendBatch".
func Mentions(text, name string) bool {
	re := regexp.MustCompile(`(^|[^\pL\pN_.])` + regexp.QuoteMeta(name) + `($|[^\pL\pN_])`)
	return re.MatchString(text)
}

// MayBreak reports whether version prepared, following base, may make
// incompatible changes.
func MayBreak(base, prepared string) bool {
	if semver.Compare(prepared, base) <= 0 {
		return false
	}
	if semver.Major(prepared) == "v0" {
		return semver.MajorMinor(prepared) != semver.MajorMinor(base)
	}
	return semver.Major(prepared) != semver.Major(base)
}

// IncompatibleHeading starts the CHANGELOG subsection, inside a version's
// section, that states the version's incompatible changes.
const IncompatibleHeading = "### Incompatible changes"

// IncompatibleSection returns the text under the "### Incompatible changes"
// headings of CHANGELOG.md's section for version ("v0.3.0"), or "".
func (r *Repo) IncompatibleSection(version string) (string, error) {
	data, err := os.ReadFile(filepath.Join(r.Root, "CHANGELOG.md"))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	inVersion, inBreaks := false, false
	for _, line := range strings.Split(string(data), "\n") {
		switch {
		case strings.HasPrefix(line, "## "):
			m := changelogHeading.FindStringSubmatch(line)
			inVersion = m != nil && "v"+m[1] == version
			inBreaks = false
		case strings.HasPrefix(line, "### "):
			inBreaks = inVersion && strings.HasPrefix(strings.ToLower(line), strings.ToLower(IncompatibleHeading))
		case inBreaks:
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String(), nil
}

// extract writes the tree of commit to dir and reads its modules.
func (r *Repo) extract(commit, dir string) (*Repo, error) {
	if _, err := git(r.Root, "cat-file", "-e", commit+"^{commit}"); err != nil {
		return nil, fmt.Errorf("not in this clone (fetch its history): %w", err)
	}
	archive := exec.Command("git", "archive", "--format=tar", commit)
	archive.Dir = r.Root
	untar := exec.Command("tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return nil, err
	}
	untar.Stdin = pipe
	if err := untar.Start(); err != nil {
		return nil, err
	}
	if err := archive.Run(); err != nil {
		return nil, fmt.Errorf("git archive %s: %w", commit, err)
	}
	if err := untar.Wait(); err != nil {
		return nil, fmt.Errorf("tar: %w", err)
	}
	files, err := git(r.Root, "ls-tree", "-r", "--name-only", commit)
	if err != nil {
		return nil, err
	}
	return readRepo(dir, strings.Fields(files))
}

// compareModule loads the importable packages (not main, not internal) of
// the module in oldDir and newDir and compares them.
func compareModule(oldDir, newDir, modPath string) (apidiff.Report, error) {
	oldMod, err := loadModule(oldDir, modPath)
	if err != nil {
		return apidiff.Report{}, fmt.Errorf("the last release: %w", err)
	}
	newMod, err := loadModule(newDir, modPath)
	if err != nil {
		return apidiff.Report{}, err
	}
	return apidiff.ModuleChanges(oldMod, newMod), nil
}

func loadModule(dir, modPath string) (*apidiff.Module, error) {
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedTypes | packages.NeedModule,
		Dir:  dir,
	}
	pkgs, err := packages.Load(cfg, "./...")
	if err != nil {
		return nil, err
	}
	mod := &apidiff.Module{Path: modPath}
	var errs []error
	for _, p := range pkgs {
		if p.Name == "main" || isInternal(p.PkgPath) {
			continue
		}
		for _, e := range p.Errors {
			errs = append(errs, e)
		}
		if p.Types != nil {
			mod.Packages = append(mod.Packages, p.Types)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return mod, nil
}

func isInternal(pkgPath string) bool {
	for _, elem := range strings.Split(pkgPath, "/") {
		if elem == "internal" {
			return true
		}
	}
	return false
}
