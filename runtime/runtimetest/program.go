package runtimetest

import (
	"fmt"
	"strings"
	"time"
)

// Program is an abstract process the suite runs; each implementation turns
// it into a command for its runtime (Env.Command). Strings are single plain
// words, safe to use unquoted in a shell.
type Program struct {
	// Stdout and Stderr are written, each followed by a newline, when the
	// process starts (before stdin is echoed for an exec).
	Stdout string
	Stderr string
	// EchoStdin copies stdin to stdout until EOF (used by exec).
	EchoStdin bool
	// Exit makes the process exit by itself, RunFor after it started, with
	// ExitCode. Without it the process runs until signalled.
	Exit     bool
	RunFor   time.Duration
	ExitCode int
	// TrapTERM makes SIGTERM end the process with TermExitCode.
	// IgnoreTERM makes it ignore SIGTERM. The suite sets one of the two on
	// every long-running program, since the default reaction of a
	// container's init to SIGTERM differs between runtimes.
	TrapTERM     bool
	TermExitCode int
	IgnoreTERM   bool
}

// ShellCommand renders p as a POSIX shell command line run by sh -c (for
// runtimes with a busybox or other shell image). A trapped or ignored
// SIGTERM works even for a shell that is its namespace's init.
func ShellCommand(p Program) []string {
	var b strings.Builder
	switch {
	case p.TrapTERM:
		fmt.Fprintf(&b, "trap 'exit %d' TERM; ", p.TermExitCode)
	case p.IgnoreTERM:
		b.WriteString("trap '' TERM; ")
	}
	if p.Stdout != "" {
		fmt.Fprintf(&b, "echo %s; ", p.Stdout)
	}
	if p.EchoStdin {
		b.WriteString("cat; ")
	}
	if p.Stderr != "" {
		fmt.Fprintf(&b, "echo %s >&2; ", p.Stderr)
	}
	if p.Exit {
		if p.RunFor > 0 {
			fmt.Fprintf(&b, "sleep %.3f; ", p.RunFor.Seconds())
		}
		fmt.Fprintf(&b, "exit %d", p.ExitCode)
	} else {
		// wait returns early when a trapped signal arrives.
		b.WriteString("sleep 100000 & wait")
	}
	return []string{"sh", "-c", b.String()}
}
