package raftstore

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/hashicorp/raft"
	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/encrypt"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/raftstore/internal/raftpb"
)

// Contexts (additional authenticated data) of sealed log commands and
// snapshot streams.
var (
	commandContext  = []byte("raftstore-command")
	snapshotContext = []byte("raftstore-snapshot")
)

// cmdResult is the outcome of one command of a log entry.
type cmdResult struct {
	objs []api.Object
	err  error
}

// batchID names a batch (a log entry's worth of commands) across retries.
type batchID struct{ hi, lo uint64 }

// dedupWindow is how many recent batch ids every member remembers: a batch
// retried within that many entries of its first application is skipped.
const dedupWindow = 1 << 16

// dedup is the deterministic set of recently applied batch ids, part of
// the replicated state (and of snapshots).
type dedup struct {
	ring []batchID
	next int
	set  map[batchID]struct{}
}

func (d *dedup) seen(id batchID) bool { _, ok := d.set[id]; return ok }

func (d *dedup) add(id batchID) {
	if d.set == nil {
		d.set = map[batchID]struct{}{}
	}
	if len(d.ring) < dedupWindow {
		d.ring = append(d.ring, id)
	} else {
		delete(d.set, d.ring[d.next])
		d.ring[d.next] = id
		d.next = (d.next + 1) % dedupWindow
	}
	d.set[id] = struct{}{}
}

// ordered returns the ids oldest first.
func (d *dedup) ordered() []batchID {
	out := make([]batchID, 0, len(d.ring))
	out = append(out, d.ring[d.next:]...)
	return append(out, d.ring[:d.next]...)
}

// pendingBatch is a batch this member proposed and waits for.
type pendingBatch struct {
	items []*item
	done  chan struct{}
}

// fsm is the Raft state machine: a memstore that applies the commands of
// each log entry in order. Raft calls Apply, Snapshot and Restore from one
// goroutine; Persist runs concurrently with Apply.
//
// When the member that proposed a batch applies it, the FSM hands each
// command's result to the waiting item: results never travel between
// members, and a write returns only once its own member has applied it.
type fsm struct {
	mem *memstore.Store
	reg *api.Registry
	enc *encrypt.Transformer

	dedup dedup // FSM goroutine only

	mu       sync.Mutex
	pending  map[batchID]*pendingBatch
	restores int // snapshots restored (for tests)
}

var _ raft.FSM = (*fsm)(nil)

func newFSM(mem *memstore.Store, reg *api.Registry, enc *encrypt.Transformer) *fsm {
	return &fsm{mem: mem, reg: reg, enc: enc, pending: map[batchID]*pendingBatch{}}
}

// addPending registers a batch this member is about to propose.
func (f *fsm) addPending(id batchID, items []*item) *pendingBatch {
	pb := &pendingBatch{items: items, done: make(chan struct{})}
	f.mu.Lock()
	f.pending[id] = pb
	f.mu.Unlock()
	return pb
}

// takePending unregisters a batch; the caller finishes its items.
func (f *fsm) takePending(id batchID) *pendingBatch {
	f.mu.Lock()
	defer f.mu.Unlock()
	pb := f.pending[id]
	if pb != nil {
		delete(f.pending, id)
		close(pb.done)
	}
	return pb
}

// failPending finishes every pending batch with err.
func (f *fsm) failPending(err error) {
	f.mu.Lock()
	all := f.pending
	f.pending = map[batchID]*pendingBatch{}
	f.mu.Unlock()
	for _, pb := range all {
		close(pb.done)
		for _, it := range pb.items {
			it.finish(cmdResult{err: &transportError{err}}, 0)
		}
	}
}

// Apply applies one log entry: a Batch of commands, unless a batch with its
// id was applied already (a retry).
func (f *fsm) Apply(l *raft.Log) any {
	if l.Type != raft.LogCommand {
		return nil
	}
	var b raftpb.Batch
	if err := proto.Unmarshal(l.Data, &b); err != nil {
		// Every replica skips the entry the same way.
		return nil
	}
	id := batchID{b.GetIdHi(), b.GetIdLo()}
	if f.dedup.seen(id) {
		return nil
	}
	// Only the member that proposed the batch has callers waiting for its
	// results; every other member applies without copying them.
	pb := f.takePending(id)
	results := make([]cmdResult, len(b.GetCommands()))
	for i, c := range b.GetCommands() {
		results[i] = f.applyCommand(c, pb != nil && i < len(pb.items))
	}
	f.dedup.add(id)
	if pb != nil {
		for i, it := range pb.items {
			if i < len(results) {
				it.finish(results[i], l.Index)
			}
		}
	}
	return nil
}

// applyCommand applies one command; the objects it returns only if
// results is set (a caller waits for them here).
func (f *fsm) applyCommand(c *raftpb.Command, results bool) cmdResult {
	data := c.GetData()
	if len(data) == 0 {
		return cmdResult{} // a read barrier
	}
	if c.GetSealed() {
		if f.enc == nil {
			return cmdResult{err: store.Errorf(store.ErrInvalid, "log command is encrypted and this member has no keys")}
		}
		var err error
		if data, err = f.enc.Decrypt(data, commandContext); err != nil {
			return cmdResult{err: fmt.Errorf("decrypt log command: %w", err)}
		}
	}
	cmd, err := memstore.UnmarshalCommand(data, f.reg)
	if err != nil {
		return cmdResult{err: err}
	}
	if !results {
		return cmdResult{err: f.mem.ApplyDiscard(cmd)}
	}
	objs, err := f.mem.Apply(cmd)
	return cmdResult{objs: objs, err: err}
}

