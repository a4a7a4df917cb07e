package raftstore

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/encrypt"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// Config configures one member of a Raft store. The zero value plus Dir is
// a valid single-member store on disk (see Open).
type Config struct {
	// ID names this member in the cluster; it must be unique and stable
	// across restarts. Default "member-1".
	ID string
	// Dir holds the member's state: the raft-boltdb log (raft.db) and the
	// snapshots (snapshots/). Required.
	Dir string

	// Addr is the TCP address this member listens on for other members
	// (Raft traffic and forwarded writes share it). Empty means a
	// single-member store with no network: it cannot gain members later.
	Addr string
	// AdvertiseAddr is the address other members reach this one at
	// (default: the listener's address).
	AdvertiseAddr string
	// TLS, if set, secures all traffic between members: it is used as is to
	// serve (set Certificates, and ClientCAs with ClientAuth for mutual TLS)
	// and to dial (set RootCAs and Certificates; ServerName defaults to the
	// host of the dialled address).
	TLS *tls.Config

	// Bootstrap makes a member with no state start a new cluster whose
	// voters are Peers (this member alone when Peers is empty). Members that
	// join an existing cluster leave it false and are added by the leader
	// (Store.AddVoter, Store.AddNonvoter). A single-member store without
	// Addr always bootstraps. Bootstrapping a member that has state is a
	// no-op.
	Bootstrap bool
	// Peers are the initial voters of a bootstrapped cluster, this member
	// included.
	Peers []Peer

	// Registry is the kinds the store serves (default
	// api.NewBuiltinRegistry()). Every member must use the same registry.
	Registry *api.Registry
	// MemstoreOptions tune the in-memory state machine (history size, watch
	// buffers, field indexes). Options that change what Apply does (history
	// bounds) must be the same on every member. WithRegistry and WithClock
	// are set by the store.
	MemstoreOptions []memstore.Option

	// Encryption, if set, seals Secrets at rest: log entries carrying a
	// Secret and every snapshot are encrypted with it. Every member must
	// be able to decrypt what any other wrote (same keys).
	Encryption *encrypt.Transformer

	// SnapshotThreshold is how many log entries after the last snapshot
	// trigger a new one (default 8192); SnapshotInterval how often that is
	// checked (default 30s); TrailingLogs how many entries are kept behind a
	// snapshot so that slightly lagging members catch up from the log
	// (default 10240). A member further behind gets the snapshot.
	SnapshotThreshold uint64
	SnapshotInterval  time.Duration
	TrailingLogs      uint64
	// RetainSnapshots is how many snapshots are kept on disk (default 2).
	RetainSnapshots int

	// HeartbeatTimeout, ElectionTimeout and LeaderLeaseTimeout are Raft's
	// timing (defaults 1s, 1s, 500ms). A follower that hears nothing from
	// the leader for HeartbeatTimeout starts an election.
	HeartbeatTimeout   time.Duration
	ElectionTimeout    time.Duration
	LeaderLeaseTimeout time.Duration

	// MaxBatch caps how many writes are packed into one log entry (group
	// commit, default 1024). MaxInflight caps how many entries (or forwarded
	// batches) a member has in flight at once (default 4): while they are
	// out, new writes queue up and go out together in the next entry.
	MaxBatch    int
	MaxInflight int
	// MaxAppendEntries is Raft's cap on entries per append RPC and per disk
	// write (default 1024). LogCache is how many recent entries are cached
	// in memory in front of raft-boltdb (default 4096).
	MaxAppendEntries int
	LogCache         int
	// NoSync skips fsync of the log: unsafe (a crash can lose acknowledged
	// writes), for tests and benchmarks of everything but the disk.
	NoSync bool

	// Logger receives the store's and Raft's logs (default slog.Default()).
	// RaftLogLevel is the least level of Raft's own messages passed on:
	// "trace", "debug", "info", "warn" (default), "error" or "off".
	Logger       *slog.Logger
	RaftLogLevel string
}

// Peer is a voter of a bootstrapped cluster.
type Peer struct {
	ID   string
	Addr string
}

// withDefaults returns c with defaults filled in.
func (c Config) withDefaults() Config {
	if c.ID == "" {
		c.ID = "member-1"
	}
	if c.Registry == nil {
		c.Registry = api.NewBuiltinRegistry()
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = 8192
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = 30 * time.Second
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = 10240
	}
	if c.RetainSnapshots == 0 {
		c.RetainSnapshots = 2
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = time.Second
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = time.Second
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = 500 * time.Millisecond
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 1024
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = 4
	}
	if c.MaxAppendEntries == 0 {
		c.MaxAppendEntries = 1024
	}
	if c.LogCache == 0 {
		c.LogCache = 4096
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.RaftLogLevel == "" {
		c.RaftLogLevel = "warn"
	}
	return c
}

// Validate reports what is wrong with c (after defaults), as store.ErrInvalid.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("a data directory (Dir) is required"))
	}
	if c.Addr == "" && len(c.Peers) > 0 {
		errs = append(errs, errors.New("a member with Peers needs an Addr"))
	}
	if len(c.Peers) > 0 {
		self := false
		seen := map[string]bool{}
		for _, p := range c.Peers {
			if p.ID == "" || p.Addr == "" {
				errs = append(errs, fmt.Errorf("peer %q: ID and Addr are required", p.ID))
			}
			if seen[p.ID] {
				errs = append(errs, fmt.Errorf("peer %q listed twice", p.ID))
			}
			seen[p.ID] = true
			self = self || p.ID == c.ID
		}
		if !self {
			errs = append(errs, fmt.Errorf("the Peers list must include this member (%q)", c.ID))
		}
	}
	if c.MaxBatch < 1 || c.MaxInflight < 1 || c.MaxAppendEntries < 1 || c.LogCache < 1 {
		errs = append(errs, errors.New("MaxBatch, MaxInflight, MaxAppendEntries and LogCache must be positive"))
	}
	if c.LeaderLeaseTimeout > c.HeartbeatTimeout {
		errs = append(errs, errors.New("LeaderLeaseTimeout must not exceed HeartbeatTimeout"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("raftstore config: %w: %w", store.ErrInvalid, err)
	}
	return nil
}
