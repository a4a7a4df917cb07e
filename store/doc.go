// Package store defines the watchable object store every Coxswain component
// talks through: CRUD with optimistic concurrency, list and watch by
// revision, transactions, compaction, and typed access with generics.
//
// The contract (what every backend must do) is written on the Store
// interface and checked by the conformance suite in store/storetest. The
// backends are store/memstore (in memory; also the state machine of the Raft
// backend), store/raftstore (replicated) and store/remote (an HTTP client).
package store
