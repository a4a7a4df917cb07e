// Package orchestrator is the reconcile-loop framework: informers (list+watch
// into an indexed cache), a deduplicating rate-limited work queue, reconcilers,
// a builder that wires which kinds wake a controller, and a manager that runs
// controllers with leader election, health endpoints and metrics.
package orchestrator
