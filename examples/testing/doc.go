// Package examplestesting shows how to test a controller: the Website
// controller of examples/customcontroller runs on orchestrator/testenv (a
// whole control plane with fake nodes, in memory), and the tests break
// things on purpose with memstore's fault hooks (InjectFault, AddHook) and
// testenv's node and pod controls (StopNode, FailPod, SetPodReady), then
// check the controller still converges. See website_test.go; the package
// has no other code.
package examplestesting
