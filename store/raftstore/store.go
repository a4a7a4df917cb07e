package raftstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/raftstore/internal/raftpb"
)

// Store is one member of a Raft-replicated store. It implements
// store.Store: writes go through the Raft log (forwarded to the leader
// from any member, batched into few log entries), reads and watches are
// served from the member's own applied state.
type Store struct {
	cfg  Config
	reg  *api.Registry
	log  *slog.Logger
	mem  *memstore.Store
	fsm  *fsm
	raft *raft.Raft

	bolt  *raftboltdb.BoltStore
	trans raft.Transport
	mux   *mux // nil without Addr

	queue    chan *item
	stats    struct{ entries, commands atomic.Uint64 }
	idPrefix uint64 // random per Open: batch ids of different runs differ
	idSeq    atomic.Uint64

	peersMu sync.Mutex
	peers   map[string]*peer

	ctx    context.Context // ends at Close
	cancel context.CancelFunc
	done   <-chan struct{}
	wg     sync.WaitGroup
	// fwdMu guards fwdClosed, which stops forwarding connections from
	// joining wg once Close has begun (wg.Add must not race wg.Wait).
	fwdMu     sync.Mutex
	fwdClosed bool
	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*Store)(nil)

// Open starts a member from cfg.Dir (creating it if needed). A member with
// state resumes from it; one without joins the cluster when the leader adds
// it, or starts a new one if cfg.Bootstrap is set (or cfg.Addr is empty).
//
// When the member is the only voter, Open returns once the member leads
// and has applied its whole log, so every write acknowledged before the
// last Close is visible. Otherwise it returns at once; use WaitReady to
// wait for a leader and for this member to catch up.
func Open(ctx context.Context, cfg Config) (_ *Store, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("raftstore: %w", err)
	}
	s := &Store{cfg: cfg, reg: cfg.Registry, log: cfg.Logger.With("member", cfg.ID), peers: map[string]*peer{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.done = s.ctx.Done()
	s.queue = make(chan *item, 4*cfg.MaxBatch)
	s.idPrefix = mrand.Uint64()
	var cleanup []func()
	defer func() {
		if err != nil {
			s.cancel()
			for i := len(cleanup) - 1; i >= 0; i-- {
				cleanup[i]()
			}
		}
	}()

	opts := append(append([]memstore.Option(nil), cfg.MemstoreOptions...), memstore.WithRegistry(cfg.Registry))
	s.mem = memstore.New(opts...)
	cleanup = append(cleanup, func() { _ = s.mem.Close() })
	s.fsm = newFSM(s.mem, cfg.Registry, cfg.Encryption)
	hlog := newHCLogger(s.log, cfg.RaftLogLevel)

	s.bolt, err = raftboltdb.New(raftboltdb.Options{
		Path:   filepath.Join(cfg.Dir, "raft.db"),
		NoSync: cfg.NoSync,
		BoltOptions: &bbolt.Options{
			// Fail instead of waiting forever when another process holds
			// the log open.
			Timeout: 5 * time.Second,
			// The freelist is rebuilt on open instead of written on every
			// commit: less to write per fsync, and the log only appends
			// and truncates.
			NoFreelistSync: true,
			FreelistType:   bbolt.FreelistMapType,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("raftstore: open log: %w", err)
	}
	cleanup = append(cleanup, func() { _ = s.bolt.Close() })
	logs, err := raft.NewLogCache(cfg.LogCache, s.bolt)
	if err != nil {
		return nil, fmt.Errorf("raftstore: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, cfg.RetainSnapshots, hlog.Named("snapshots"))
	if err != nil {
		return nil, fmt.Errorf("raftstore: snapshot store: %w", err)
	}

	var self raft.ServerAddress
	if cfg.Addr == "" {
		self, s.trans = raft.NewInmemTransport(raft.ServerAddress("inmem-" + cfg.ID))
	} else {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			return nil, fmt.Errorf("raftstore: listen: %w", err)
		}
		s.mux, err = newMux(ln, cfg.AdvertiseAddr, cfg.TLS, s.log)
		if err != nil {
			_ = ln.Close()
			return nil, err
		}
		s.mux.forward = s.serveForward
		cleanup = append(cleanup, func() { _ = s.mux.Close() })
		go s.mux.serve()
		nt := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream: s.mux, MaxPool: 4, Timeout: 10 * time.Second, Logger: hlog.Named("transport"),
		})
		s.trans = nt
		self = nt.LocalAddr()
	}
	cleanup = append(cleanup, func() {
		if c, ok := s.trans.(io.Closer); ok {
			_ = c.Close()
		}
	})

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.HeartbeatTimeout = cfg.HeartbeatTimeout
	rc.ElectionTimeout = cfg.ElectionTimeout
	rc.LeaderLeaseTimeout = cfg.LeaderLeaseTimeout
	rc.MaxAppendEntries = cfg.MaxAppendEntries
	rc.BatchApplyCh = true
	rc.SnapshotThreshold = cfg.SnapshotThreshold
	rc.SnapshotInterval = cfg.SnapshotInterval
	rc.TrailingLogs = cfg.TrailingLogs
	// Followers learn the commit index from the next append; a short
	// commit timeout keeps a forwarded write's wait for its own member to
	// apply it short when the cluster is otherwise idle.
	rc.CommitTimeout = 5 * time.Millisecond
	rc.Logger = hlog
	if err := raft.ValidateConfig(rc); err != nil {
		return nil, fmt.Errorf("raftstore config: %w: %w", store.ErrInvalid, err)
	}

	has, err := raft.HasExistingState(logs, s.bolt, snaps)
	if err != nil {
		return nil, fmt.Errorf("raftstore: %w", err)
	}
	if !has && (cfg.Bootstrap || cfg.Addr == "") {
		conf := raft.Configuration{Servers: []raft.Server{{Suffrage: raft.Voter, ID: rc.LocalID, Address: self}}}
		if len(cfg.Peers) > 0 {
			conf.Servers = nil
			for _, p := range cfg.Peers {
				addr := raft.ServerAddress(p.Addr)
				if p.ID == cfg.ID {
					addr = self
				}
				conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.ID), Address: addr})
			}
		}
		if err := raft.BootstrapCluster(rc, logs, s.bolt, snaps, s.trans, conf); err != nil {
			return nil, fmt.Errorf("raftstore: bootstrap: %w", err)
		}
	}
	s.raft, err = raft.NewRaft(rc, s.fsm, logs, s.bolt, snaps, s.trans)
	if err != nil {
		return nil, fmt.Errorf("raftstore: start raft: %w", err)
	}
	cleanup = append(cleanup, func() { _ = s.raft.Shutdown().Error() })

	s.wg.Add(1)
	go s.runBatcher()

	if s.soleVoter() {
		if err := s.WaitReady(ctx); err != nil {
			cleanup = nil // Close releases everything
			_ = s.Close()
			return nil, fmt.Errorf("raftstore: replay the log: %w", err)
		}
	}
	return s, nil
}

