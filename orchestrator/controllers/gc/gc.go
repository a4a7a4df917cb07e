package gc

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/workqueue"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"google.golang.org/protobuf/proto"
)

// IndexOwnerUIDs indexes objects by the uid of every owner reference (not
// only the controller's).
const IndexOwnerUIDs = "gc-owner-uids"

// Options tune the collector.
type Options struct {
	// Workers is the number of objects processed at once (default 4).
	Workers int
	// Logger (default the manager's).
	Logger *slog.Logger
	// SkipKinds are kinds the collector ignores (default: Event).
	SkipKinds []string
}

// Key names one object of one kind.
type Key struct {
	Kind, Namespace, Name string
}

// Collector is the garbage collector. Create it with Add.
type Collector struct {
	store  store.Store
	reg    *api.Registry
	opts   Options
	log    *slog.Logger
	infs   map[string]*informer.Informer
	scopes map[string]api.Scope
	queue  *workqueue.Queue[Key]
}

// Add creates the collector and adds it to mgr (a leader-only runnable).
func Add(mgr *manager.Manager, opts Options) (*Collector, error) {
	c, err := New(mgr, opts)
	if err != nil {
		return nil, err
	}
	return c, mgr.Add(c)
}

// New creates the collector over mgr's shared informers without adding it
// to mgr; run it with Start.
func New(mgr *manager.Manager, opts Options) (*Collector, error) {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.Logger == nil {
		opts.Logger = mgr.Logger()
	}
	if opts.SkipKinds == nil {
		opts.SkipKinds = []string{api.KindEvent}
	}
	c := &Collector{
		store:  mgr.Store(),
		reg:    mgr.Store().Registry(),
		opts:   opts,
		log:    opts.Logger.With("controller", "garbage-collector"),
		infs:   map[string]*informer.Informer{},
		scopes: map[string]api.Scope{},
	}
	for _, ki := range c.reg.Kinds() {
		if slices.Contains(opts.SkipKinds, ki.Kind) {
			continue
		}
		inf, err := mgr.Informer(ki.Kind)
		if err != nil {
			return nil, fmt.Errorf("gc: %w", err)
		}
		if err := inf.AddIndex(IndexOwnerUIDs, ownerUIDs); err != nil {
			return nil, fmt.Errorf("gc: index %s: %w", ki.Kind, err)
		}
		c.infs[ki.Kind] = inf
		c.scopes[ki.Kind] = ki.Scope
	}
	return c, nil
}

// ownerUIDs is the IndexOwnerUIDs index function.
func ownerUIDs(obj api.Object) []string {
	refs := obj.GetMetadata().GetOwnerReferences()
	if len(refs) == 0 {
		return nil
	}
	out := make([]string, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.GetUid())
	}
	return out
}

// Start runs the collector until ctx ends.
func (c *Collector) Start(ctx context.Context) error {
	c.queue = workqueue.New(workqueue.Config[Key]{})
	// Handlers stay registered after ctx ends: the informers stop them
	// when they stop, and a change after that only finds the queue shut
	// down. (Removing them here raced with the informers' own shutdown.)
	for kind, inf := range c.infs {
		inf.AddEventHandler(&kindHandler{c: c, kind: kind})
	}
	for _, inf := range c.infs {
		if err := inf.WaitForSync(ctx); err != nil {
			break
		}
	}
	var wg sync.WaitGroup
	for range c.opts.Workers {
		wg.Go(func() { c.work(ctx) })
	}
	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	return nil
}

func (c *Collector) work(ctx context.Context) {
	for {
		key, ok := c.queue.Get(ctx)
		if !ok {
			return
		}
		err := c.process(ctx, key)
		switch {
		case err == nil:
			c.queue.Forget(key)
		case ctx.Err() != nil:
		default:
			c.log.Debug("retrying", "key", key, "err", err)
			c.queue.AddRateLimited(key)
		}
		c.queue.Done(key)
	}
}

// kindHandler turns one kind's changes into work.
type kindHandler struct {
	c    *Collector
	kind string
}

func (h *kindHandler) OnAdd(obj api.Object) {
	m := obj.GetMetadata()
	if len(m.GetOwnerReferences()) > 0 || hasPropagationFinalizer(m) {
		h.c.enqueue(h.kind, obj)
	}
	if m.GetDeletionTimestamp() != nil {
		h.c.enqueueDependents(m.GetUid())
	}
}

func (h *kindHandler) OnUpdate(old, obj api.Object) {
	om, m := old.GetMetadata(), obj.GetMetadata()
	refsChanged := !slices.EqualFunc(om.GetOwnerReferences(), m.GetOwnerReferences(), func(a, b *api.OwnerReference) bool { return proto.Equal(a, b) })
	deleting := m.GetDeletionTimestamp() != nil
	if refsChanged || hasPropagationFinalizer(m) || (deleting && len(m.GetOwnerReferences()) > 0) {
		h.c.enqueue(h.kind, obj)
	}
	if deleting && (om.GetDeletionTimestamp() == nil || !slices.Equal(om.GetFinalizers(), m.GetFinalizers())) {
		h.c.enqueueDependents(m.GetUid())
	}
	if refsChanged || deleting {
		h.c.enqueueOwners(h.kind, old)
	}
}

