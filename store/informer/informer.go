package informer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/store"
)

// Names of the built-in indexes.
const (
	// IndexNamespace indexes objects by metadata.namespace ("" for
	// cluster-scoped kinds).
	IndexNamespace = "namespace"
	// IndexLabels indexes objects by each label as "key=value".
	IndexLabels = "labels"
	// IndexOwner indexes objects by the uid of their controller owner
	// reference; objects without one are not in this index.
	IndexOwner = "owner"
)

// ErrUnknownIndex is returned (wrapped) by ByIndex for an index that was not
// added.
var ErrUnknownIndex = errors.New("unknown index")

// ErrAlreadyStarted is returned by Start when the informer was started before.
var ErrAlreadyStarted = errors.New("informer already started")

// IndexFunc returns the index values of obj. It must be a pure function of
// obj and must not modify it.
type IndexFunc func(obj api.Object) []string

// Key returns the cache key of an object: "namespace/name", or "name" for
// cluster-scoped objects.
func Key(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}

// KeyOf returns the cache key of obj.
func KeyOf(obj api.Object) string {
	m := obj.GetMetadata()
	return Key(m.GetNamespace(), m.GetName())
}

// Option configures an Informer.
type Option func(*options)

type options struct {
	namespace     string
	labelSelector string
	fieldSelector string
	resync        time.Duration
	logger        *slog.Logger
	indexers      map[string]IndexFunc
}

// WithNamespace limits the informer to one namespace.
func WithNamespace(ns string) Option { return func(o *options) { o.namespace = ns } }

// WithLabelSelector limits the informer to objects matching a label selector
// (Kubernetes syntax), filtered by the store.
func WithLabelSelector(sel string) Option { return func(o *options) { o.labelSelector = sel } }

// WithFieldSelector limits the informer to objects matching a field selector
// such as "spec.nodeName=node-1", filtered by the store.
func WithFieldSelector(sel string) Option { return func(o *options) { o.fieldSelector = sel } }

// WithResyncPeriod makes the informer deliver OnUpdate(obj, obj) for every
// cached object to every handler each period, so level-triggered consumers
// revisit everything even without changes. Zero (default) disables resync.
func WithResyncPeriod(d time.Duration) Option { return func(o *options) { o.resync = d } }

// WithLogger sets the logger; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithIndex adds a user-defined index at construction (see AddIndex).
func WithIndex(name string, fn IndexFunc) Option {
	return func(o *options) {
		if o.indexers == nil {
			o.indexers = map[string]IndexFunc{}
		}
		o.indexers[name] = fn
	}
}

// Informer is a list+watch cache of one kind. Create it with New, add
// handlers and indexes, and run it with Start. All methods are safe for
// concurrent use.
//
// Lock order: Informer.mu, then a Registration's mu. Handlers are never
// called with either held.
type Informer struct {
	s    store.Store
	kind string
	opts options
	log  *slog.Logger

	started  atomic.Bool
	syncedCh chan struct{}

	mu       sync.RWMutex
	items    map[string]api.Object
	indexers map[string]IndexFunc
	indices  map[string]map[string]map[string]struct{} // index -> value -> keys
	regs     []*Registration
	revision int64
	revCh    chan struct{} // closed when revision advances; nil when no one waits
	synced   bool
	running  bool // between Start and its return: registrations get goroutines
	stopped  bool
}

// New returns an informer for kind, which must be registered in s.
func New(s store.Store, kind string, opts ...Option) (*Informer, error) {
	if _, err := s.Registry().Lookup(kind); err != nil {
		return nil, fmt.Errorf("informer: %w", err)
	}
	var o options
	for _, f := range opts {
		f(&o)
	}
	if o.logger == nil {
		o.logger = slog.Default()
	}
	inf := &Informer{
		s:        s,
		kind:     kind,
		opts:     o,
		log:      o.logger.With("informer", kind),
		syncedCh: make(chan struct{}),
		items:    map[string]api.Object{},
		indexers: map[string]IndexFunc{
			IndexNamespace: namespaceIndex,
			IndexLabels:    labelIndex,
			IndexOwner:     ownerIndex,
		},
		indices: map[string]map[string]map[string]struct{}{},
	}
	for name, fn := range o.indexers {
		if err := inf.AddIndex(name, fn); err != nil {
			return nil, err
		}
	}
	for name := range inf.indexers {
		if inf.indices[name] == nil {
			inf.indices[name] = map[string]map[string]struct{}{}
		}
	}
	return inf, nil
}

