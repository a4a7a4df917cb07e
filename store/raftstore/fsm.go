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

// fsm is the Raft state machine: a memstore that applies the commands of
// each log entry in order. Raft calls Apply, Snapshot and Restore from one
// goroutine; Persist runs concurrently with Apply.
type fsm struct {
	mem *memstore.Store
	reg *api.Registry
	enc *encrypt.Transformer

	mu       sync.Mutex
	applied  uint64        // index of the last command entry applied
	advance  chan struct{} // closed (and replaced) when applied advances
	restores int           // snapshots restored (for tests and metrics)
}

var _ raft.FSM = (*fsm)(nil)

func newFSM(mem *memstore.Store, reg *api.Registry, enc *encrypt.Transformer) *fsm {
	return &fsm{mem: mem, reg: reg, enc: enc, advance: make(chan struct{})}
}

// Apply applies one log entry: a Batch of commands. It returns []cmdResult,
// one per command, which reaches the future of the member that proposed it.
func (f *fsm) Apply(l *raft.Log) any {
	var results []cmdResult
	if l.Type == raft.LogCommand {
		var b raftpb.Batch
		if err := proto.Unmarshal(l.Data, &b); err != nil {
			// Every replica fails the same way: the entry is skipped.
			results = []cmdResult{{err: store.Errorf(store.ErrInvalid, "decode log entry %d: %v", l.Index, err)}}
		} else {
			results = make([]cmdResult, len(b.Commands))
			for i, c := range b.Commands {
				results[i] = f.applyCommand(c)
			}
		}
	}
	f.setApplied(l.Index)
	return results
}

func (f *fsm) applyCommand(c *raftpb.Command) cmdResult {
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
	objs, err := f.mem.Apply(cmd)
	return cmdResult{objs: objs, err: err}
}

func (f *fsm) setApplied(index uint64) {
	f.mu.Lock()
	if index > f.applied {
		f.applied = index
		close(f.advance)
		f.advance = make(chan struct{})
	}
	f.mu.Unlock()
}

// appliedIndex returns the last applied index and a channel closed when it
// advances.
func (f *fsm) appliedIndex() (uint64, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied, f.advance
}

// Snapshot captures the state as of the last applied entry. The memstore
// copies its tree lazily before writing its first byte, so Snapshot waits
// for that first byte (which proves the state is captured) and hands the
// rest of the stream to Persist, which runs concurrently with Apply.
func (f *fsm) Snapshot() (raft.FSMSnapshot, error) {
	pr, pw := io.Pipe()
	captured := make(chan struct{})
	done := make(chan error, 1)
	w := &firstWrite{w: pw, first: captured}
	applied, _ := f.appliedIndex()
	go func() {
		bw := bufio.NewWriterSize(w, 64<<10)
		// The header: the index of the last command entry applied, so that
		// a restored member knows which barriers it has passed.
		var hdr [8]byte
		binary.BigEndian.PutUint64(hdr[:], applied)
		_, _ = bw.Write(hdr[:])
		_, err := f.mem.Snapshot(bw)
		if err == nil {
			err = bw.Flush()
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

// firstWrite closes first on the first Write (or on signal).
type firstWrite struct {
	w     io.Writer
	first chan struct{}
	once  sync.Once
}

func (w *firstWrite) signal() { w.once.Do(func() { close(w.first) }) }

func (w *firstWrite) Write(p []byte) (int, error) {
	w.signal()
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
// snapshot's revision fail with it.
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
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return store.Errorf(store.ErrInvalid, "read snapshot header: %v", err)
	}
	if err := f.mem.Restore(r); err != nil {
		return fmt.Errorf("restore snapshot: %w", err)
	}
	f.mu.Lock()
	f.restores++
	f.mu.Unlock()
	f.setApplied(binary.BigEndian.Uint64(hdr[:]))
	return nil
}
