// Package controller runs a Reconciler: informer changes are mapped to
// requests, filtered by predicates, deduplicated in a work queue, and
// handed to a pool of workers that call Reconcile and act on its Result.
//
// Most users build controllers with package builder; this package is the
// engine underneath.
package controller