func (s *Store) soleVoter() bool {
	f := s.raft.GetConfiguration()
	if f.Error() != nil {
		return false
	}
	servers := f.Configuration().Servers
	return len(servers) == 1 && servers[0].ID == raft.ServerID(s.cfg.ID)
}

// WaitReady waits until the cluster has a leader and this member has
// applied every write committed before the call.
func (s *Store) WaitReady(ctx context.Context) error {
	return s.barrier(ctx)
}

// Start implements a long-lived component's contract: it blocks until ctx
// ends, then closes the store.
func (s *Store) Start(ctx context.Context) error {
	select {
	case <-ctx.Done():
	case <-s.done:
	}
	return s.Close()
}

// Close stops the member: Raft shuts down (without handing leadership
// over; see TransferLeadership), the log is closed, pending writes fail
// with store.ErrUnavailable and every watch ends with it.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.fwdMu.Lock()
		s.fwdClosed = true
		s.fwdMu.Unlock()
		s.cancel()
		var errs []error
		if err := s.raft.Shutdown().Error(); err != nil {
			errs = append(errs, fmt.Errorf("raft shutdown: %w", err))
		}
		if s.mux != nil {
			_ = s.mux.Close()
		}
		if c, ok := s.trans.(io.Closer); ok {
			_ = c.Close()
		}
		s.peersMu.Lock()
		for _, p := range s.peers {
			p.close()
		}
		s.peersMu.Unlock()
		s.wg.Wait()
		s.fsm.failPending(errClosed)
		if err := s.bolt.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close log: %w", err))
		}
		_ = s.mem.Close()
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

var errClosed = store.Errorf(store.ErrUnavailable, "raftstore closed")

// Registry returns the kinds this store serves.
func (s *Store) Registry() *api.Registry { return s.reg }

// Create stores a new object (see store.Store). It honours store.Consume
// (the object is encoded into the log without being copied first);
// results are always the caller's own.
func (s *Store) Create(ctx context.Context, obj api.Object, opts ...store.WriteOption) (api.Object, error) {
	return s.write1(ctx, store.CreateOp(obj), opts)
}

// Update replaces an object except its status (see store.Store). Options
// as for Create.
func (s *Store) Update(ctx context.Context, obj api.Object, opts ...store.WriteOption) (api.Object, error) {
	return s.write1(ctx, store.UpdateOp(obj), opts)
}

// UpdateStatus replaces an object's status (see store.Store). Options as
// for Create.
func (s *Store) UpdateStatus(ctx context.Context, obj api.Object, opts ...store.WriteOption) (api.Object, error) {
	return s.write1(ctx, store.UpdateStatusOp(obj), opts)
}

// Delete deletes an object or marks it for deletion (see store.Store).
func (s *Store) Delete(ctx context.Context, kind, namespace, name string, opts store.DeleteOptions) (api.Object, error) {
	return s.write1(ctx, store.DeleteOp(kind, namespace, name, opts), nil)
}

func (s *Store) write1(ctx context.Context, op store.Op, opts []store.WriteOption) (api.Object, error) {
	objs, err := s.txn(ctx, store.ApplyWriteOptions(opts).Consume, op)
	if err != nil {
		return nil, err
	}
	return objs[0], nil
}

