// Package raftpb holds the wire forms of the Raft store, generated from
// raftpb.proto: the log entries (a Batch of possibly sealed memstore
// Commands, or a Membership change) and the member-to-member forwarding
// protocol (a Request sent to the leader and its Response).
package raftpb
