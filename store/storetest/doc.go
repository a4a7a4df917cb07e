// Package storetest is the conformance suite every store backend must pass.
//
// Run it from a backend's tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return memstore.New() })
//	}
//
// newStore must return an empty store serving the built-in kinds
// (api.NewBuiltinRegistry) and release it in t.Cleanup. The suite checks
// CRUD and the error classes, the uid, generation and resourceVersion rules,
// updates that change nothing (not writes),
// concurrent writers and compare-and-swap races, watch ordering under load,
// list followed by watch with no gap, watch filters (objects entering and
// leaving a selector), watch from a revision, compaction, selectors,
// consistent pagination, finalizers and graceful deletion, transactions,
// context cancellation, bookmarks and slow watchers. Sizes are modest (a
// few hundred writes per subtest) so a replicated or remote backend runs it
// in seconds; it never sleeps except while waiting for an event, with a
// deadline.
//
// The bookmark test waits up to 5 seconds for a bookmark: a backend should
// send them at least that often to watchers that ask (memstore's interval
// is configurable).
package storetest
