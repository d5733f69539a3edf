package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sendivent/sendivent-go"
)

// app is what every command shares: the standard streams, the environment,
// and the values of the connection flags.
type app struct {
	stdin          io.Reader
	in             *stdinReader // stdin for "@-", read by one flag at most; run sets it
	stdout, stderr io.Writer
	getenv         func(string) string
	stdoutTTY      bool            // stdout is a terminal: wait rewrites one status line
	logTo          func(io.Writer) // where the log package writes; nil: left alone

	conn  connFlags
	scrub *scrubber // what stdout and stderr remove; run sets it
	ran   bool      // a command's own code started: an error before it is a usage error
}

// connFlags are the flags of every command that talks to the API.
type connFlags struct {
	apiKey, apiURL string
	json, debug    bool
	timeout        time.Duration
	retries        int
}

// connAnnotation marks the flags that usage lists apart, under "Connection
// and output".
const connAnnotation = "sendivent_conn"

// exitCodesAnnotation marks the commands whose usage ends with the exit codes.
const exitCodesAnnotation = "sendivent_exit_codes"

// commands lists the subcommands. A group of commands (contacts) is one
// constructor here, made with newGroupCmd; its subcommands run through
// app.apiRun.
var commands = []func(*app) *cobra.Command{
	newSendCmd,
	newStatusCmd,
	newWaitCmd,
	newCancelCmd,
	newContactsCmd,
	newEventsCmd,
	newGenCmd,
	newFakeCmd,
}

const rootLong = `sendivent talks to the Sendivent notifications API from the shell (sends,
their status, contacts), and serves a fake Sendivent on a port for the tests
of applications in any language.

The API key comes from $SENDIVENT_API_KEY (or --api-key, which other users
of the machine can see in the process list: prefer the variable). The base
URL comes from $SENDIVENT_API_URL or --api-url; without one, a live_ key goes
to the production service and a test_ key to the sandbox. --json prints
results as JSON on stdout and errors as JSON on stderr.`

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:         "sendivent",
		Short:       "Send notifications through Sendivent, follow them, and run a fake Sendivent",
		Long:        rootLong,
		Annotations: map[string]string{exitCodesAnnotation: "true"},
		Version:     sendivent.Version,
		Example: `  export SENDIVENT_API_KEY=test_…
  sendivent send welcome --to alice@example.com --payload company=ACME --wait
  sendivent status 3f0c8a1e-…
  sendivent contacts get alice@example.com
  sendivent fake                       # a fake Sendivent on 127.0.0.1:8787`,
		SilenceErrors: true, // run prints errors itself, scrubbed, as text or JSON
		SilenceUsage:  true, // an API error is not a reason to print usage
	}
	root.SetUsageFunc(usage)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{msg: err.Error()} })
	for _, mk := range commands {
		root.AddCommand(mk(a))
	}
	return root
}

// run executes the command line args and returns the exit code. ctx is
// cancelled by SIGINT and SIGTERM (with errSignal as its cause).
//
// Everything it writes goes through one scrubber (scrub.go), made before
// cobra sees args: a.stdout and a.stderr are replaced by its writers, and
// cobra writes only to them. A panic is printed through them too.
func run(ctx context.Context, a *app, args []string) (code int) {
	a.scrub = newScrubber(append(argvKeys(args), a.getenv("SENDIVENT_API_KEY"))...)
	stdout, stderr := a.scrub.writer(a.stdout), a.scrub.writer(a.stderr)
	a.stdout, a.stderr = stdout, stderr
	a.in = &stdinReader{r: a.stdin}
	if a.logTo != nil {
		a.logTo(stderr)
	}
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "sendivent: internal error: %v\n%s", r, debug.Stack())
			code = exitOther
		}
		_ = stdout.Flush()
		_ = stderr.Flush()
	}()

	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetErrPrefix("sendivent:")
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	if !a.ran {
		// Unknown command or flag, wrong arguments, a required flag missing.
		msg := err.Error()
		if strings.HasPrefix(msg, "unknown command ") && len(args) > 0 && strings.HasPrefix(args[0], "-") {
			// "sendivent --api-key KEY send": cobra took KEY for the name.
			msg += "; the command's name comes first, then its flags: sendivent send EVENT --to RECIPIENT --json"
		}
		err = &usageError{msg: msg}
	}
	code = exitCode(err)
	path := ""
	if cmd != nil {
		path = cmd.CommandPath()
	}
	writeError(stderr, err, code, a.conn.json, path)
	return code
}

