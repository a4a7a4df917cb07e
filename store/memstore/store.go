package memstore

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/btree"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/internal/fastclone"
	"github.com/coxswain-io/coxswain/store"
)

var errClosed = store.Errorf(store.ErrUnavailable, "memstore closed")

// initialRevision is the revision of an empty store.
const initialRevision = 1

// Store is the in-memory store. The zero value is not usable; call New.
//
// Lock order: watchHub.mu, then Store.mu, then a watcher's mu. Nothing
// blocks (no channel send that can wait, no hook, no I/O) while Store.mu is
// held.
type Store struct {
	cfg   config
	reg   *api.Registry
	kinds sync.Map // kind name -> *kindInfo
	// byMessage caches kinds by message full name.
	byMessage sync.Map
	hooks     hooks
	closed    atomic.Bool

	mu        sync.RWMutex
	tree      *btree.BTreeG[*record]
	rev       int64
	compacted int64
	history   ring
	indexes   map[string][]*fieldIndex // kind -> its field indexes
	// probe is the search key for tree lookups made with mu held for
	// writing (readers allocate their own).
	probe record

	hub watchHub
}

var _ store.Store = (*Store)(nil)

// New returns an empty store at revision 1 (as etcd starts): the first
// write is revision 2, so a List of an empty store returns a revision a
// watch can start from (revision 0 in WatchOptions means "from now").
func New(opts ...Option) *Store {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.registry == nil {
		cfg.registry = api.NewBuiltinRegistry()
	}
	s := &Store{cfg: cfg, reg: cfg.registry, tree: newTree(), rev: initialRevision}
	s.indexes = s.newIndexes()
	s.hub.init(s)
	return s
}

func newTree() *btree.BTreeG[*record] {
	return btree.NewG(32, func(a, b *record) bool { return a.key < b.key })
}

// Registry returns the kinds this store serves.
func (s *Store) Registry() *api.Registry { return s.reg }

// kindInfo is a registered kind with what the store needs to know about its
// message cached.
type kindInfo struct {
	api.KindInfo
	desc        protoreflect.MessageDescriptor
	statusField protoreflect.FieldDescriptor
	metaField   protoreflect.FieldDescriptor
	// specFields are every field but metadata and status: a change to any
	// of them bumps generation.
	specFields []protoreflect.FieldDescriptor
	// statusGoName and metaGoName are the Go struct fields holding status
	// and metadata.
	statusGoName, metaGoName string
}

func (s *Store) kind(name string) (*kindInfo, error) {
	if ki, ok := s.kinds.Load(name); ok {
		return ki.(*kindInfo), nil
	}
	info, err := s.reg.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	desc := info.New().ProtoReflect().Descriptor()
	ki := &kindInfo{KindInfo: info, desc: desc, statusField: desc.Fields().ByName("status"), metaField: desc.Fields().ByName("metadata")}
	if ki.statusField != nil {
		ki.statusGoName = goFieldName(info.New(), ki.statusField)
	}
	if ki.metaField != nil {
		ki.metaGoName = goFieldName(info.New(), ki.metaField)
	}
	for i := 0; i < desc.Fields().Len(); i++ {
		fd := desc.Fields().Get(i)
		if fd != ki.statusField && fd != ki.metaField {
			ki.specFields = append(ki.specFields, fd)
		}
	}
	actual, _ := s.kinds.LoadOrStore(name, ki)
	return actual.(*kindInfo), nil
}

// goFieldName returns the name of the Go struct field of msg that holds fd,
// from the protobuf struct tags protoc-gen-go writes ("" if none does).
func goFieldName(msg api.Object, fd protoreflect.FieldDescriptor) string {
	t := reflect.TypeOf(msg)
	if t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return ""
	}
	t = t.Elem()
	num, name := strconv.Itoa(int(fd.Number())), "name="+string(fd.Name())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		parts := strings.Split(f.Tag.Get("protobuf"), ",")
		if len(parts) > 1 && parts[1] == num && slices.Contains(parts, name) {
			return f.Name
		}
	}
	return ""
}

func (s *Store) kindOfObject(obj api.Object) (*kindInfo, error) {
	name := obj.ProtoReflect().Descriptor().FullName()
	if ki, ok := s.byMessage.Load(name); ok {
		return ki.(*kindInfo), nil
	}
	info, err := s.reg.KindOf(obj)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	ki, err := s.kind(info.Kind)
	if err != nil {
		return nil, err
	}
	s.byMessage.Store(name, ki)
	return ki, nil
}

// key is the tree key: kind, namespace and name separated by NUL, so that a
// kind's objects sort by namespace, then name.
func key(kind, ns, name string) string { return kind + "\x00" + ns + "\x00" + name }

func prefix(kind, ns string) string {
	if ns == "" {
		return kind + "\x00"
	}
	return kind + "\x00" + ns + "\x00"
}

// version is one state of a key; obj nil is a deletion. Versions form a
// list from the newest back; prev is cut when compaction makes the older
// versions unreachable.
type version struct {
	rev  int64
	obj  api.Object
	prev atomic.Pointer[version]
}

// record is a key and its versions. The key never changes; head moves to
// each new version. Readers at a fixed revision walk back from head, so a
// lazily cloned tree is a consistent snapshot at its revision even while
// writers add versions.
type record struct {
	key  string
	head atomic.Pointer[version]
}

