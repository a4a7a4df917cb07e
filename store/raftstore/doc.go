// Package raftstore is the Raft-replicated store backend: the store that
// survives machines dying. It implements store.Store on
// github.com/hashicorp/raft, with github.com/hashicorp/raft-boltdb/v2
// holding the log and the in-memory MVCC core (store/memstore) as the
// state machine, and passes the same conformance suite (store/storetest)
// as memstore, on one member and on three over TCP.
//
// # Embedded default: one member on disk
//
//	s, err := raftstore.Open(ctx, raftstore.Config{Dir: "/var/lib/app/store"})
//	defer s.Close()
//
// Open of a member that is the only voter returns once it leads and has
// replayed its log: start, write, stop, start again, and everything is
// there. Without Addr the member has no network (and cannot gain members).
//
// # Cluster
//
// Each member has an ID, a Dir and an Addr (TCP; Raft traffic and
// forwarded requests share it, TLS when Config.TLS is set, certificates
// from the embedding program). A new cluster is bootstrapped by starting
// its initial voters with Bootstrap and the same Peers; or by one member
// with Bootstrap, the others started without it and added at run time with
// AddVoter (or AddNonvoter for members that only serve reads and watches),
// from any member. RemoveMember and TransferLeadership complete the set.
//
// # Writes
//
// Every write is prepared on the member that takes it: memstore.Prepare
// decides uids, generated names and the command's time once, so applying
// the command is deterministic on every replica. Commands are protobuf
// (memstore's Command and this package's internal/raftpb Batch).
//
// Group commit: each member queues its writes; one batcher packs whatever
// is queued (up to Config.MaxBatch) into one log entry, with at most
// Config.MaxInflight entries in flight, so under load one entry (one fsync)
// carries hundreds of writes. The leader appends the entry with raft.Apply;
// a follower forwards the whole batch to the leader over its forwarding
// connection. Either way a write returns once the member that took it has
// applied the entry itself, so a client reads its own writes on the member
// it wrote to. Raft knobs set from measurement (bench/raft): MaxAppendEntries
// 1024, BatchApplyCh, a 4,096-entry raft.LogCache in front of raft-boltdb,
// CommitTimeout 5ms (followers learn commits quickly when idle).
//
// A client never sees "not leader": while no leader is known, or the member
// asked was not the leader, the batch waits and is sent again. When there
// is no quorum the write fails with store.ErrUnavailable once its context
// ends (never a hang past it).
//
// Retries are safe: every batch carries an id, and every member remembers
// the ids of the last 65,536 batches it applied (part of the replicated
// state and of snapshots) and skips a batch it has seen. So a batch whose
// fate is unknown (the leader lost leadership mid-commit, the connection to
// it broke) is simply sent again until it is applied exactly once, and the
// member that took the writes hands out their results when its own state
// machine applies the entry: results never travel between members. A
// write fails with an unknown outcome (store.ErrUnavailable) only when its
// context ends first, or when the member installed a snapshot that already
// contained it (its result was computed elsewhere).
//
// # Reads and watches
//
// Get, List and Watch are served from the member's own applied state, with
// the revision it has: fast, and possibly behind the leader. With
// store.Linearizable() (ListOptions.Linearizable) a read first passes a
// read barrier: an empty command goes through the log (batched with writes,
// so it usually costs no extra entry), and the member waits until it has
// applied the entry carrying it. This is neither a leader lease check nor a
// Raft read index; it is the strongest and simplest of the three (no clock
// assumption), at the cost of a log round trip per batch of reads.
//
// Watches work on every member, from its applied state. When a member
// installs a snapshot (it fell too far behind, or restarted) its state is
// replaced: open watches end with store.ErrCompacted and watches from a
// revision before the snapshot fail with it, so a consumer relists rather
// than missing events.
//
// # Snapshots and log compaction
//
// Raft snapshots the state machine every SnapshotThreshold entries
// (checked every SnapshotInterval) into a FileSnapshotStore under Dir and
// truncates the log behind it, keeping TrailingLogs entries; Store.Snapshot
// forces one. A snapshot is a header (the remembered batch ids) followed by
// memstore's snapshot stream; it captures the state at one revision without
// holding up writers (memstore copies its tree lazily). The log's bbolt file
// is opened with NoFreelistSync (less written per commit; the freelist is
// rebuilt on open) and a 5s lock timeout (a second process opening the
// same Dir fails instead of hanging).
//
// # Secrets at rest
//
// With Config.Encryption (store/encrypt) every log entry command that
// carries a Secret is sealed with AES-GCM before it reaches the log, and
// every snapshot is written as a sealed stream, so neither raft.db nor the
// snapshot files hold a Secret's value in plaintext. The in-memory state,
// and the forwarding connection between members (use TLS), carry
// plaintext. Keys rotate as store/encrypt describes: put the new key first
// and keep the old ones until a snapshot has been taken with the new key
// and the log behind it truncated.
//
// # Limits
//
// Duplicate detection covers retries within the last 65,536 batches. The
// whole state lives in memory on every member, as in memstore. Removing a
// member does not shut it down (it keeps its data and stops hearing from
// the cluster); Close it. Close does not hand leadership over first; call
// TransferLeadership before a planned stop to avoid an election timeout.
package raftstore
