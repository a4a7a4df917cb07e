package memstore

import (
	"bufio"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore/internal/wire"
)

const snapshotFormat = 1

// Snapshot writes the whole state (the current revision and every live
// object) to w as size-delimited protobuf messages: a header, then one
// message per object in key order. Writers are held up only while the tree
// is copied (lazily, copy-on-write), not while w is written; the snapshot
// reflects exactly the returned revision. History is not included.
func (s *Store) Snapshot(w io.Writer) (int64, error) {
	s.mu.Lock()
	tree := s.tree.Clone()
	rev := s.rev
	s.mu.Unlock()

	count := int64(0)
	tree.Ascend(func(r *record) bool {
		if r.at(rev) != nil {
			count++
		}
		return true
	})
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := protodelim.MarshalTo(bw, &wire.SnapshotHeader{Format: snapshotFormat, Revision: rev, Count: count}); err != nil {
		return 0, fmt.Errorf("write snapshot header: %w", err)
	}
	var werr error
	tree.Ascend(func(r *record) bool {
		obj := r.at(rev)
		if obj == nil {
			return true
		}
		b, err := marshalOpts.Marshal(obj)
		if err != nil {
			werr = fmt.Errorf("marshal %q: %w", r.key, err)
			return false
		}
		kind := r.key[:indexByte(r.key, 0)]
		if _, err := protodelim.MarshalTo(bw, &wire.SnapshotObject{Kind: kind, Object: b}); err != nil {
			werr = fmt.Errorf("write snapshot: %w", err)
			return false
		}
		return true
	})
	if werr != nil {
		return 0, werr
	}
	if err := bw.Flush(); err != nil {
		return 0, fmt.Errorf("write snapshot: %w", err)
	}
	return rev, nil
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return len(s)
}

// Restore replaces the whole state with a snapshot read from r. History
// starts afresh at the snapshot's revision (watches from before it fail
// with store.ErrCompacted), and every open watch is cancelled with
// store.ErrCompacted so that its consumer relists. On error the state is
// unchanged.
func (s *Store) Restore(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var hdr wire.SnapshotHeader
	if err := protodelim.UnmarshalFrom(br, &hdr); err != nil {
		return store.Errorf(store.ErrInvalid, "read snapshot header: %v", err)
	}
	if hdr.GetFormat() != snapshotFormat {
		return store.Errorf(store.ErrInvalid, "snapshot format %d, want %d", hdr.GetFormat(), snapshotFormat)
	}
	tree := newTree()
	indexes := s.newIndexes()
	opts := protodelim.UnmarshalOptions{MaxSize: -1}
	for i := int64(0); i < hdr.GetCount(); i++ {
		var so wire.SnapshotObject
		if err := opts.UnmarshalFrom(br, &so); err != nil {
			return store.Errorf(store.ErrInvalid, "read snapshot object %d: %v", i, err)
		}
		ki, err := s.kind(so.GetKind())
		if err != nil {
			return err
		}
		obj := ki.New()
		if err := proto.Unmarshal(so.GetObject(), obj); err != nil {
			return store.Errorf(store.ErrInvalid, "decode snapshot object %d: %v", i, err)
		}
		m := obj.GetMetadata()
		k := key(ki.Kind, m.GetNamespace(), m.GetName())
		rec := newRecord(k, &version{rev: m.GetResourceVersion(), obj: obj})
		tree.ReplaceOrInsert(rec)
		for _, x := range indexes[ki.Kind] {
			if v, ok := x.value(obj); ok {
				x.add(v, rec)
			}
		}
	}
	s.hub.closeAllWith(store.Errorf(store.ErrCompacted, "store restored from a snapshot"), func() {
		s.mu.Lock()
		s.tree = tree
		s.indexes = indexes
		s.rev = max(hdr.GetRevision(), initialRevision)
		s.compacted = hdr.GetRevision()
		s.history = ring{}
		s.hub.dispatched.Store(s.rev)
		s.mu.Unlock()
	})
	return nil
}
