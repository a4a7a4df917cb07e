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
// Two Providers ship with Coxswain:
//
//   - Registry, in this package, keeps the metrics in memory and serves them
//     in the Prometheus text format (it is an http.Handler), optionally with
//     the Go runtime and process metrics (WithRuntimeMetrics). It imports
//     only the standard library. It is the manager's default, so a
//     controller binary serves /metrics without linking a metrics client.
//   - prommetrics.Exporter (package orchestrator/metrics/prommetrics)
//     registers the same metrics, with the same names, as collectors in a
//     Prometheus client_golang registry, for a program that exports
//     Prometheus metrics of its own and wants one /metrics for all of them
//     (coxd does).
//
// Any other backend (OpenTelemetry, StatsD, ...) is a Provider of a few
// lines; Discard drops everything.
package metrics
