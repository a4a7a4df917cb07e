package fake_test

import (
	"testing"

	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/fake"
	"github.com/coxswain-io/coxswain/runtime/runtimetest"
)

func behavior(p runtimetest.Program) fake.Behavior {
	b := fake.Behavior{
		Exit:       p.Exit,
		RunFor:     p.RunFor,
		ExitCode:   p.ExitCode,
		IgnoreTERM: p.IgnoreTERM,
		EchoStdin:  p.EchoStdin,
	}
	if p.Stdout != "" {
		b.Stdout = p.Stdout + "\n"
	}
	if p.Stderr != "" {
		b.Stderr = p.Stderr + "\n"
	}
	if p.TrapTERM {
		b.TrapTERM, b.TermExitCode = true, p.TermExitCode
	}
	return b
}

func TestConformance(t *testing.T) {
	runtimetest.Run(t, func(t *testing.T) runtimetest.Env {
		rt := fake.New(fake.Config{})
		return runtimetest.Env{
			NewRuntime: func() runtime.Runtime { return rt.Reopen() },
			Image:      "example.test/busybox:latest",
			Command:    func(p runtimetest.Program) []string { return fake.Command(behavior(p)) },
		}
	})
}
