package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// usage prints a command's usage: synopsis, examples, its own flags, then
// the connection flags apart, then the subcommands. It replaces cobra's
// template so the two kinds of flags do not mix in one sorted list.
func usage(c *cobra.Command) error {
	var b strings.Builder
	b.WriteString("Usage:\n")
	if c.Runnable() && !c.HasAvailableSubCommands() { // a group runs only to print this
		fmt.Fprintf(&b, "  %s\n", c.UseLine())
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "  %s [command]\n", c.CommandPath())
	}
	if c.Example != "" {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", strings.TrimRight(c.Example, "\n"))
	}
	if c.HasAvailableSubCommands() {
		b.WriteString("\nCommands:\n")
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() || sub.Name() == "help" {
				fmt.Fprintf(&b, "  %-11s %s\n", sub.Name(), sub.Short)
			}
		}
	}
	c.Flags().SortFlags = false // LocalFlags keeps this order
	own, conn := splitFlags(c.LocalFlags())
	if own.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nFlags:\n%s", own.FlagUsages())
	}
	if conn.HasAvailableFlags() {
		fmt.Fprintf(&b, "\nConnection and output:\n%s", conn.FlagUsages())
	}
	if c.Annotations[exitCodesAnnotation] != "" {
		fmt.Fprintf(&b, "\n%s\n", exitCodesHelp)
	}
	if c.HasAvailableSubCommands() {
		fmt.Fprintf(&b, "\nRun '%s [command] --help' for more about a command.\n", c.CommandPath())
	}
	_, err := fmt.Fprint(c.OutOrStderr(), b.String())
	return err
}

// splitFlags separates the connection flags (see addConnFlags) from the
// command's own, keeping the order they were defined in.
func splitFlags(fs *pflag.FlagSet) (own, conn *pflag.FlagSet) {
	own = pflag.NewFlagSet("own", pflag.ContinueOnError)
	conn = pflag.NewFlagSet("conn", pflag.ContinueOnError)
	own.SortFlags, conn.SortFlags = false, false
	fs.VisitAll(func(f *pflag.Flag) {
		if _, ok := f.Annotations[connAnnotation]; ok {
			conn.AddFlag(f)
		} else {
			own.AddFlag(f)
		}
	})
	return own, conn
}