// Snapshot captures the state as of the last applied entry. The memstore
// copies its tree lazily before writing its first byte, so Snapshot waits
// for that first byte (which proves the state is captured) and hands the
// rest of the stream to Persist, which runs concurrently with Apply.
//
// The stream is a header (the count of remembered batch ids, then the ids,
// 16 bytes each, oldest first) followed by memstore's snapshot.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	// The header is built here, on the FSM goroutine, so it matches the
	// state; it is written just before memstore's first byte, which
	// memstore writes only after it has copied its tree.
	ids := f.dedup.ordered()
	hdr := make([]byte, 8, 8+16*len(ids))
	binary.BigEndian.PutUint64(hdr, uint64(len(ids)))
	for _, id := range ids {
		hdr = binary.BigEndian.AppendUint64(hdr, id.hi)
		hdr = binary.BigEndian.AppendUint64(hdr, id.lo)
	}
	pr, pw := io.Pipe()
	captured := make(chan struct{})
	done := make(chan error, 1)
	w := &firstWrite{w: pw, first: captured, prefix: hdr}
	go func() {
		_, err := f.mem.Snapshot(w)
		if err == nil {
			err = w.flushPrefix()
		}
		w.signal()
		pw.CloseWithError(err)
		done <- err
	}()
	select {
	case <-captured:
	case err := <-done:
		if err != nil {
			return nil, err
		}
	}
	return &fsmSnapshot{r: pr, done: done, enc: f.enc}, nil
}

// firstWrite closes first on the first Write (or on signal), and writes
// prefix before the first bytes.
type firstWrite struct {
	w      io.Writer
	first  chan struct{}
	once   sync.Once
	prefix []byte
}

func (w *firstWrite) signal() { w.once.Do(func() { close(w.first) }) }

func (w *firstWrite) flushPrefix() error {
	if w.prefix == nil {
		return nil
	}
	p := w.prefix
	w.prefix = nil
	_, err := w.w.Write(p)
	return err
}

func (w *firstWrite) Write(p []byte) (int, error) {
	w.signal()
	if err := w.flushPrefix(); err != nil {
		return 0, err
	}
	return w.w.Write(p)
}

type fsmSnapshot struct {
	r    *io.PipeReader
	done chan error
	enc  *encrypt.Transformer
}

// Persist streams the snapshot into sink, sealed when encryption is on.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	err := s.persist(sink)
	if err != nil {
		_ = sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *fsmSnapshot) persist(sink io.Writer) error {
	var dst io.Writer = sink
	var sealed *encrypt.Writer
	if s.enc != nil {
		var err error
		if sealed, err = s.enc.NewWriter(sink, snapshotContext); err != nil {
			return fmt.Errorf("seal snapshot: %w", err)
		}
		dst = sealed
	}
	if _, err := io.Copy(dst, s.r); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := <-s.done; err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	if sealed != nil {
		if err := sealed.Close(); err != nil {
			return fmt.Errorf("seal snapshot: %w", err)
		}
	}
	return nil
}

// Release ends the snapshot's writer if Persist did not consume it.
func (s *fsmSnapshot) Release() {
	_ = s.r.CloseWithError(errors.New("snapshot released"))
}

// Restore replaces the state with a snapshot. Open watches end with
// store.ErrCompacted (their consumers relist), and watches from before the
// snapshot's revision fail with it. Batches this member proposed that the
// snapshot already contains fail with an unknown outcome: their results
// were computed elsewhere.
func (f *fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	var r io.Reader = br
	head, _ := br.Peek(16)
	if encrypt.IsEncryptedStream(head) {
		if f.enc == nil {
			return store.Errorf(store.ErrInvalid, "snapshot is encrypted and this member has no keys")
		}
		r = f.enc.NewReader(br, snapshotContext)
	}
	var b [16]byte
	if _, err := io.ReadFull(r, b[:8]); err != nil {
		return store.Errorf(store.ErrInvalid, "read snapshot header: %v", err)
	}
	n := binary.BigEndian.Uint64(b[:8])
	if n > dedupWindow {
		return store.Errorf(store.ErrInvalid, "snapshot header: %d batch ids", n)
	}
	var d dedup
	for range n {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return store.Errorf(store.ErrInvalid, "read snapshot header: %v", err)
		}
		d.add(batchID{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])})
	}
	if err := f.mem.Restore(r); err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	f.dedup = d
	f.mu.Lock()
	f.restores++
	var lost []batchID
	for id := range f.pending {
		if d.seen(id) {
			lost = append(lost, id)
		}
	}
	f.mu.Unlock()
	for _, id := range lost {
		if pb := f.takePending(id); pb != nil {
			for _, it := range pb.items {
				it.finish(cmdResult{err: &transportError{store.Errorf(store.ErrUnavailable, "write applied, result lost to a snapshot install; outcome unknown")}}, 0)
			}
		}
	}
	return nil
}
