// Command releasetools checks that the repository's modules can be
// released, and helps release them (RELEASING.md). It lives in a module of
// its own, in a directory that ./... ignores, so that its dependencies
// (golang.org/x/mod, golang.org/x/exp/apidiff, golang.org/x/tools) never
// reach an application that imports the SDK.
//
//	go -C .ci/release run . modules        the released modules, one "dir path" a line
//	go -C .ci/release run . sync           write each module's go.work
//	go -C .ci/release run . bump           require the others at the version being prepared; sync
//	go -C .ci/release run . check          go.mod requirements, replace directives, go.work files
//	go -C .ci/release run . tidy           go mod tidy -diff for every module
//	go -C .ci/release run . gate           the compatibility gate against .ci/release-base
//	go -C .ci/release run . proxy DIR      a GOPROXY=file://DIR of the checkout at the version being prepared
//
// go test in this directory runs the install test (TestInstallAsAUser) and
// the gate's own tests.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "releasetools:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: releasetools modules|sync|bump|check|tidy|gate|proxy DIR")
	}
	r, err := OpenRepo(".")
	if err != nil {
		return err
	}
	switch args[0] {
	case "modules":
		for _, m := range r.Modules {
			fmt.Println(m.Dir, m.Path)
		}
		return nil
	case "sync":
		return r.Sync()
	case "bump":
		return r.Bump()
	case "check":
		return r.Check()
	case "tidy":
		return r.TidyDiff()
	case "gate":
		return r.Gate(os.Stdout)
	case "proxy":
		if len(args) != 2 {
			return fmt.Errorf("usage: releasetools proxy DIR")
		}
		v, err := r.PreparedVersion()
		if err != nil {
			return err
		}
		return r.BuildProxy(args[1], v)
	}
	return fmt.Errorf("unknown command %q", args[0])
}