func (h *kindHandler) OnDelete(obj api.Object) {
	h.c.enqueueDependents(obj.GetMetadata().GetUid())
	h.c.enqueueOwners(h.kind, obj)
}

func hasPropagationFinalizer(m *api.ObjectMeta) bool {
	for _, f := range m.GetFinalizers() {
		if f == store.FinalizerForeground || f == store.FinalizerOrphan {
			return true
		}
	}
	return false
}

func (c *Collector) enqueue(kind string, obj api.Object) {
	m := obj.GetMetadata()
	c.queue.Add(Key{Kind: kind, Namespace: m.GetNamespace(), Name: m.GetName()})
}

// enqueueDependents queues every cached object with an owner reference to uid.
func (c *Collector) enqueueDependents(uid string) {
	if uid == "" {
		return
	}
	for kind, inf := range c.infs {
		deps, err := inf.ByIndex(IndexOwnerUIDs, uid)
		if err != nil {
			continue
		}
		for _, d := range deps {
			c.enqueue(kind, d)
		}
	}
}

// enqueueOwners queues obj's owners (a foreground owner waits for them).
func (c *Collector) enqueueOwners(kind string, obj api.Object) {
	for _, ref := range obj.GetMetadata().GetOwnerReferences() {
		if _, ok := c.infs[ref.GetKind()]; !ok {
			continue
		}
		c.queue.Add(Key{Kind: ref.GetKind(), Namespace: c.ownerNamespace(ref, obj), Name: ref.GetName()})
	}
}

// ownerNamespace is where an owner of obj lives: obj's namespace for a
// namespaced owner kind, none for a cluster-scoped one.
func (c *Collector) ownerNamespace(ref *api.OwnerReference, obj api.Object) string {
	if c.scopes[ref.GetKind()] == api.ClusterScoped {
		return ""
	}
	return obj.GetMetadata().GetNamespace()
}

// process carries out one object's part of garbage collection.
func (c *Collector) process(ctx context.Context, key Key) error {
	inf := c.infs[key.Kind]
	if inf == nil {
		return nil
	}
	obj, ok := inf.Get(key.Namespace, key.Name)
	if !ok {
		return nil
	}
	m := obj.GetMetadata()
	if m.GetDeletionTimestamp() != nil {
		// Orphan wins over foreground if both were asked for: nothing
		// is deleted that the user meant to keep.
		switch {
		case slices.Contains(m.GetFinalizers(), store.FinalizerOrphan):
			return c.orphan(ctx, key, obj)
		case slices.Contains(m.GetFinalizers(), store.FinalizerForeground):
			return c.foreground(ctx, key, obj)
		}
		return nil
	}
	return c.checkOwners(ctx, key, obj)
}

// dependents returns the cached objects (with their kinds) that have an
// owner reference to uid.
func (c *Collector) dependents(uid string) []dependent {
	var out []dependent
	for kind, inf := range c.infs {
		deps, err := inf.ByIndex(IndexOwnerUIDs, uid)
		if err != nil {
			continue
		}
		for _, d := range deps {
			out = append(out, dependent{kind: kind, obj: d})
		}
	}
	return out
}

type dependent struct {
	kind string
	obj  api.Object
}

// orphan removes obj's references from its dependents, then the orphan
// finalizer.
func (c *Collector) orphan(ctx context.Context, key Key, obj api.Object) error {
	uid := obj.GetMetadata().GetUid()
	for _, d := range c.dependents(uid) {
		if err := c.dropOwnerRefs(ctx, d.kind, d.obj, func(r *api.OwnerReference) bool { return r.GetUid() == uid }); err != nil {
			return err
		}
	}
	return c.removeFinalizer(ctx, key, obj, store.FinalizerOrphan)
}

// foreground deletes obj's dependents and removes the foreground finalizer
// once none that blocks it is left.
func (c *Collector) foreground(ctx context.Context, key Key, obj api.Object) error {
	uid := obj.GetMetadata().GetUid()
	blocked := false
	for _, d := range c.dependents(uid) {
		dm := d.obj.GetMetadata()
		for _, r := range dm.GetOwnerReferences() {
			if r.GetUid() == uid && r.GetBlockOwnerDeletion() {
				blocked = true
			}
		}
		if dm.GetDeletionTimestamp() != nil {
			continue
		}
		_, err := c.store.Delete(ctx, d.kind, dm.GetNamespace(), dm.GetName(), store.DeleteOptions{
			UID: dm.GetUid(), PropagationPolicy: store.PropagationForeground,
		})
		if err != nil && !store.IsNotFound(err) && !store.IsConflict(err) {
			return fmt.Errorf("gc: delete dependent %s %s/%s: %w", d.kind, dm.GetNamespace(), dm.GetName(), err)
		}
	}
	if blocked {
		return nil // the dependents' deletions will enqueue obj again
	}
	return c.removeFinalizer(ctx, key, obj, store.FinalizerForeground)
}

