// Package memstore is the in-memory store backend: the fake that users'
// tests run on, and the state machine the Raft backend replicates. It
// passes the conformance suite in store/storetest.
//
// # Plain use
//
//	s := memstore.New()                       // built-in kinds
//	pods := store.For[*api.Pod](s)
//	p, err := pods.Create(ctx, pod)
//
// # Model
//
// Objects live in a B-tree (github.com/google/btree) keyed by kind,
// namespace and name, so a kind's objects list in namespace and name order.
// Each key keeps its versions (MVCC): every write bumps one global revision
// and adds a version at it. A paged List reads every page at the revision of
// the first page. History (the versions and the watch events) is kept back to
// the compacted revision, which advances by Compact/CompactBefore, and
// automatically once the history holds more than WithHistory's size or age.
// Watches and paged lists from before the compacted revision fail with
// store.ErrCompacted.
//
// # Deterministic apply (for replication)
//
// Every write is a Command. Prepare checks what can be checked without the
// state and decides everything else up front: uids, names from
// generateName, the command's time (creationTimestamp, deletionTimestamp).
// Apply then applies a command deterministically: the result depends only on
// the state and the command, so replicas that apply the same commands in the
// same order hold the same objects at the same revisions. Create, Update,
// UpdateStatus, Delete and Txn are Prepare followed by Apply. A replicated
// backend instead does:
//
//	cmd, err := s.Prepare(ctx, ops...)   // on the node taking the request
//	data, err := cmd.Marshal()           // protobuf, into the log
//	cmd, err = memstore.UnmarshalCommand(data, reg) // on every replica
//	results, err := s.Apply(cmd)         // in log order
//
// Compaction is a command too (NewCompactCommand, NewCompactBeforeCommand).
// Snapshot writes the whole state as size-delimited protobuf to an
// io.Writer and Restore reads it back; history is not part of a snapshot,
// so after Restore the compacted revision is the snapshot's revision and
// open watches end with store.ErrCompacted (their consumers relist).
//
// # Watch delivery policy
//
// One dispatcher goroutine per store (alive only while there are watchers)
// hands each event to the watchers that may want it: watchers whose field
// selector requires an exact value (spec.nodeName=n1) are found through an
// index on that value, watchers of a namespace through a namespace index, so
// 1,000 node-filtered watchers do not cost 1,000 filter evaluations per
// write. A hand-off never blocks: an event goes into the watcher's channel
// (WithWatchBuffer, default 8) or, when that is full, onto its backlog,
// which a goroutine that lives only while the backlog is non-empty drains
// into the channel. A watcher whose backlog passes the limit (default
// 100,000 events) is cancelled: its channel closes and Err returns
// store.ErrTooSlow; the consumer relists and watches again. Writers and
// other watchers never wait for a slow one. An idle watcher costs its
// channel, a small struct and index entries; no goroutine.
//
// Event objects are shared and read-only (see store.Event): an event's
// Object and PrevObject are the store's own immutable states, handed to
// every watcher that receives the event without a copy, so delivering a
// write to many watchers costs no allocation per watcher. A receiver that
// wants to change one clones it first (api.Clone). An object leaving a
// watch's filter arrives as EventDeleted carrying its last matching state
// at the event's revision; one entering it as EventAdded. Watchers that ask
// for bookmarks get one every WithBookmarkInterval (default 1s).
//
// # Indexes
//
// Pods are indexed by spec.nodeName; WithFieldIndex adds more. A List whose
// field selector requires an exact value of an indexed path reads only that
// index bucket (first page only; later pages scan at their revision).
//
// # Fault injection
//
// AddHook and InjectFault run before every operation (outside the locks):
// they can fail an operation of a given kind with any error, or delay it,
// for tests of error paths.
//
// # Copies, and writes that make none
//
// Every object returned by a call (results, Get, List items) is a deep copy
// that belongs to the caller, and every object written is copied in, so a
// plain write makes two deep copies (an Update's copy in skips the status
// it is given, which the stored status replaces); watch events share the
// stored objects (above). The copies are most of a write's cost in time and
// memory, so a caller that can do without them says so:
//
//	out, err := s.Create(ctx, pod, store.Consume(), store.SharedResult())
//
// store.Consume hands the object over (the store keeps it, so the caller
// must not modify it afterwards) and store.SharedResult returns the stored
// object itself, read-only like an event's: with both, a write copies
// nothing, and writes several times faster (docs/benchmarks.md, "Store").
// The remote API server writes so (it decodes each request into an object
// of its own and only encodes the result), and store.Typed's Mutate hands
// over the copy it read. Handing the store its own object back (a shared
// result, or a copy that shares its metadata) fails with store.ErrInvalid
// rather than change the stored state in place.
//
// Copies and equality checks of generated message types use compiled plans
// (internal/fastclone, also behind api.Clone): typed assignments per field
// rather than proto.Clone's reflection, with a repeated message field's
// elements copied into one allocation.
//
// # Limits
//
// Everything is in memory; there is no persistence besides Snapshot.
// Objects are stored as protobuf messages: a user kind must be registered
// in the store's registry (WithRegistry).
package memstore
