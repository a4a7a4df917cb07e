// Package metrics holds the Prometheus collectors of the reconcile-loop
// framework, labelled per controller:
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
package metrics
