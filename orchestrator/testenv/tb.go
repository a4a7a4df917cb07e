package testenv

import (
	"context"
)

// TB is the part of testing.TB that Start uses, so that this package does
// not import testing.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// Start starts a control plane for a test and stops it when the test ends.
// It fails the test if the control plane does not start.
func Start(t TB, opts Options) *Env {
	t.Helper()
	e, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(e.Stop)
	return e
}
