// Package metrics is how the reconcile-loop framework reports what its
// controllers do, without tying a program to a metrics library.
//
// A controller takes a Provider and asks it once for its Instruments: small
// Counter, Gauge and Observer interfaces it calls as it reconciles. The
// framework's metrics, labelled per controller, are:
//
//	coxswain_controller_reconcile_total{controller,result}  counter
//	coxswain_controller_reconcile_errors_total{controller}   counter
//	coxswain_controller_reconcile_time_seconds{controller}   histogram
//	coxswain_controller_active_workers{controller}           gauge
//	coxswain_workqueue_depth{controller}                     gauge (read at scrape)
//	coxswain_workqueue_retries_total{controller}             counter
//
// Results are success, requeue, requeue_after, error and terminal_error.
// Errors count both retried and terminal errors.
//
// This package links no metrics library, and neither does the rest of the
// framework: the manager's default Provider is Discard. Two Providers that
// serve /metrics in the Prometheus text format ship as subpackages; a
// program picks one and passes it as manager.Options.Metrics:
//
//   - vmmetrics.Provider (orchestrator/metrics/vmmetrics) keeps the metrics
//     in a VictoriaMetrics/metrics Set, optionally with the Go runtime and
//     process metrics; the lean choice for a controller binary (~0.6 MB).
//   - prommetrics.Exporter (orchestrator/metrics/prommetrics) registers them
//     as collectors in a Prometheus client_golang registry, for a program
//     that exports Prometheus metrics of its own and wants one /metrics for
//     all of them (coxd does; ~1.6 MB).
//
// Both serve the same names, labels and histogram buckets
// (ReconcileTimeBuckets); a test reads both with Prometheus's parser to keep
// it so. Any other backend (OpenTelemetry, StatsD, ...) is a Provider of a
// few dozen lines.
package metrics
