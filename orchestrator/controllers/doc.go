// Package controllers is the home of the built-in controllers, one package
// each. Each has Add(mgr, opts) to run it in a manager.Manager and New to
// build it without adding it (testenv runs them as a group):
//
//   - replicaset: ReplicaSet and ReplicationController (N copies by
//     selector, adoption and release, slow-start creation, least valuable
//     pods deleted first, expectations).
//   - deployment: rolling update and recreate, pause, revision history,
//     rollback (annotation deployment.coxswain.io/rollback-to), progress
//     deadline, status.
//   - gc: cascading deletion by ownerReferences (background, foreground,
//     orphan).
//   - namespace: deleting a Namespace deletes everything in it first.
//   - endpoints: each Service's ready and not-ready addresses.
//   - nodelifecycle: heartbeat timeout -> NotReady -> pods evicted.
//   - podcidr and serviceip: node subnets, service cluster IPs and node
//     ports through network/alloc.
//   - podutil: the pod predicates they share; wiring: building controllers
//     over a manager's shared informers.
//
// Other packages here (job, cronjob, daemonset, ...) have their own owners.
package controllers
