// Package replicaset is the replication loop: it keeps the number of pods
// that match a ReplicaSet's (or ReplicationController's) selector equal to
// spec.replicas.
//
// One reconcile of an owner, level-triggered from the shared informer caches:
//
//  1. Ownership: an active pod in the owner's namespace that matches the
//     selector and has no controller is adopted (an ownerReference with
//     controller=true and blockOwnerDeletion=true is added); a pod the owner
//     controls that no longer matches is released (the reference removed).
//     A terminating owner adopts nothing.
//  2. Expectations: the names of the pods the previous reconcile created or
//     deleted are remembered until the pod cache shows them (present for a
//     create, gone or terminating for a delete). Until then the owner is
//     not scaled again, so a lagging cache never causes double creation or
//     double deletion. An expectation expires after ExpectationTimeout, in
//     case a watch event was lost in a relist.
//  3. Scaling: missing pods are created from spec.template in slow-start
//     batches of 1, 2, 4, ... (at most BurstReplicas per reconcile): a batch
//     starts only if every create of the previous one succeeded, so a
//     failing create (quota, validation) costs one write, not N. Surplus
//     pods are deleted least valuable first: unscheduled before scheduled,
//     pending before running, not ready before ready, newest before oldest.
//     Failed and Succeeded pods do not count and are deleted.
//  4. Status: replicas, fullyLabeledReplicas, readyReplicas,
//     availableReplicas (ready for minReadySeconds), observedGeneration and,
//     while creates or deletes fail, a ReplicaFailure condition carrying the
//     error; written only when something changes.
//
// The same reconciler serves ReplicationControllers, whose selector is a
// plain label map (defaulting to the template's labels).
package replicaset
