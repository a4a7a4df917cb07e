// Package deployment is the Deployment controller: it rolls a set of
// replicas from one pod template to the next through ReplicaSets it owns.
//
// Each distinct template gets its own ReplicaSet, named
// <deployment>-<pod-template-hash>, whose selector and template carry the
// label pod-template-hash so that the ReplicaSets of one Deployment never
// fight over pods. The ReplicaSet whose template equals the Deployment's is
// the new one; every other is old.
//
// Strategies:
//
//   - RollingUpdate (the default, maxSurge and maxUnavailable 25%): the new
//     ReplicaSet grows while the total of all ReplicaSets' replicas stays
//     within replicas+maxSurge; old ReplicaSets shrink (their unavailable
//     pods first, then oldest ReplicaSet first) while the available pods stay
//     at least replicas-maxUnavailable. Availability is counted from the pod
//     cache, capped per ReplicaSet at its spec.replicas, so pods a scale-down
//     has not yet removed are never counted twice.
//   - Recreate: every old ReplicaSet is scaled to zero, and the new one is
//     scaled up only once no old pod is left.
//
// Revisions: each ReplicaSet carries the annotation
// deployment.kubernetes.io/revision; the new one gets one more than the
// highest, also when an old template comes back (its ReplicaSet is reused
// and renumbered). Old ReplicaSets scaled to zero beyond
// spec.revisionHistoryLimit (default 10) are deleted, oldest first.
//
// Rollback: set the annotation deployment.coxswain.io/rollback-to on the
// Deployment to a revision number ("0" means the previous one). The
// controller copies that revision's template into spec.template, removes
// the annotation and rolls forward to it as to any new template; a
// revision that does not exist only removes the annotation (with a
// Warning Event).
//
// Pause: with spec.paused the controller changes no ReplicaSet (beyond
// creating nothing and cleaning nothing); status is still kept current and
// the Progressing condition says DeploymentPaused. Resuming rolls on.
//
// Status: replicas, updatedReplicas, readyReplicas, availableReplicas and
// unavailableReplicas from the ReplicaSets, observedGeneration, and two
// conditions: Available (at least replicas-maxUnavailable pods available)
// and Progressing (True with reason NewReplicaSetAvailable once the rollout
// is complete, ReplicaSetUpdated while it advances; False with reason
// ProgressDeadlineExceeded when it has not advanced for
// spec.progressDeadlineSeconds, default 600).
package deployment