func namespaceIndex(obj api.Object) []string {
	return []string{obj.GetMetadata().GetNamespace()}
}

func labelIndex(obj api.Object) []string {
	ls := obj.GetMetadata().GetLabels()
	if len(ls) == 0 {
		return nil
	}
	out := make([]string, 0, len(ls))
	for k, v := range ls {
		out = append(out, k+"="+v)
	}
	return out
}

func ownerIndex(obj api.Object) []string {
	if uid := ownerUID(obj); uid != "" {
		return []string{uid}
	}
	return nil
}

// Kind returns the kind the informer watches.
func (i *Informer) Kind() string { return i.kind }

// Store returns the store the informer reads.
func (i *Informer) Store() store.Store { return i.s }

// AddIndex adds a user-defined index. It may be called before or after
// Start; existing objects are indexed at once. Names must be unique.
func (i *Informer) AddIndex(name string, fn IndexFunc) error {
	if name == "" || fn == nil {
		return fmt.Errorf("informer %s: add index: name and func are required", i.kind)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if _, ok := i.indexers[name]; ok {
		return fmt.Errorf("informer %s: index %q already exists", i.kind, name)
	}
	i.indexers[name] = fn
	idx := map[string]map[string]struct{}{}
	i.indices[name] = idx
	for key, obj := range i.items {
		for _, v := range fn(obj) {
			addToIndex(idx, v, key)
		}
	}
	return nil
}

func addToIndex(idx map[string]map[string]struct{}, value, key string) {
	set := idx[value]
	if set == nil {
		set = map[string]struct{}{}
		idx[value] = set
	}
	set[key] = struct{}{}
}

func removeFromIndex(idx map[string]map[string]struct{}, value, key string) {
	set := idx[value]
	delete(set, key)
	if len(set) == 0 {
		delete(idx, value)
	}
}

// updateIndicesLocked moves key from old's index values to new's; either
// may be nil. Built-in indexes skip recomputing when the fields they read
// are unchanged, so a status-only update costs no allocation here.
func (i *Informer) updateIndicesLocked(key string, old, new api.Object) {
	for name, fn := range i.indexers {
		if old != nil && new != nil {
			if same := builtinSame[name]; same != nil && same(old, new) {
				continue
			}
		}
		idx := i.indices[name]
		var oldVals, newVals []string
		if old != nil {
			oldVals = fn(old)
		}
		if new != nil {
			newVals = fn(new)
		}
		if slices.Equal(oldVals, newVals) {
			continue
		}
		for _, v := range oldVals {
			if !slices.Contains(newVals, v) {
				removeFromIndex(idx, v, key)
			}
		}
		for _, v := range newVals {
			addToIndex(idx, v, key)
		}
	}
}

// builtinSame reports, per built-in index, whether two states of an object
// have the same index values without computing them.
var builtinSame = map[string]func(old, new api.Object) bool{
	IndexNamespace: func(old, new api.Object) bool {
		return old.GetMetadata().GetNamespace() == new.GetMetadata().GetNamespace()
	},
	IndexLabels: func(old, new api.Object) bool {
		return maps.Equal(old.GetMetadata().GetLabels(), new.GetMetadata().GetLabels())
	},
	IndexOwner: func(old, new api.Object) bool {
		return ownerUID(old) == ownerUID(new)
	},
}

func ownerUID(obj api.Object) string {
	if ref := api.ControllerOf(obj); ref != nil {
		return ref.GetUid()
	}
	return ""
}

// Get returns the cached object, which the caller must not modify.
func (i *Informer) Get(namespace, name string) (api.Object, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	obj, ok := i.items[Key(namespace, name)]
	return obj, ok
}

// GetByKey returns the cached object with the given Key.
func (i *Informer) GetByKey(key string) (api.Object, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	obj, ok := i.items[key]
	return obj, ok
}

// Len returns the number of cached objects.
func (i *Informer) Len() int {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return len(i.items)
}

// List returns every cached object in no particular order. The objects must
// not be modified.
func (i *Informer) List() []api.Object {
	i.mu.RLock()
	defer i.mu.RUnlock()
	out := make([]api.Object, 0, len(i.items))
	for _, obj := range i.items {
		out = append(out, obj)
	}
	return out
}

// ByIndex returns the cached objects whose index values include value, in
// no particular order, in O(matching objects). The objects must not be
// modified.
func (i *Informer) ByIndex(index, value string) ([]api.Object, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	idx, ok := i.indices[index]
	if !ok {
		return nil, fmt.Errorf("informer %s: %w %q", i.kind, ErrUnknownIndex, index)
	}
	set := idx[value]
	out := make([]api.Object, 0, len(set))
	for key := range set {
		out = append(out, i.items[key])
	}
	return out, nil
}

// IndexValues returns the values present in an index, in no particular
// order.
func (i *Informer) IndexValues(index string) ([]string, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	idx, ok := i.indices[index]
	if !ok {
		return nil, fmt.Errorf("informer %s: %w %q", i.kind, ErrUnknownIndex, index)
	}
	out := make([]string, 0, len(idx))
	for v := range idx {
		out = append(out, v)
	}
	return out, nil
}

// Select returns the cached objects in namespace ("" for all namespaces)
// whose labels match sel, in no particular order. When sel requires an
// exact label value it scans only the objects with that label; otherwise
// the namespace's objects. The objects must not be modified.
func (i *Informer) Select(namespace string, sel labels.Selector) []api.Object {
	if labels.IsNothing(sel) {
		return nil
	}
	i.mu.RLock()
	defer i.mu.RUnlock()
	// Pick the smallest candidate set among the namespace and exact labels.
	var cand map[string]struct{}
	all := true
	if namespace != "" {
		cand, all = i.indices[IndexNamespace][namespace], false
	}
	if reqs, ok := sel.(labels.Requirements); ok {
		for _, r := range reqs {
			v, exact := reqs.RequiresExactMatch(r.Key())
			if !exact {
				continue
			}
			set := i.indices[IndexLabels][r.Key()+"="+v]
			if all || len(set) < len(cand) {
				cand, all = set, false
			}
		}
	}
	var out []api.Object
	match := func(obj api.Object) {
		m := obj.GetMetadata()
		if namespace != "" && m.GetNamespace() != namespace {
			return
		}
		if sel.Matches(labels.Set(m.GetLabels())) {
			out = append(out, obj)
		}
	}
	if all {
		for _, obj := range i.items {
			match(obj)
		}
		return out
	}
	for key := range cand {
		match(i.items[key])
	}
	return out
}

// Revision returns the store revision the cache reflects.
func (i *Informer) Revision() int64 {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.revision
}

// WaitForRevision blocks until the cache (not necessarily every handler)
// reflects store revision rev, for example the resourceVersion of a write
// the caller just made, or until ctx ends. Writes to other kinds reach this
// informer only through the store's periodic bookmarks, so waiting for
// such a revision can take up to a bookmark interval.
func (i *Informer) WaitForRevision(ctx context.Context, rev int64) error {
	for {
		i.mu.Lock()
		if i.revision >= rev {
			i.mu.Unlock()
			return nil
		}
		if i.revCh == nil {
			i.revCh = make(chan struct{})
		}
		ch := i.revCh
		i.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("informer %s: wait for revision %d: %w", i.kind, rev, ctx.Err())
		}
	}
}

