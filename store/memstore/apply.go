package memstore

import (
	"slices"
	"strconv"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/internal/fastclone"
	"github.com/coxswain-io/coxswain/store"
)

// event is one change in the watch history. Its objects are immutable.
type event struct {
	rev  int64
	time int64
	typ  store.EventType
	kind string
	ns   string
	key  string
	// obj is the new state; for deletions the last state with
	// resourceVersion set to rev.
	obj api.Object
	// prev is the state before (nil for Added).
	prev api.Object
	// rec and ver are the record and version the write made.
	rec *record
	ver *version
	// left is prev with resourceVersion rev, the Deleted object of a
	// watcher the change takes out of its filter; made on first need, under
	// the watch hub's mu.
	left api.Object
}

// planned is the effect of one op, computed before anything is committed.
type planned struct {
	ki     *kindInfo
	key    string
	rec    *record    // the key's record, if it has one
	cur    api.Object // state before; nil if absent
	next   api.Object // state after; nil when deleted
	typ    store.EventType
	write  bool
	result api.Object // what the op returns (immutable)
}

// Apply applies a command prepared by Prepare (here or, decoded with
// UnmarshalCommand, on another replica). It is deterministic: the outcome
// depends only on the store's state and the command. Either every op
// applies, at one new revision, or none does and the error says why
// (store.ErrNotFound, ErrAlreadyExists, ErrConflict, ErrInvalid). An
// operation that changes nothing (a Check, or deleting an object already
// marked for deletion, an update that changes nothing) does not bump the
// revision. The results, one per op,
// belong to the caller.
func (s *Store) Apply(cmd *Command) ([]api.Object, error) {
	return s.apply(cmd, resultCopy)
}

// ApplyDiscard is Apply for a caller that does not want the results (a
// replica applying a command no client there waits for): the same
// outcome, without the copy of each result. It returns Apply's error.
func (s *Store) ApplyDiscard(cmd *Command) error {
	_, err := s.apply(cmd, resultNone)
	return err
}

// resultMode is what apply returns for each op.
type resultMode int

const (
	resultCopy   resultMode = iota // a copy the caller owns
	resultShared                   // the stored object itself (read-only)
	resultNone                     // nothing
)

func (s *Store) apply(cmd *Command, mode resultMode) ([]api.Object, error) {
	if cmd.compact != 0 || cmd.compactBefore != 0 {
		return nil, s.applyCompact(cmd)
	}
	s.mu.Lock()
	rev := s.rev + 1
	var one [1]planned
	plans := one[:]
	if len(cmd.ops) != 1 {
		plans = make([]planned, len(cmd.ops))
	}
	anyWrite := false
	for i := range cmd.ops {
		if err := s.plan(&plans[i], &cmd.ops[i], cmd.time, rev); err != nil {
			s.mu.Unlock()
			if len(cmd.ops) > 1 {
				return nil, wrapOp(i, err)
			}
			return nil, err
		}
		anyWrite = anyWrite || plans[i].write
	}
	if anyWrite {
		s.commit(plans, cmd.time, rev)
	}
	s.mu.Unlock()
	if anyWrite {
		s.hub.notify()
	}
	if mode == resultNone {
		cmd.ops = nil
		return nil, nil
	}
	out := make([]api.Object, len(plans))
	for i := range plans {
		if mode == resultShared {
			out[i] = plans[i].result
		} else {
			out[i] = clone(plans[i].result)
		}
	}
	// The command's objects are now owned by the store.
	cmd.ops = nil
	return out, nil
}

func wrapOp(i int, err error) error {
	return &opError{i: i, err: err}
}

type opError struct {
	i   int
	err error
}

func (e *opError) Error() string { return "txn op " + strconv.Itoa(e.i) + ": " + e.err.Error() }
func (e *opError) Unwrap() error { return e.err }