// addConnFlags adds the flags of commands that talk to the API.
func (a *app) addConnFlags(cmd *cobra.Command) {
	fs := pflag.NewFlagSet("conn", pflag.ContinueOnError)
	fs.SortFlags = false
	// The defaults are empty on purpose: a default taken from the environment
	// would print the key in --help.
	fs.StringVar(&a.conn.apiKey, "api-key", "", "API `KEY` (default $SENDIVENT_API_KEY; never printed)")
	fs.StringVar(&a.conn.apiURL, "api-url", "", "base `URL` (default $SENDIVENT_API_URL, else chosen by the key's live_/test_ prefix)")
	fs.DurationVar(&a.conn.timeout, "timeout", 0, "bound on the whole command, retries and waiting included, such as 30s (default none)")
	fs.IntVar(&a.conn.retries, "retries", sendivent.DefaultMaxRetries, "`N` retries of a request that failed on the way or with 408, 409, 429 or 5xx (0: none)")
	fs.BoolVar(&a.conn.json, "json", false, "print results as JSON on stdout, errors as JSON on stderr")
	fs.BoolVar(&a.conn.debug, "debug", false, "log each HTTP attempt to stderr (never the key; recipients masked)")
	fs.VisitAll(func(f *pflag.Flag) {
		f.Annotations = map[string][]string{connAnnotation: {"true"}}
	})
	cmd.Flags().AddFlagSet(fs)
}

// apiRun makes cmd a command that talks to the API: it adds the connection
// flags, and its run makes the client, bounds the context by --timeout, and
// marks an error that came after the context ended.
func (a *app) apiRun(cmd *cobra.Command, run func(ctx context.Context, c *sendivent.Client, args []string) error) {
	a.addConnFlags(cmd)
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[exitCodesAnnotation] = "true"
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		a.ran = true
		c, err := a.client()
		if err != nil {
			return err
		}
		defer c.CloseIdleConnections()
		ctx := cmd.Context()
		if a.conn.timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, a.conn.timeout)
			defer cancel()
		}
		return markContextEnd(ctx, run(ctx, c, args))
	}
}

// client makes the SDK client from the flags and the environment.
func (a *app) client() (*sendivent.Client, error) {
	key := a.conn.apiKey
	if key == "" {
		key = a.getenv("SENDIVENT_API_KEY")
	}
	if key == "" {
		return nil, usagef("no API key: set SENDIVENT_API_KEY or pass --api-key")
	}
	a.scrub.add(key) // already there: from the flags or the environment
	if a.conn.retries < 0 {
		return nil, usagef("--retries must be 0 or more")
	}
	opts := []sendivent.Option{
		sendivent.WithUserAgent("sendivent-cli"),
		sendivent.WithMaxRetries(a.conn.retries),
	}
	url := a.conn.apiURL
	if url == "" {
		url = a.getenv("SENDIVENT_API_URL")
	}
	if url != "" {
		opts = append(opts, sendivent.WithBaseURL(url))
	}
	if a.conn.debug {
		h := slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug})
		opts = append(opts, sendivent.WithLogger(slog.New(h)))
	}
	c, err := sendivent.NewClient(key, opts...)
	if err != nil {
		// A missing or malformed key or URL: the user's input.
		return nil, &usageError{msg: err.Error()}
	}
	return c, nil
}

// exactArgs wants n arguments, named in the error.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		if len(args) < len(names) {
			return usagef("missing %s argument", names[len(args)])
		}
		return usagef("too many arguments: want %d, got %d: %q", len(names), len(args), args)
	}
}
