// Package job is the Job controller: it runs a Job's pods to completion.
//
// A Job asks for spec.completions successful pods, at most spec.parallelism
// at a time (no completions and a parallelism: a work queue, done when any
// pod succeeded and none still runs). With restartPolicy Never a failed pod
// stays as a record and a new pod replaces it after an exponential backoff
// (BackoffBase doubling per failure, capped at BackoffMax); with OnFailure
// the node agent restarts containers in place and their restarts count as
// failures. More failures than spec.backoffLimit (default 6), or a Job
// running longer than spec.activeDeadlineSeconds, fail the Job and stop its
// pods. An Indexed Job gives each pod an index in 0..completions-1 (the
// annotation batch.kubernetes.io/job-completion-index and the environment
// variable JOB_COMPLETION_INDEX) and completes when every index succeeded.
// status.active/succeeded/failed/ready count pods; a Complete or Failed
// condition marks the end; spec.ttlSecondsAfterFinished deletes a finished
// Job (and, through the garbage collector, its pods) that long after.
//
// Pods are found through their controller owner reference to the Job
// (orphans are not adopted). Counts are recomputed from the pods on every
// pass, so finished pods are the record: deleting them by hand resets them.
package job
