// Package fake is an in-memory runtime.Runtime for tests: no processes, no
// namespaces, no root. It passes the same conformance suite
// (runtime/runtimetest) as the real runtime on libcontainer.
//
// A fake container's "process" is a goroutine that follows a [Behavior]:
// what it writes to stdout and stderr, whether and when it exits and with
// which code, and how it reacts to SIGTERM. A container gets its behaviour,
// in order of precedence, from:
//
//   - a script for its container name ([Runtime.Script]): successive starts
//     of containers with that name take successive behaviours, the last one
//     repeating, which models crash loops;
//   - its command, when built with [Command];
//   - the default: run until stopped, exit 143 on SIGTERM.
//
// Exec runs commands built with [Command] (other commands exit 127); one
// whose behaviour does not exit runs until its context ends and reports 137.
// Start latency and per-call errors are injected with [Config.StartLatency] and
// [Runtime.FailNext]. [Runtime.Reopen] returns a new Runtime over the same
// state, as a node agent sees after it restarts.
//
// Limits: an exec with TTY only merges stderr into stdout (no line
// discipline), stats are synthetic (CPU time grows at 1% of wall time
// while a container runs; memory is the behaviour's MemoryBytes), and time is
// the real clock.
package fake
