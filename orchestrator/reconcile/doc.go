// Package reconcile defines what a controller's loop body is: a Reconciler
// gets the key of one object, reads current state, acts, and returns a
// Result saying when (if ever) to look at that key again.
//
// Outcomes:
//   - done: Result{}, nil
//   - requeue after a delay: Result{RequeueAfter: d}, nil
//   - retry with exponential backoff: any non-nil error, or Result{Requeue: true}
//   - terminal error, never retried until the object changes again:
//     Terminal(err)
package reconcile
