package store

import (
	"context"

	"github.com/coxswain-io/coxswain/api"
)

// Store is the watchable object store.
//
// Objects are addressed by kind (a name registered in the store's
// api.Registry), namespace ("" for cluster-scoped kinds) and name. Every
// successful write bumps one global revision; an object's
// metadata.resourceVersion is the revision of its last write. The store sets
// uid, creationTimestamp, resourceVersion and generation (bumped when spec
// changes, not when only status or metadata change).
//
// Objects passed in are never retained or modified, and objects returned
// belong to the caller, unless a write's options say otherwise (Consume,
// SharedResult). All methods are safe for concurrent use and honour ctx.
type Store interface {
	// Create stores a new object. It fails with ErrAlreadyExists if an object
	// with the same key exists, and ErrInvalid for a missing name (unless
	// metadata.generateName is set) or a namespace on a cluster-scoped kind.
	// Status is stored as given.
	Create(ctx context.Context, obj api.Object, opts ...WriteOption) (api.Object, error)

	// Get returns the object, or ErrNotFound.
	Get(ctx context.Context, kind, namespace, name string, opts ...ReadOption) (api.Object, error)

	// List returns the objects of kind matching opts, sorted by namespace and
	// name, with the revision they were read at.
	List(ctx context.Context, kind string, opts ListOptions) (*ListResult, error)

	// Update replaces spec, metadata (labels, annotations, owners, finalizers)
	// and every other non-status field. If metadata.resourceVersion is non-zero
	// it must equal the stored one, or ErrConflict. Status is kept as stored.
	// Removing the last finalizer of an object being deleted removes it.
	// An update that changes nothing is not a write: it returns the stored
	// object, bumps no revision and sends no event.
	Update(ctx context.Context, obj api.Object, opts ...WriteOption) (api.Object, error)

	// UpdateStatus replaces only status, with the same precondition as
	// Update; a status equal to the stored one is not a write either.
	UpdateStatus(ctx context.Context, obj api.Object, opts ...WriteOption) (api.Object, error)

	// Delete removes the object. If it has finalizers (or opts ask for
	// foreground/orphan propagation, which add one) it is only marked: its
	// deletionTimestamp is set and it goes when its last finalizer is removed.
	// Returns the object's last state.
	Delete(ctx context.Context, kind, namespace, name string, opts DeleteOptions) (api.Object, error)

	// Txn applies every op atomically at one revision, or none of them. It
	// returns the results in op order.
	Txn(ctx context.Context, ops ...Op) ([]api.Object, error)

	// Watch streams every change to objects of kind matching opts after
	// opts.Revision (0: from now). See Watch for delivery guarantees.
	Watch(ctx context.Context, kind string, opts WatchOptions) (Watch, error)

	// Compact discards history at and before revision; later watches from
	// revisions before it fail with ErrCompacted.
	Compact(ctx context.Context, revision int64) error

	// Revision returns the store's current revision.
	Revision(ctx context.Context) (int64, error)

	// Registry returns the kinds this store serves.
	Registry() *api.Registry
}

// ReadOption tunes a read.
type ReadOption func(*ReadOptions)

// ReadOptions are the options of a read.
type ReadOptions struct {
	// Linearizable asks a replicated backend to serve the read only after
	// confirming it reflects every write acknowledged before it started.
	// Local backends are always linearizable.
	Linearizable bool
}

// Linearizable makes a read reflect every write acknowledged before it.
func Linearizable() ReadOption { return func(o *ReadOptions) { o.Linearizable = true } }

