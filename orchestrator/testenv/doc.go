// Package testenv starts a whole control plane in memory, for tests of
// controllers and of programs embedding Coxswain: a memstore, a manager
// running the built-in controllers (ReplicaSet and ReplicationController,
// Deployment, garbage collector, Namespace, Endpoints, node lifecycle,
// service IPs; pod CIDRs on request), the default scheduler from package
// scheduler, and N fake nodes. It starts in a few milliseconds
// (BenchmarkStartup), so every test can have its own.
//
//	env := testenv.Start(t, testenv.Options{Nodes: 3}) // stopped by t.Cleanup
//	store.For[*api.Deployment](env.Store).Create(ctx, d)
//	testenv.UntilTyped(ctx, env.Store, store.ListOptions{LabelSelector: "app=web"}, func(pods []*api.Pod) bool { ... })
//
// New is the same without a testing.TB, for programs and benchmarks.
//
// # Fake nodes
//
// Each fake node is a Node (node-0 ... node-N-1, with capacity, an
// InternalIP, a podCIDR and a Ready condition) and a heartbeat Lease in
// NodeLeaseNamespace, written at startup. By default their agents are
// simulated, not run: one controller over the shared pod informer acts as
// the node agent of every fake node, through ordinary store writes. A pod
// bound to a live fake node goes from Pending to Running with its
// PodScheduled, Initialized, ContainersReady and Ready conditions True, a
// pod IP from the node's range, hostIP and a running container status per
// container; a deleted pod has the node agent's finalizer removed so the
// store deletes it. No containers run, nothing restarts, and probes do not
// exist: tests drive those transitions with FailPod and SetPodReady. A
// heartbeat loop renews every live node's Lease each HeartbeatInterval (and
// sets the node's Ready condition back to True if something changed it);
// StopNode silences a node (no heartbeat, no pod sync) to simulate its loss
// and StartNode brings it back.
//
// To run a real node agent instead (for example orchestrator/agent over
// runtime/fake), pass Options.Agent: it is called once per fake node and
// its runnable runs for the life of the Env; the Node and Lease are still
// created up front.
//
// # Waiting
//
// Until, UntilTyped, UntilObject and UntilGone wait for a condition
// without sleeping or polling: they list once and re-check after each
// change a watch delivers, bounded by the caller's context.
//
// # Stopping
//
// Stop (or the test's cleanup) stops the controllers, scheduler and nodes
// first, as one group, and only then the manager and its shared informers,
// so that nothing still reads a cache or unregisters a handler while the
// caches shut down.
//
// # Workarounds
//
// Watches through Env.Store are filtered by kind (see kindFilter): at the
// time of writing, a memstore watch started from a past revision could
// replay events of other kinds.
package testenv
