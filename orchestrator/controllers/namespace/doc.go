// Package namespace is the Namespace lifecycle controller: deleting a
// Namespace deletes everything in it, then the Namespace.
//
// The controller puts the finalizer FinalizerNamespace on every Namespace
// (and sets status.phase Active), so that a Delete only marks it. When a
// Namespace is marked, its phase becomes Terminating and every object of
// every namespaced kind in the store's registry that lives in it is
// deleted (with the default, background propagation); objects that take
// time to go (finalizers, pods stopping on their node) are waited for.
// Once no object is left in any namespaced kind the finalizer is removed
// and the store removes the Namespace.
//
// The wait is event-driven: a change to any namespaced object in a
// terminating Namespace wakes it, with a periodic check as a fallback.
package namespace