func (s *Store) plan(p *planned, op *cmdOp, now, rev int64) error {
	ki, err := s.kind(op.kind)
	if err != nil {
		return err
	}
	p.ki = ki
	p.key = key(op.kind, op.ns, op.name)
	if rec, ok := s.lookupLocked(p.key); ok {
		p.cur, p.rec = rec.latest(), rec
	}
	what := func() string { return op.kind + " " + nsName(op.ns, op.name) }
	if op.typ != store.OpCreate && p.cur == nil {
		if op.typ == store.OpCheck {
			return store.Errorf(store.ErrConflict, "check %s: does not exist", what())
		}
		return store.Errorf(store.ErrNotFound, "%s", what())
	}
	var curMeta *api.ObjectMeta
	if p.cur != nil {
		curMeta = p.cur.GetMetadata()
		// An object handed over is written into; one that is (or shares
		// its metadata with) the stored object, a shared result or an
		// event's object passed back, would change the store's state in
		// place. Catch that misuse rather than corrupt the history.
		if op.handedOver && op.obj != nil && (op.obj == p.cur || op.obj.GetMetadata() == curMeta) {
			return store.Errorf(store.ErrInvalid, "%s: the object handed over (store.Consume) is the store's own, a shared result or event object: write a copy", what())
		}
	}
	precondition := func(rv int64, uid string) error {
		if rv != 0 && rv != curMeta.GetResourceVersion() {
			return store.Errorf(store.ErrConflict, "%s: resourceVersion %d, stored %d", what(), rv, curMeta.GetResourceVersion())
		}
		if uid != "" && uid != curMeta.GetUid() {
			return store.Errorf(store.ErrConflict, "%s: uid %s, stored %s", what(), uid, curMeta.GetUid())
		}
		return nil
	}
	switch op.typ {
	case store.OpCreate:
		if p.cur != nil {
			return store.Errorf(store.ErrAlreadyExists, "%s", what())
		}
		if op.obj == nil {
			return store.Errorf(store.ErrInvalid, "create %s: no object", what())
		}
		m := api.Meta(op.obj)
		if m.GetUid() == "" {
			return store.Errorf(store.ErrInvalid, "create %s: command has no uid", what())
		}
		m.Name, m.Namespace = op.name, op.ns
		m.CreationTimestamp = ts(now)
		m.DeletionTimestamp = nil
		m.DeletionGracePeriodSeconds = 0
		m.ResourceVersion = rev
		m.Generation = 1
		p.next, p.typ, p.write, p.result = op.obj, store.EventAdded, true, op.obj
	case store.OpUpdate:
		if op.obj == nil {
			return store.Errorf(store.ErrInvalid, "update %s: no object", what())
		}
		m := api.Meta(op.obj)
		if err := precondition(m.GetResourceVersion(), m.GetUid()); err != nil {
			return err
		}
		next := op.obj
		nm := next.ProtoReflect()
		if ki.statusField != nil {
			cm := p.cur.ProtoReflect()
			if cm.Has(ki.statusField) {
				nm.Set(ki.statusField, cm.Get(ki.statusField))
			} else {
				nm.Clear(ki.statusField)
			}
		}
		m.Name, m.Namespace = op.name, op.ns
		m.Uid = curMeta.GetUid()
		m.CreationTimestamp = curMeta.GetCreationTimestamp()
		m.DeletionTimestamp = curMeta.GetDeletionTimestamp()
		m.DeletionGracePeriodSeconds = curMeta.GetDeletionGracePeriodSeconds()
		m.Generation = curMeta.GetGeneration()
		if specChanged(ki, p.cur, next) {
			m.Generation++
		}
		m.ResourceVersion = curMeta.GetResourceVersion()
		if fastclone.Equal(next, p.cur) {
			p.result = p.cur // nothing changed: not a write
			return nil
		}
		m.ResourceVersion = rev
		p.next, p.typ, p.write, p.result = next, store.EventModified, true, next
		if m.DeletionTimestamp != nil && len(m.Finalizers) == 0 {
			p.next, p.typ = nil, store.EventDeleted
		}
	case store.OpUpdateStatus:
		if op.obj == nil {
			return store.Errorf(store.ErrInvalid, "update status %s: no object", what())
		}
		in := op.obj.GetMetadata()
		if err := precondition(in.GetResourceVersion(), in.GetUid()); err != nil {
			return err
		}
		src, cm := op.obj.ProtoReflect(), p.cur.ProtoReflect()
		if src.Has(ki.statusField) == cm.Has(ki.statusField) &&
			fastclone.Equal(src.Get(ki.statusField).Message().Interface(), cm.Get(ki.statusField).Message().Interface()) {
			p.result = p.cur // nothing changed: not a write
			return nil
		}
		next := shallowWithMeta(ki, p.cur, rev)
		nm := next.ProtoReflect()
		if src.Has(ki.statusField) {
			nm.Set(ki.statusField, src.Get(ki.statusField))
		} else {
			nm.Clear(ki.statusField)
		}
		p.next, p.typ, p.write, p.result = next, store.EventModified, true, next
	case store.OpDelete:
		if err := precondition(op.rv, op.uid); err != nil {
			return err
		}
		fin := curMeta.GetFinalizers()
		add := ""
		switch op.policy {
		case store.PropagationForeground:
			add = store.FinalizerForeground
		case store.PropagationOrphan:
			add = store.FinalizerOrphan
		}
		if add != "" && !slices.Contains(fin, add) {
			fin = append(slices.Clone(fin), add)
		}
		if len(fin) == 0 {
			next := shallowWithMeta(ki, p.cur, rev)
			p.next, p.typ, p.write, p.result = nil, store.EventDeleted, true, next
			return nil
		}
		if curMeta.GetDeletionTimestamp() != nil && len(fin) == len(curMeta.GetFinalizers()) {
			p.result = p.cur // already being deleted: nothing to write
			return nil
		}
		next := shallowWithMeta(ki, p.cur, rev)
		m := next.GetMetadata()
		m.Finalizers = slices.Clone(fin)
		if m.DeletionTimestamp == nil {
			m.DeletionTimestamp = ts(now)
		}
		p.next, p.typ, p.write, p.result = next, store.EventModified, true, next
	case store.OpCheck:
		if err := precondition(op.rv, ""); err != nil {
			return err
		}
		p.result = p.cur
	default:
		return store.Errorf(store.ErrInvalid, "unknown op type %d", op.typ)
	}
	return nil
}

