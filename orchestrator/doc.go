// Package orchestrator is the reconcile-loop framework: controllers are
// loops that observe, diff and act, level-triggered, using only the public
// store API. The framework makes writing one a few dozen lines.
//
// One concept per package:
//
//   - store/informer: list+watch into an indexed, read-only local cache,
//     with event handlers that never block the watch (it lives under store
//     so that the scheduler, proxy and DNS can use it without importing
//     this package).
//   - workqueue: deduplicating, rate-limited queue; a key is never processed
//     by two workers at once.
//   - reconcile: Request, Result, the Reconciler interface and Func adapter,
//     Terminal errors.
//   - handler and predicate: which changes wake which requests.
//   - controller: queue + workers around a Reconciler, with metrics and
//     slog lines carrying controller and key.
//   - builder: For(kind).Owns(kind).Watches(kind, fn).Complete(r).
//   - manager: runs runnables (Start(ctx) error) with shared informers,
//     leader election, /healthz, /readyz and /metrics.
//   - leaderelection: a Lease held through compare-and-swap writes.
//   - events: a recorder of deduplicated, counted Event objects.
//   - metrics: the Provider interface controllers report through (default
//     Discard); metrics/vmmetrics (VictoriaMetrics/metrics, lean) and
//     metrics/prommetrics (Prometheus client_golang) serve them at /metrics.
//   - clock: real and fake time for queues and leases.
//
// The flow of one controller:
//
//	store --list+watch--> informer cache --handlers--> predicates --map--> work queue
//	                          ^                                               |
//	                          | reads (Get/ByIndex/Select)                    v
//	                          +---------------------------- workers: Reconcile(ctx, req)
//	                                                          |  writes go to the store
//	                                                          v
//	                                     done | requeue after | retry with backoff | terminal
package orchestrator
