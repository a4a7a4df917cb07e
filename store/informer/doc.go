// Package informer keeps a local, indexed, read-only copy of one kind of a
// store.Store, kept current by list+watch, and tells handlers about changes.
//
// An Informer lists the kind once, then watches from the list's revision, so
// no change is missed and none is seen twice. When the watch fails with
// store.ErrCompacted or store.ErrTooSlow it lists again and reports the
// difference to its handlers as adds, updates and deletes; on other watch
// failures it re-watches from the last revision it saw, with backoff.
//
// The cache is indexed by namespace (IndexNamespace), by each label pair
// (IndexLabels, values "key=value"), and by controller owner uid
// (IndexOwner); AddIndex adds more. Lookups by index cost O(matching
// objects).
//
// Objects returned by the cache and handed to handlers are shared: callers
// must not modify them. Clone (api.Clone) before changing one.
//
// Handlers never block the watch: each registration has its own unbounded
// FIFO and goroutine, so a slow handler only delays itself (and grows its own
// backlog). A handler added after the informer has synced first receives an
// add for every cached object.
//
// The package depends only on api and store, so the scheduler, proxy, DNS
// and node agent can use it without importing the orchestrator.
package informer
