// Package gc is the garbage collector: it deletes objects whose owners are
// gone, following metadata.ownerReferences across every kind of the store's
// registry, and carries out the propagation policies of store.Delete.
//
//   - Background (the default): the owner is deleted at once; its dependents
//     then find every owner absent and are deleted in turn (each owner's
//     absence is confirmed with a read from the store, not only the cache,
//     so an owner the cache has not seen yet is never taken for gone). A
//     dependent with some owners left only loses the references to the
//     absent ones.
//   - Foreground: the store marks the owner with finalizer
//     store.FinalizerForeground. The collector deletes its dependents (in
//     the foreground too, so the wait is transitive) and removes the
//     finalizer once no dependent with blockOwnerDeletion remains.
//   - Orphan: the store marks the owner with finalizer store.FinalizerOrphan.
//     The collector removes the owner's references from its dependents,
//     then the finalizer; the dependents live on.
//
// The collector keeps one shared informer per kind (Events excepted), each
// with an index of every owner uid (IndexOwnerUIDs), and one work queue of
// object keys. A change enqueues the object when it has owners or a
// propagation finalizer, its dependents when it goes away, and its owners
// when it goes away (so a foreground owner notices its last blocking
// dependent leave).
package gc