func newRecord(k string, v *version) *record {
	r := &record{key: k}
	r.head.Store(v)
	return r
}

func (r *record) latest() api.Object { return r.head.Load().obj }

// at returns the object visible at rev (nil if absent then).
func (r *record) at(rev int64) api.Object {
	for v := r.head.Load(); v != nil; v = v.prev.Load() {
		if v.rev <= rev {
			return v.obj
		}
	}
	return nil
}

// lookupLocked finds k's record; called with s.mu held for writing.
func (s *Store) lookupLocked(k string) (*record, bool) {
	s.probe.key = k
	rec, ok := s.tree.Get(&s.probe)
	s.probe.key = ""
	return rec, ok
}

func (s *Store) current(k string) (api.Object, *record) {
	rec, ok := s.tree.Get(&record{key: k})
	if !ok {
		return nil, nil
	}
	return rec.latest(), rec
}

func clone(obj api.Object) api.Object {
	if obj == nil {
		return nil
	}
	return fastclone.Clone(obj)
}

// Create stores a new object. It honours store.Consume (the object is
// kept, not copied) and store.SharedResult (the stored object is returned,
// not a copy).
func (s *Store) Create(ctx context.Context, obj api.Object, opts ...store.WriteOption) (api.Object, error) {
	return s.write1(ctx, OpCreate, store.CreateOp(obj), opts)
}

// Update replaces an object except its status. Options as for Create.
func (s *Store) Update(ctx context.Context, obj api.Object, opts ...store.WriteOption) (api.Object, error) {
	return s.write1(ctx, OpUpdate, store.UpdateOp(obj), opts)
}

// UpdateStatus replaces only an object's status. Options as for Create.
func (s *Store) UpdateStatus(ctx context.Context, obj api.Object, opts ...store.WriteOption) (api.Object, error) {
	return s.write1(ctx, OpUpdateStatus, store.UpdateStatusOp(obj), opts)
}

// Delete deletes an object, or marks it for deletion if it has finalizers.
func (s *Store) Delete(ctx context.Context, kind, namespace, name string, opts store.DeleteOptions) (api.Object, error) {
	return s.write1(ctx, OpDelete, store.DeleteOp(kind, namespace, name, opts), nil)
}

func (s *Store) write1(ctx context.Context, op Operation, o store.Op, opts []store.WriteOption) (api.Object, error) {
	kind := o.Kind
	if o.Object != nil && s.hooks.list.Load() != nil {
		if ki, err := s.kindOfObject(o.Object); err == nil {
			kind = ki.Kind
		}
	}
	if err := s.before(ctx, op, kind); err != nil {
		return nil, err
	}
	wo := store.ApplyWriteOptions(opts)
	cmd, err := s.prepare(ctx, wo.Consume, o)
	if err != nil {
		return nil, err
	}
	mode := resultCopy
	if wo.SharedResult {
		mode = resultShared
	}
	res, err := s.apply(cmd, mode)
	if err != nil {
		return nil, err
	}
	return res[0], nil
}

// Txn applies ops atomically at one revision. An object may be written by
// at most one op of a transaction; Check ops see the state before it.
func (s *Store) Txn(ctx context.Context, ops ...store.Op) ([]api.Object, error) {
	if err := s.before(ctx, OpTxn, ""); err != nil {
		return nil, err
	}
	cmd, err := s.Prepare(ctx, ops...)
	if err != nil {
		return nil, err
	}
	return s.Apply(cmd)
}

// Get returns an object.
func (s *Store) Get(ctx context.Context, kind, namespace, name string, _ ...store.ReadOption) (api.Object, error) {
	if err := s.before(ctx, OpGet, kind); err != nil {
		return nil, err
	}
	if _, err := s.kind(kind); err != nil {
		return nil, err
	}
	s.mu.RLock()
	obj, _ := s.current(key(kind, namespace, name))
	s.mu.RUnlock()
	if obj == nil {
		return nil, store.Errorf(store.ErrNotFound, "%s %s", kind, nsName(namespace, name))
	}
	return clone(obj), nil
}

func nsName(ns, name string) string {
	if ns == "" {
		return name
	}
	return ns + "/" + name
}

// Revision returns the current revision.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.rev, nil
}

// CompactedRevision returns the revision at and before which history is
// gone: watches and paged lists from before it fail with store.ErrCompacted.
func (s *Store) CompactedRevision() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.compacted
}

// Compact discards history at and before revision. Compacting to a revision
// already compacted is a no-op; to a future revision, store.ErrInvalid.
func (s *Store) Compact(ctx context.Context, revision int64) error {
	if err := s.before(ctx, OpCompact, ""); err != nil {
		return err
	}
	_, err := s.Apply(NewCompactCommand(revision))
	return err
}

// CompactBefore discards history written before t (see WithClock).
func (s *Store) CompactBefore(ctx context.Context, t int64) error {
	if err := s.before(ctx, OpCompact, ""); err != nil {
		return err
	}
	_, err := s.Apply(NewCompactBeforeCommand(t))
	return err
}

// Close cancels every watch with store.ErrUnavailable and makes later
// calls fail with it.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.hub.closeAll(errClosed)
	return nil
}
