// Package nodelifecycle watches node heartbeats and evicts the pods of
// nodes that stopped sending them.
//
// Every node agent renews a Lease named after its node in namespace
// LeaseNamespace. Every MonitorPeriod the controller compares each Node's
// lease renewTime (the Node's creation time if it has no Lease) with the
// clock:
//
//   - older than GracePeriod: the Node's Ready condition becomes Unknown
//     (reason NodeStatusUnknown) and the taints node.kubernetes.io/unreachable
//     with effects NoSchedule and NoExecute are added, so the scheduler
//     places nothing new there;
//   - NotReady for longer than PodEvictionTimeout: every pod bound to the
//     node is deleted, so their controllers create replacements that the
//     scheduler puts elsewhere. The deleted pods stay Terminating (their
//     node agent, which would remove its finalizer, is not running) until
//     the node comes back or its Node object is deleted;
//   - renewed again: the taints are removed (the agent itself reports Ready
//     again).
//
// Pods bound to a Node that no longer exists are orphans: the controller
// removes the node agent's finalizer from them once they are deleted, and
// deletes them if they are not, so that they do not hang forever.
//
// Time comes from an injectable clock.Clock, so tests step it.
package nodelifecycle
