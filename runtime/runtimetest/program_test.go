package runtimetest_test

import (
	"slices"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/runtime/runtimetest"
)

func TestShellCommand(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    runtimetest.Program
		want string
	}{
		{"exit", runtimetest.Program{Stdout: "out", Stderr: "err", Exit: true, ExitCode: 3}, "echo out; echo err >&2; exit 3"},
		{"sleep then exit", runtimetest.Program{Exit: true, RunFor: 1500 * time.Millisecond}, "sleep 1.500; exit 0"},
		{"trap", runtimetest.Program{TrapTERM: true, TermExitCode: 42}, "trap 'exit 42' TERM; sleep 100000 & wait"},
		{"ignore", runtimetest.Program{IgnoreTERM: true}, "trap '' TERM; sleep 100000 & wait"},
		{"echo stdin", runtimetest.Program{EchoStdin: true, Exit: true}, "cat; exit 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := []string{"sh", "-c", tc.want}
			if got := runtimetest.ShellCommand(tc.p); !slices.Equal(got, want) {
				t.Fatalf("ShellCommand = %q, want %q", got, want)
			}
		})
	}
}
