// Package scheduler is the default Coxswain scheduler: a program that uses
// the store like any other client. It watches pods that have no
// spec.nodeName and name one of its profiles in spec.schedulerName
// (DefaultSchedulerName when empty), and Nodes; it picks a node for each pod
// with the plugins of package framework and binds it.
//
//	store --watch--> informers --> queue (active / backoff / unschedulable)
//	                           \-> cache (node state, assumed pods)
//	Pop -> snapshot -> PreFilter -> Filter (parallel, sampled) -> Score -> Reserve
//	    -> assume in cache -> Bind (async; compare-and-swap on the pod)
//	no node fits -> PostFilter (preemption) -> PodScheduled=False + Event
//
// Binding is an Update of the pod with a resourceVersion precondition
// (compare-and-swap) that sets spec.nodeName and adds the finalizer
// FinalizerNodeAgent ("coxswain.io/node-agent") in the same write, so that
// a deleted pod stays visible until the node agent has stopped its
// containers and removed the finalizer. A conflict (the pod changed since
// the scheduler read it) returns the pod to the queue with backoff.
//
// The node-state snapshot is updated incrementally from watches: the pods'
// requests are summed per node, and a pod the scheduler has decided on is
// counted (assumed) until the watch shows it bound, so consecutive pods
// never double-book a node while bindings are in flight.
//
// A pod that fits nowhere gets a PodScheduled=False condition and a Warning
// Event (reason FailedScheduling) whose message counts the reasons per node,
// for example "0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had
// untolerated taint {dedicated: infra}." It then waits until a cluster
// event that one of the plugins that rejected it cares about (a node added
// or changed, a pod deleted, ...) happens, with a periodic fallback.
//
// With preemption (the DefaultPreemption plugin), a higher-priority pod
// that fits nowhere has lower-priority victims deleted, its
// status.nominatedNodeName set, and is retried when they are gone. While
// it waits, pods of lower or equal priority are filtered as if the
// nominated pod were already on that node, so they cannot take its room.
//
// At scale, filtering stops once enough feasible nodes are found
// (framework.NumFeasibleNodesToFind: 10% of 5,000 nodes, never fewer than
// 100), starting each cycle where the previous one stopped, on every core.
// Snapshots index pods by label, so affinity and spreading count matching
// pods without walking every pod, and a PreFilter plugin may restrict the
// cycle to the nodes that can pass it (topology spreading does, to the
// zones that still have room).
//
// Several schedulers run side by side: each serves the profiles it is
// configured with and ignores pods naming other schedulers. Custom plugins
// registered in Config.Registry are merged with the default ones.
//
// Limits: namespace selectors in pod affinity terms match only the listed
// namespaces (an empty selector matches all, a non-empty one matches none
// beyond them, since the scheduler does not watch Namespaces); terminating
// pods count for affinity and spreading until they are gone.
package scheduler
