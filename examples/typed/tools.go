//go:build tools

package main

// The command that go:generate runs, required by this module so that
// "go run" finds it.
import _ "github.com/sendivent/sendivent-go/cmd/sendivent"