func ts(unixNano int64) *timestamppb.Timestamp {
	return &timestamppb.Timestamp{Seconds: unixNano / 1e9, Nanos: int32(unixNano % 1e9)}
}

// shallowWithMeta returns a new object sharing every field of obj but
// metadata, which is copied, with resourceVersion rev.
func shallowWithMeta(ki *kindInfo, obj api.Object, rev int64) api.Object {
	src := obj.ProtoReflect()
	dst := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd != ki.metaField {
			dst.Set(fd, v)
		}
		return true
	})
	m := fastclone.Clone(obj.GetMetadata())
	m.ResourceVersion = rev
	dst.Set(ki.metaField, protoreflect.ValueOfMessage(m.ProtoReflect()))
	return dst.Interface().(api.Object)
}

func specChanged(ki *kindInfo, a, b api.Object) bool {
	am, bm := a.ProtoReflect(), b.ProtoReflect()
	for _, fd := range ki.specFields {
		if am.Has(fd) != bm.Has(fd) {
			if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
				// An unset message and an empty one are the same spec.
				if proto.Size(am.Get(fd).Message().Interface()) == 0 && proto.Size(bm.Get(fd).Message().Interface()) == 0 {
					continue
				}
			}
			return true
		}
		if !am.Has(fd) {
			continue
		}
		if fd.Message() != nil && !fd.IsList() && !fd.IsMap() {
			if !fastclone.Equal(am.Get(fd).Message().Interface(), bm.Get(fd).Message().Interface()) {
				return true
			}
		} else if !am.Get(fd).Equal(bm.Get(fd)) {
			return true
		}
	}
	return false
}

