// Package runtimetest is the conformance suite every runtime.Runtime must
// pass. Run it from a test of the implementation:
//
//	func TestConformance(t *testing.T) {
//		runtimetest.Run(t, func(t *testing.T) runtimetest.Env {
//			state := newState(t) // fresh state, cleaned up by t.Cleanup
//			return runtimetest.Env{
//				NewRuntime: func() runtime.Runtime { return open(state) },
//				Image:      "registry.local/busybox:latest",
//				Command:    myCommand, // Program -> argv for this runtime
//			}
//		})
//	}
//
// The suite covers sandbox and container lifecycle, exit codes, stop with a
// grace period (a process that traps SIGTERM and one that ignores it), logs
// with follow, exec with output and exit code, stats, list by labels,
// removal leaving nothing behind, and a restart of the runtime object: a
// second Runtime over the same state lists, stops and removes what the
// first created.
package runtimetest