// checkOwners deletes obj if all its owners are gone, or drops the
// references to the owners that are gone.
func (c *Collector) checkOwners(ctx context.Context, key Key, obj api.Object) error {
	refs := obj.GetMetadata().GetOwnerReferences()
	if len(refs) == 0 {
		return nil
	}
	var absent []*api.OwnerReference
	for _, ref := range refs {
		gone, err := c.ownerGone(ctx, ref, obj)
		if err != nil {
			return err
		}
		if gone {
			absent = append(absent, ref)
		}
	}
	switch {
	case len(absent) == 0:
		return nil
	case len(absent) == len(refs):
		m := obj.GetMetadata()
		// The resourceVersion precondition makes sure the owners checked
		// are the object's current ones: an orphaning that dropped them
		// after the cache was read turns this into a conflict.
		_, err := c.store.Delete(ctx, key.Kind, m.GetNamespace(), m.GetName(), store.DeleteOptions{UID: m.GetUid(), ResourceVersion: m.GetResourceVersion()})
		if err != nil && !store.IsNotFound(err) {
			// A conflict is retried: the cache was behind the store.
			return fmt.Errorf("gc: delete %s %s/%s: %w", key.Kind, m.GetNamespace(), m.GetName(), err)
		}
		c.log.Debug("deleted object whose owners are gone", "kind", key.Kind, "namespace", m.GetNamespace(), "name", m.GetName())
		return nil
	default:
		return c.dropOwnerRefs(ctx, key.Kind, obj, func(r *api.OwnerReference) bool {
			return slices.ContainsFunc(absent, func(a *api.OwnerReference) bool { return a.GetUid() == r.GetUid() })
		})
	}
}

// ownerGone reports whether the owner ref names is absent (or replaced by
// another object of the same name). The cache answers "present"; "absent"
// is confirmed by a read from the store.
func (c *Collector) ownerGone(ctx context.Context, ref *api.OwnerReference, obj api.Object) (bool, error) {
	ns := c.ownerNamespace(ref, obj)
	if inf := c.infs[ref.GetKind()]; inf != nil {
		if o, ok := inf.Get(ns, ref.GetName()); ok && o.GetMetadata().GetUid() == ref.GetUid() {
			return false, nil
		}
	}
	if _, err := c.reg.Lookup(ref.GetKind()); err != nil {
		return false, nil // an owner of a kind this store does not serve is left alone
	}
	o, err := c.store.Get(ctx, ref.GetKind(), ns, ref.GetName(), store.Linearizable())
	switch {
	case store.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, err
	}
	return o.GetMetadata().GetUid() != ref.GetUid(), nil
}

// dropOwnerRefs removes the owner references drop matches from obj.
func (c *Collector) dropOwnerRefs(ctx context.Context, kind string, obj api.Object, drop func(*api.OwnerReference) bool) error {
	m := obj.GetMetadata()
	return c.mutate(ctx, kind, m.GetNamespace(), m.GetName(), m.GetUid(), func(o api.Object) bool {
		om := api.Meta(o)
		n := len(om.OwnerReferences)
		om.OwnerReferences = slices.DeleteFunc(om.OwnerReferences, drop)
		return len(om.OwnerReferences) != n
	})
}

// removeFinalizer removes finalizer from obj.
func (c *Collector) removeFinalizer(ctx context.Context, key Key, obj api.Object, finalizer string) error {
	return c.mutate(ctx, key.Kind, key.Namespace, key.Name, obj.GetMetadata().GetUid(), func(o api.Object) bool {
		om := api.Meta(o)
		n := len(om.Finalizers)
		om.Finalizers = slices.DeleteFunc(om.Finalizers, func(f string) bool { return f == finalizer })
		return len(om.Finalizers) != n
	})
}

// mutate reads the object from the store, applies fn and writes it back
// with a resourceVersion precondition, retrying on conflict. Nothing is
// written when fn reports no change or the object was replaced.
func (c *Collector) mutate(ctx context.Context, kind, ns, name, uid string, fn func(api.Object) bool) error {
	for {
		o, err := c.store.Get(ctx, kind, ns, name)
		if store.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if o.GetMetadata().GetUid() != uid || !fn(o) {
			return nil
		}
		_, err = c.store.Update(ctx, o)
		if store.IsConflict(err) {
			continue
		}
		if store.IsNotFound(err) {
			return nil
		}
		return err
	}
}