// Txn applies ops atomically at one revision (see store.Store).
func (s *Store) Txn(ctx context.Context, ops ...store.Op) ([]api.Object, error) {
	return s.txn(ctx, false, ops...)
}

func (s *Store) txn(ctx context.Context, consume bool, ops ...store.Op) ([]api.Object, error) {
	prepare := s.mem.Prepare
	if consume {
		prepare = s.mem.PrepareOwned
	}
	cmd, err := prepare(ctx, ops...)
	if err != nil {
		return nil, err
	}
	data, err := cmd.Marshal()
	if err != nil {
		return nil, err
	}
	c := &raftpb.Command{Data: data}
	if s.cfg.Encryption != nil && hasSecret(ops) {
		if c.Data, err = s.cfg.Encryption.Encrypt(data, commandContext); err != nil {
			return nil, fmt.Errorf("seal command: %w", err)
		}
		c.Sealed = true
	}
	res, err := s.submit(ctx, c)
	if err != nil {
		return nil, err
	}
	return res.objs, res.err
}

func hasSecret(ops []store.Op) bool {
	for _, op := range ops {
		if _, ok := op.Object.(*api.Secret); ok {
			return true
		}
	}
	return false
}

// Compact discards history at and before revision, on every member.
func (s *Store) Compact(ctx context.Context, revision int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := memstore.NewCompactCommand(revision).Marshal()
	if err != nil {
		return err
	}
	res, err := s.submit(ctx, &raftpb.Command{Data: data})
	if err != nil {
		return err
	}
	return res.err
}

// Get returns an object from this member's applied state, or, with
// store.Linearizable(), after a read barrier (see the package doc).
func (s *Store) Get(ctx context.Context, kind, namespace, name string, opts ...store.ReadOption) (api.Object, error) {
	if store.ApplyReadOptions(opts).Linearizable {
		if err := s.barrier(ctx); err != nil {
			return nil, err
		}
	}
	return s.mem.Get(ctx, kind, namespace, name)
}

// List lists objects from this member's applied state, or, with
// opts.Linearizable, after a read barrier.
func (s *Store) List(ctx context.Context, kind string, opts store.ListOptions) (*store.ListResult, error) {
	if opts.Linearizable {
		if err := s.barrier(ctx); err != nil {
			return nil, err
		}
	}
	return s.mem.List(ctx, kind, opts)
}

// Watch streams changes as this member applies them (see store.Store). A
// watch ends with store.ErrCompacted when the member installs a snapshot
// (its consumer relists) and with store.ErrUnavailable when it closes.
func (s *Store) Watch(ctx context.Context, kind string, opts store.WatchOptions) (store.Watch, error) {
	return s.mem.Watch(ctx, kind, opts)
}

// Revision returns this member's applied revision.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	return s.mem.Revision(ctx)
}

// CompactedRevision returns the revision at and before which this member's
// history is gone.
func (s *Store) CompactedRevision() int64 { return s.mem.CompactedRevision() }

// Snapshot makes Raft take a snapshot now (and truncate the log behind it,
// keeping TrailingLogs entries).
func (s *Store) Snapshot(ctx context.Context) error {
	f := s.raft.Snapshot()
	return s.waitFuture(ctx, f)
}

func (s *Store) waitFuture(ctx context.Context, f raft.Future) error {
	ch := make(chan error, 1)
	go func() { ch <- f.Error() }()
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return errClosed
	}
}

// barrier returns once this member's state reflects every write
// acknowledged before the call: an empty command goes through the log
// (batched with writes) and this member's FSM releases it when it applies
// the entry that carried it.
func (s *Store) barrier(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	res, err := s.submit(ctx, &raftpb.Command{})
	if err != nil {
		return err
	}
	return res.err
}

func (s *Store) isLeader() bool { return s.raft.State() == raft.Leader }

// hclog adapter: Raft's logs go to the store's slog.Logger.
func newHCLogger(l *slog.Logger, level string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:   "raft",
		Level:  hclog.LevelFromString(level),
		Output: &slogWriter{l: l},
	})
}

type slogWriter struct{ l *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	lvl := slog.LevelInfo
	switch {
	case strings.Contains(msg, "[ERROR]"):
		lvl = slog.LevelError
	case strings.Contains(msg, "[WARN]"):
		lvl = slog.LevelWarn
	case strings.Contains(msg, "[DEBUG]"), strings.Contains(msg, "[TRACE]"):
		lvl = slog.LevelDebug
	}
	w.l.Log(context.Background(), lvl, msg)
	return len(p), nil
}

// Stats are counters of a member's group commit.
type Stats struct {
	// Entries is how many batches (log entries) this member proposed, and
	// Commands how many writes (and read barriers) they carried.
	Entries, Commands uint64
}

// Stats returns this member's counters.
func (s *Store) Stats() Stats {
	return Stats{Entries: s.stats.entries.Load(), Commands: s.stats.commands.Load()}
}
