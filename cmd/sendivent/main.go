// Command sendivent talks to the Sendivent notifications API from the shell
// (send, status, wait, cancel, contacts) and serves a fake Sendivent on a port for the
// tests of applications in any language (fake). Run "sendivent --help".
//
// It is a module of its own, so that an application importing the SDK does
// not depend on what the command uses.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(realMain()) }

func realMain() int {
	ctx, cancel := signalContext()
	defer cancel()
	a := &app{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv:    os.Getenv,
		stdoutTTY: isTerminal(os.Stdout),
		// What libraries log (net/http's server errors in "fake") goes
		// through the scrubbing stderr too.
		logTo: log.SetOutput,
	}
	return run(ctx, a, os.Args[1:])
}

// signalContext is cancelled, with errSignal as its cause, by the first
// SIGINT or SIGTERM. A second signal gets the default action: it kills.
func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sigs:
			signal.Stop(sigs)
			cancel(fmt.Errorf("%w: %v", errSignal, s))
		case <-ctx.Done():
		}
	}()
	return ctx, func() { signal.Stop(sigs); cancel(nil) }
}

// isTerminal reports whether f is a character device, such as a terminal.
// (/dev/null is one too; rewriting a line there is harmless.)
func isTerminal(f *os.File) bool {
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
