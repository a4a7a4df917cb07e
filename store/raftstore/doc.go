// Package raftstore is the Raft-replicated store backend.
package raftstore
