package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	// CronJob time zones are checked with time.LoadLocation; embed the
	// zone database so validation does not depend on the host's tzdata.
	_ "time/tzdata"
)

// env is what a command may touch: its arguments and standard streams.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// command is one coxctl verb.
type command struct {
	// name is the verb, e.g. "validate".
	name string
	// summary is one line for the usage text.
	summary string
	// run executes the verb with the arguments after it and returns the
	// process exit code.
	run func(ctx context.Context, e env, args []string) int
}

// Exit codes shared by every verb.
const (
	exitOK      = 0
	exitFailed  = 1 // the command ran and found a problem (e.g. an invalid object)
	exitUsage   = 2 // bad flags or arguments
	exitIOError = 3 // an input could not be read
)

// commands lists every verb; add new verbs here, one file each.
func commands() []command {
	return []command{
		validateCommand(),
		applyCommand(),
		getCommand(),
		describeCommand(),
		logsCommand(),
		execCommand(),
		deleteCommand(),
		scaleCommand(),
		rolloutCommand(),
		cordonCommand(),
		uncordonCommand(),
		drainCommand(),
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches to the verb named by args[0].
func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, e, args[1:])
		}
	}
	fmt.Fprintf(e.stderr, "coxctl: unknown command %q\n\n", args[0])
	usage(e.stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: coxctl COMMAND [flags]")
	fmt.Fprintln(w, "\ncommands:")
	cs := commands()
	sort.Slice(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	for _, c := range cs {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'coxctl COMMAND -h' for a command's flags.")
}
