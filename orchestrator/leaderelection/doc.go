// Package leaderelection elects one leader among candidates through a
// Lease object in a store.Store, using compare-and-swap writes (the
// resourceVersion precondition of Update) so that two candidates can never
// both believe they hold a valid lease at one store revision.
//
// A candidate takes the lease when it is free (no holder) or when the
// holder has not renewed it for LeaseDuration, measured on the candidate's
// own clock from when it last saw the lease change (so clocks need not
// agree). The leader renews every RetryPeriod; if it cannot renew for
// RenewDeadline it steps down before its lease can expire elsewhere
// (RenewDeadline < LeaseDuration). Candidates of one election must use the
// same LeaseDuration; the lease's leaseDurationSeconds is informational and
// rounded up to whole seconds.
package leaderelection