// ApplyReadOptions folds opts into a ReadOptions.
func ApplyReadOptions(opts []ReadOption) ReadOptions {
	var o ReadOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// WriteOption tunes a Create, Update or UpdateStatus.
type WriteOption func(*WriteOptions)

// WriteOptions are the options of a write. Both let a backend skip a deep
// copy of the object (the two copies a write otherwise makes, in and out,
// are most of its cost in memory); a backend that copies anyway may ignore
// them, so they change what a caller may do, never what it sees.
type WriteOptions struct {
	// Consume hands the object passed in over to the store: the store may
	// keep it (and modify it) rather than copy it, so the caller must not
	// read or modify it, or anything it points to, after the call, whether
	// the write succeeds or fails. For objects made only to be written: a
	// decoded request body, a template copy, the result of a Get.
	Consume bool
	// SharedResult lets the store return its own stored object rather than
	// a copy: the result is then read-only and may be shared with every
	// watcher and reader, like a watch event's objects. For callers that
	// only read the result (its resourceVersion, or to encode it).
	SharedResult bool
}

// Consume hands the object written over to the store (WriteOptions.Consume).
func Consume() WriteOption { return func(o *WriteOptions) { o.Consume = true } }

// SharedResult lets the store return a shared, read-only result
// (WriteOptions.SharedResult).
func SharedResult() WriteOption { return func(o *WriteOptions) { o.SharedResult = true } }

// ApplyWriteOptions folds opts into a WriteOptions.
func ApplyWriteOptions(opts []WriteOption) WriteOptions {
	var o WriteOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

// ListOptions filter and page a List.
type ListOptions struct {
	// Namespace limits the list to one namespace; "" lists all.
	Namespace string
	// LabelSelector in Kubernetes syntax ("app=web,tier in (a,b),!legacy").
	LabelSelector string
	// FieldSelector over fields by JSON path ("spec.nodeName=n1,status.phase!=Failed").
	FieldSelector string
	// Limit caps the items returned; 0 means no limit.
	Limit int64
	// Continue resumes a paged list from ListResult.Continue; the page is
	// read at the same revision as the first page (ErrCompacted if that
	// revision has been compacted away).
	Continue string
	// Linearizable as in ReadOptions.
	Linearizable bool
}

// ListResult is a page of objects and the revision it was read at.
type ListResult struct {
	Items []api.Object
	// Revision is the store revision the list reflects; watch from it to see
	// every later change with no gap.
	Revision int64
	// Continue is non-empty when more items remain.
	Continue string
}

// Propagation policies for Delete.
const (
	// PropagationBackground deletes the object now; the garbage collector
	// deletes its dependents afterwards.
	PropagationBackground = "Background"
	// PropagationForeground keeps the object (with finalizer
	// FinalizerForeground) until the dependents with blockOwnerDeletion are gone.
	PropagationForeground = "Foreground"
	// PropagationOrphan removes the owner reference from dependents
	// (finalizer FinalizerOrphan) before the object goes.
	PropagationOrphan = "Orphan"
)

// Finalizers the store adds for propagation policies; the garbage collector
// removes them.
const (
	FinalizerForeground = "foregroundDeletion"
	FinalizerOrphan     = "orphan"
)

// DeleteOptions are the preconditions and policy of a Delete.
type DeleteOptions struct {
	// ResourceVersion, if non-zero, must equal the stored one.
	ResourceVersion int64
	// UID, if set, must equal the stored one.
	UID string
	// PropagationPolicy is Background (default), Foreground or Orphan.
	PropagationPolicy string
}

// OpType is the kind of write in a transaction.
type OpType int

// Transaction operations.
const (
	OpCreate OpType = iota + 1
	OpUpdate
	OpUpdateStatus
	OpDelete
	// OpCheck writes nothing: it fails the transaction with ErrConflict
	// unless the object exists at the given resourceVersion (0: exists at all).
	OpCheck
)

// Op is one operation of a transaction.
type Op struct {
	Type OpType
	// Object for Create, Update and UpdateStatus.
	Object api.Object
	// Kind, Namespace and Name address Delete and Check.
	Kind, Namespace, Name string
	// ResourceVersion is the precondition of Delete and Check.
	ResourceVersion int64
	// Delete holds the options of a Delete.
	Delete DeleteOptions
}

// CreateOp returns a transaction op that creates obj.
func CreateOp(obj api.Object) Op { return Op{Type: OpCreate, Object: obj} }

// UpdateOp returns a transaction op that updates obj.
func UpdateOp(obj api.Object) Op { return Op{Type: OpUpdate, Object: obj} }

// UpdateStatusOp returns a transaction op that updates obj's status.
func UpdateStatusOp(obj api.Object) Op { return Op{Type: OpUpdateStatus, Object: obj} }

// DeleteOp returns a transaction op that deletes an object.
func DeleteOp(kind, namespace, name string, opts DeleteOptions) Op {
	return Op{Type: OpDelete, Kind: kind, Namespace: namespace, Name: name, Delete: opts}
}

// CheckOp returns a transaction op asserting an object is at resourceVersion.
func CheckOp(kind, namespace, name string, resourceVersion int64) Op {
	return Op{Type: OpCheck, Kind: kind, Namespace: namespace, Name: name, ResourceVersion: resourceVersion}
}

// WatchOptions filter a Watch.
type WatchOptions struct {
	// Namespace limits events to one namespace; "" watches all.
	Namespace string
	// Revision: deliver changes after this revision; 0 means from now.
	// A revision older than the retained history fails with ErrCompacted.
	Revision int64
	// LabelSelector and FieldSelector as in ListOptions. An object that stops
	// matching arrives as a Deleted event; one that starts matching as Added.
	LabelSelector string
	FieldSelector string
	// Bookmarks asks for periodic EventBookmark events carrying the current
	// revision, so a quiet watcher can resume close to the present.
	Bookmarks bool
}

// EventType is the kind of change a watch event reports.
type EventType int

// Watch event types.
const (
	EventAdded EventType = iota + 1
	EventModified
	EventDeleted
	// EventBookmark carries only a revision: everything up to it has been
	// delivered.
	EventBookmark
)

// String returns ADDED, MODIFIED, DELETED or BOOKMARK.
func (t EventType) String() string {
	switch t {
	case EventAdded:
		return "ADDED"
	case EventModified:
		return "MODIFIED"
	case EventDeleted:
		return "DELETED"
	case EventBookmark:
		return "BOOKMARK"
	}
	return "UNKNOWN"
}

// Event is one change seen by a watch.
//
// An event's Object and PrevObject are shared and read-only: a backend may
// hand the same object to every watcher that receives the event (memstore
// hands out its stored states, with no copy per delivery), so a consumer
// must not modify them; clone one (api.Clone) to change it.
type Event struct {
	Type EventType
	// Object is the new state; for EventDeleted the last state before
	// deletion (or the last state that matched, for an object leaving the
	// filter), with resourceVersion set to the event's revision; nil for
	// bookmarks.
	Object api.Object
	// PrevObject is the previous state for Modified and Deleted, when known.
	PrevObject api.Object
	// Revision is the revision of the write (or of the bookmark).
	Revision int64
}

// Watch is a stream of events. Events arrive in revision order with no gap
// and no duplicate. The channel returned by Events is closed when the
// context passed to Store.Watch ends, when Stop is called, or when the store
// cancels the watch; Err then says why (nil after Stop or context end,
// ErrTooSlow for a watcher that fell behind its buffer, ErrUnavailable when
// the store shut down).
type Watch interface {
	Events() <-chan Event
	Stop()
	Err() error
}