// advanceLocked records that the cache reflects rev and wakes waiters.
func (i *Informer) advanceLocked(rev int64) {
	if rev <= i.revision {
		return
	}
	i.revision = rev
	if i.revCh != nil {
		close(i.revCh)
		i.revCh = nil
	}
}

// HasSynced reports whether the first list has been loaded into the cache.
func (i *Informer) HasSynced() bool {
	select {
	case <-i.syncedCh:
		return true
	default:
		return false
	}
}

// Synced returns a channel closed once the first list is in the cache.
func (i *Informer) Synced() <-chan struct{} { return i.syncedCh }

// WaitForSync blocks until the first list is in the cache or ctx ends.
func (i *Informer) WaitForSync(ctx context.Context) error {
	select {
	case <-i.syncedCh:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("informer %s: wait for sync: %w", i.kind, ctx.Err())
	}
}

// Start lists and watches until ctx ends, then stops every handler's
// goroutine and returns nil. It returns ErrAlreadyStarted if called twice.
func (i *Informer) Start(ctx context.Context) error {
	if !i.started.CompareAndSwap(false, true) {
		return fmt.Errorf("informer %s: %w", i.kind, ErrAlreadyStarted)
	}
	i.mu.Lock()
	i.running = true
	for _, r := range i.regs {
		r.start()
	}
	i.mu.Unlock()
	defer func() {
		i.mu.Lock()
		i.running, i.stopped = false, true
		regs := slices.Clone(i.regs) // RemoveEventHandler edits i.regs in place
		i.mu.Unlock()
		for _, r := range regs {
			r.stop()
		}
	}()

	if i.opts.resync > 0 {
		go i.resyncLoop(ctx)
	}
	relist := true
	backoff := newBackoff()
	for {
		progressed, err := i.listAndWatch(ctx, &relist)
		if ctx.Err() != nil {
			return nil
		}
		if progressed {
			backoff.reset()
		}
		d := backoff.next()
		i.log.Debug("watch ended; restarting", "relist", relist, "after", d, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
	}
}

// listAndWatch lists if *relist, then watches from the cache's revision
// until the watch ends. It sets *relist when the next round must list.
// progressed reports whether it got anything from the store.
func (i *Informer) listAndWatch(ctx context.Context, relist *bool) (progressed bool, err error) {
	if *relist {
		res, err := i.s.List(ctx, i.kind, store.ListOptions{
			Namespace:     i.opts.namespace,
			LabelSelector: i.opts.labelSelector,
			FieldSelector: i.opts.fieldSelector,
		})
		if err != nil {
			return false, fmt.Errorf("list %s: %w", i.kind, err)
		}
		i.replace(res.Items, res.Revision)
		*relist = false
		progressed = true
	}
	rev := i.Revision()
	w, err := i.s.Watch(ctx, i.kind, store.WatchOptions{
		Namespace:     i.opts.namespace,
		LabelSelector: i.opts.labelSelector,
		FieldSelector: i.opts.fieldSelector,
		Revision:      rev,
		Bookmarks:     true,
	})
	if err != nil {
		if errors.Is(err, store.ErrCompacted) || errors.Is(err, store.ErrTooSlow) {
			*relist = true
		}
		return progressed, fmt.Errorf("watch %s: %w", i.kind, err)
	}
	defer w.Stop()
	if rev == 0 {
		// A store that lists at revision 0 (the conformance suite forbids
		// it, but a Store of a user's may still do it) cannot be watched
		// from there: a watch from revision 0 means "from now", and a write
		// between the list and the watch would be lost. If the store has
		// moved since, list again (at a real revision).
		cur, err := i.s.Revision(ctx)
		if err != nil {
			return progressed, fmt.Errorf("revision: %w", err)
		}
		if cur != 0 {
			*relist = true
			return true, errRaced
		}
	}
	for ev := range w.Events() {
		progressed = true
		i.apply(ev)
	}
	err = w.Err()
	if errors.Is(err, store.ErrCompacted) || errors.Is(err, store.ErrTooSlow) {
		*relist = true
		i.log.Info("watch fell behind; relisting", "err", err)
	}
	if err == nil {
		err = errWatchClosed
	}
	return progressed, err
}

var (
	errWatchClosed = errors.New("watch closed")
	errRaced       = errors.New("store written between list and watch at revision 0")
)

// replace loads a full list at rev, reporting the differences to handlers.
func (i *Informer) replace(items []api.Object, rev int64) {
	i.mu.Lock()
	defer i.mu.Unlock()
	seen := make(map[string]struct{}, len(items))
	for _, obj := range items {
		key := KeyOf(obj)
		seen[key] = struct{}{}
		old, existed := i.items[key]
		if existed && old.GetMetadata().GetResourceVersion() == obj.GetMetadata().GetResourceVersion() {
			continue
		}
		i.items[key] = obj
		i.updateIndicesLocked(key, old, obj)
		if existed {
			i.notifyLocked(notification{typ: opUpdate, old: old, obj: obj})
		} else {
			i.notifyLocked(notification{typ: opAdd, obj: obj})
		}
	}
	for key, old := range i.items {
		if _, ok := seen[key]; ok {
			continue
		}
		delete(i.items, key)
		i.updateIndicesLocked(key, old, nil)
		i.notifyLocked(notification{typ: opDelete, obj: old})
	}
	i.advanceLocked(rev)
	if !i.synced {
		i.synced = true
		for _, r := range i.regs {
			r.push(notification{typ: opSynced})
		}
		close(i.syncedCh)
	}
}

func (i *Informer) apply(ev store.Event) {
	i.mu.Lock()
	defer i.mu.Unlock()
	// Advance after the change is applied (deferred, under the lock) so a
	// waiter woken for this revision sees it in the cache.
	defer i.advanceLocked(ev.Revision)
	if ev.Object == nil {
		return // bookmark
	}
	key := KeyOf(ev.Object)
	old, existed := i.items[key]
	switch ev.Type {
	case store.EventAdded, store.EventModified:
		i.items[key] = ev.Object
		i.updateIndicesLocked(key, old, ev.Object)
		if existed {
			i.notifyLocked(notification{typ: opUpdate, old: old, obj: ev.Object})
		} else {
			i.notifyLocked(notification{typ: opAdd, obj: ev.Object})
		}
	case store.EventDeleted:
		if !existed {
			return
		}
		delete(i.items, key)
		i.updateIndicesLocked(key, old, nil)
		i.notifyLocked(notification{typ: opDelete, obj: ev.Object})
	}
}

func (i *Informer) notifyLocked(n notification) {
	for _, r := range i.regs {
		r.push(n)
	}
}

func (i *Informer) resyncLoop(ctx context.Context) {
	t := time.NewTicker(i.opts.resync)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		i.mu.RLock()
		for _, obj := range i.items {
			i.notifyLocked(notification{typ: opUpdate, old: obj, obj: obj})
		}
		i.mu.RUnlock()
	}
}

// AddEventHandler registers h. If the informer has objects already, h first
// gets an add for each. h is called from its own goroutine, one call at a
// time, in the order changes were seen; it never blocks the watch or other
// handlers.
func (i *Informer) AddEventHandler(h Handler) *Registration {
	r := newRegistration(h, i.log)
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, obj := range i.items {
		r.push(notification{typ: opAdd, obj: obj})
	}
	if i.synced {
		r.push(notification{typ: opSynced})
	}
	i.regs = append(i.regs, r)
	if i.running {
		r.start()
	}
	return r
}

// RemoveEventHandler unregisters r and stops its goroutine; notifications
// not yet delivered are dropped.
func (i *Informer) RemoveEventHandler(r *Registration) {
	i.mu.Lock()
	i.regs = slices.DeleteFunc(i.regs, func(x *Registration) bool { return x == r })
	i.mu.Unlock()
	r.stop()
}

type backoff struct{ cur time.Duration }

func newBackoff() *backoff { return &backoff{} }

func (b *backoff) reset() { b.cur = 0 }

func (b *backoff) next() time.Duration {
	switch {
	case b.cur == 0:
		b.cur = 10 * time.Millisecond
	case b.cur < 5*time.Second:
		b.cur *= 2
	}
	return b.cur
}