// commit writes planned changes at rev. Called with s.mu held.
func (s *Store) commit(plans []planned, now, rev int64) {
	s.rev = rev
	for i := range plans {
		p := &plans[i]
		if !p.write {
			continue
		}
		v := &version{rev: rev, obj: p.next}
		rec, ok := p.rec, p.rec != nil
		if !ok {
			// A transaction's earlier op may have made the record.
			rec, ok = s.lookupLocked(p.key)
		}
		if ok {
			v.prev.Store(rec.head.Load())
			rec.head.Store(v)
		} else {
			rec = newRecord(p.key, v)
			s.tree.ReplaceOrInsert(rec)
		}
		s.reindex(p.ki.Kind, rec, p.cur, p.next)
		ev := &event{rev: rev, time: now, typ: p.typ, kind: p.ki.Kind, ns: p.cur0ns(), key: p.key, obj: p.next, prev: p.cur, rec: rec, ver: v}
		if p.typ == store.EventDeleted {
			ev.obj = p.result
			if p.result.GetMetadata().GetResourceVersion() != rev {
				ev.obj = shallowWithMeta(p.ki, p.result, rev)
			}
		}
		s.history.push(ev)
	}
	s.trim(now)
}

func (p *planned) cur0ns() string {
	if p.next != nil {
		return p.next.GetMetadata().GetNamespace()
	}
	return p.cur.GetMetadata().GetNamespace()
}

// trim drops history beyond the configured size and age, advancing the
// compacted revision. Called with s.mu held.
func (s *Store) trim(now int64) {
	target := s.compacted
	if n := s.history.len(); n > s.cfg.historySize {
		target = max(target, s.history.at(n-s.cfg.historySize-1).rev)
	}
	if s.cfg.historyAge > 0 {
		cutoff := now - s.cfg.historyAge.Nanoseconds()
		for i := 0; i < s.history.len(); i++ {
			ev := s.history.at(i)
			if ev.time >= cutoff {
				break
			}
			target = max(target, ev.rev)
		}
	}
	if target > s.compacted {
		// Never compact away a revision that still has events at a later
		// index (transactions share a revision): compact whole revisions.
		s.compacted = target
	}
	s.dropHistory()
}

// dropHistory removes events at and before the compacted revision that the
// watch dispatcher has already delivered, and prunes their records.
func (s *Store) dropHistory() {
	limit := s.compacted
	if s.hub.active.Load() {
		limit = min(limit, s.hub.dispatched.Load())
	}
	for s.history.len() > 0 {
		ev := s.history.at(0)
		if ev.rev > limit {
			return
		}
		s.history.pop()
		// ev.ver is at or before the compacted revision, so no read needs
		// anything older; a deletion that is still the newest version
		// needs no record at all.
		ev.ver.prev.Store(nil)
		if ev.ver.obj == nil && ev.rec.head.Load() == ev.ver {
			if cur, ok := s.tree.Get(ev.rec); ok && cur == ev.rec {
				s.tree.Delete(ev.rec)
			}
		}
	}
}

func (s *Store) applyCompact(cmd *Command) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	target := cmd.compact
	if cmd.compactBefore != 0 {
		for i := 0; i < s.history.len(); i++ {
			ev := s.history.at(i)
			if ev.time >= cmd.compactBefore {
				break
			}
			target = max(target, ev.rev)
		}
	}
	if target > s.rev {
		return store.Errorf(store.ErrInvalid, "compact to revision %d: current revision is %d", target, s.rev)
	}
	if target > s.compacted {
		s.compacted = target
	}
	s.dropHistory()
	return nil
}

// ring is a FIFO of events in revision order.
type ring struct {
	buf  []*event
	head int
}

func (r *ring) len() int        { return len(r.buf) - r.head }
func (r *ring) at(i int) *event { return r.buf[r.head+i] }
func (r *ring) push(ev *event)  { r.buf = append(r.buf, ev) }

func (r *ring) pop() {
	r.buf[r.head] = nil
	r.head++
	if r.head > 1024 && r.head > len(r.buf)/2 {
		n := copy(r.buf, r.buf[r.head:])
		clear(r.buf[n:])
		r.buf = r.buf[:n]
		r.head = 0
	}
}

// since returns up to max events with revision > rev, in order.
func (r *ring) since(rev int64, max int) []*event {
	live := r.buf[r.head:]
	lo, hi := 0, len(live)
	for lo < hi {
		m := (lo + hi) / 2
		if live[m].rev <= rev {
			lo = m + 1
		} else {
			hi = m
		}
	}
	end := len(live)
	if max > 0 && end-lo > max {
		end = lo + max
		// Keep events of one revision together.
		for end < len(live) && live[end].rev == live[end-1].rev {
			end++
		}
	}
	return slices.Clone(live[lo:end])
}
