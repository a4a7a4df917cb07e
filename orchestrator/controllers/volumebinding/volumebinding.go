package volumebinding

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/api/resource"
	"github.com/coxswain-io/coxswain/orchestrator/builder"
	"github.com/coxswain-io/coxswain/orchestrator/handler"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"github.com/coxswain-io/coxswain/volume"
)

// Phases of claims and volumes.
const (
	ClaimPending = "Pending"
	ClaimBound   = "Bound"
	ClaimLost    = "Lost"

	VolumeAvailable = "Available"
	VolumeBound     = "Bound"
	VolumeReleased  = "Released"
	VolumeFailed    = "Failed"
)

// Reclaim policies.
const (
	ReclaimRetain  = "Retain"
	ReclaimDelete  = "Delete"
	ReclaimRecycle = "Recycle"
)

// AnnotationDefaultClass marks the StorageClass used by claims that name
// none.
const AnnotationDefaultClass = "storageclass.kubernetes.io/is-default-class"

// Options configure the controllers.
type Options struct {
	// Workers is the number of claims (and of volumes) reconciled at once
	// (default 2).
	Workers int
	// Plugins holds the provisioners, deleters and recyclers StorageClasses
	// and PersistentVolumes refer to; nil disables dynamic provisioning and
	// reclaiming storage (Delete then only removes the object).
	Plugins *volume.Registry
}

// Add registers the claim binder and the volume reclaimer with mgr.
func Add(mgr *manager.Manager, opts Options) error {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	claimInf, err := mgr.Informer(api.KindPersistentVolumeClaim)
	if err != nil {
		return err
	}
	pvInf, err := mgr.Informer(api.KindPersistentVolume)
	if err != nil {
		return err
	}
	classInf, err := mgr.Informer(api.KindStorageClass)
	if err != nil {
		return err
	}
	b := &Binder{
		store:   mgr.Store(),
		claims:  informer.ListerFor[*api.PersistentVolumeClaim](claimInf),
		volumes: informer.ListerFor[*api.PersistentVolume](pvInf),
		classes: informer.ListerFor[*api.StorageClass](classInf),
		plugins: opts.Plugins,
	}
	// A volume or class change may let a pending claim bind.
	pendingClaims := func(_ context.Context, obj api.Object) []reconcile.Request {
		var out []reconcile.Request
		if pv, ok := obj.(*api.PersistentVolume); ok {
			if ref := pv.GetSpec().GetClaimRef(); ref != nil {
				out = append(out, reconcile.Request{Namespace: ref.GetNamespace(), Name: ref.GetName()})
			}
		}
		for _, c := range b.claims.List() {
			if c.GetSpec().GetVolumeName() == "" {
				out = append(out, handler.RequestFor(c))
			}
		}
		return out
	}
	if err := builder.ControllerManagedBy(mgr).
		Named("volumebinding-claims").
		For(api.KindPersistentVolumeClaim).
		Watches(api.KindPersistentVolume, pendingClaims).
		Watches(api.KindStorageClass, pendingClaims).
		WithWorkers(1). // one binder at a time: two claims never race for a volume
		Complete(reconcile.Func(b.reconcileClaim)); err != nil {
		return err
	}
	claimToVolume := func(_ context.Context, obj api.Object) []reconcile.Request {
		c := obj.(*api.PersistentVolumeClaim)
		var out []reconcile.Request
		if v := c.GetSpec().GetVolumeName(); v != "" {
			out = append(out, reconcile.Request{Name: v})
		}
		// A deleted claim releases whichever volume points at it.
		for _, pv := range b.volumes.List() {
			ref := pv.GetSpec().GetClaimRef()
			if ref.GetNamespace() == c.GetMetadata().GetNamespace() && ref.GetName() == c.GetMetadata().GetName() {
				out = append(out, handler.RequestFor(pv))
			}
		}
		return out
	}
	return builder.ControllerManagedBy(mgr).
		Named("volumebinding-volumes").
		For(api.KindPersistentVolume).
		Watches(api.KindPersistentVolumeClaim, claimToVolume).
		WithWorkers(opts.Workers).
		Complete(reconcile.Func(b.reconcileVolume))
}

// Binder binds claims to volumes and reclaims released volumes.
type Binder struct {
	store   store.Store
	claims  informer.Lister[*api.PersistentVolumeClaim]
	volumes informer.Lister[*api.PersistentVolume]
	classes informer.Lister[*api.StorageClass]
	plugins *volume.Registry
}

// ClassOf returns the storage class a claim asks for: its
// storageClassName, or, when unset, the default class ("" if none).
func (b *Binder) ClassOf(c *api.PersistentVolumeClaim) string {
	if n := c.GetSpec().StorageClassName; n != nil {
		return *n
	}
	for _, sc := range b.classes.List() {
		if sc.GetMetadata().GetAnnotations()[AnnotationDefaultClass] == "true" {
			return sc.GetMetadata().GetName()
		}
	}
	return ""
}

func (b *Binder) reconcileClaim(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	c, ok := b.claims.Get(req.Namespace, req.Name)
	if !ok || c.GetMetadata().GetDeletionTimestamp() != nil {
		return reconcile.Result{}, nil
	}
	if name := c.GetSpec().GetVolumeName(); name != "" {
		pv, ok := b.volumes.Get("", name)
		switch {
		case !ok:
			if c.GetStatus().GetPhase() == ClaimBound {
				return reconcile.Result{}, b.setClaimStatus(ctx, c, ClaimLost, nil)
			}
			return reconcile.Result{}, b.setClaimStatus(ctx, c, ClaimPending, nil)
		case pv.GetSpec().GetClaimRef() == nil:
			// Pre-bound by the user: complete the binding from the volume side.
			return reconcile.Result{}, b.bind(ctx, c, pv)
		case refersTo(pv, c):
			return reconcile.Result{}, b.finishBinding(ctx, c, pv)
		default:
			return reconcile.Result{}, b.setClaimStatus(ctx, c, ClaimPending, nil)
		}
	}
	pv, err := b.bestFit(c)
	if err != nil {
		return reconcile.Result{}, reconcile.Terminal(err)
	}
	if pv == nil {
		pv, err = b.provision(ctx, c)
		if err != nil {
			return reconcile.Result{}, errors.Join(err, b.setClaimStatus(ctx, c, ClaimPending, nil))
		}
	}
	if pv == nil {
		// Nothing fits yet: a new volume or class wakes the claim.
		return reconcile.Result{}, b.setClaimStatus(ctx, c, ClaimPending, nil)
	}
	return reconcile.Result{}, b.bind(ctx, c, pv)
}

// bestFit returns the smallest available volume that satisfies the claim:
// same class, every access mode it asks for, enough capacity, and labels
// matching its selector. A volume already reserved for the claim wins.
func (b *Binder) bestFit(c *api.PersistentVolumeClaim) (*api.PersistentVolume, error) {
	want, err := requestOf(c)
	if err != nil {
		return nil, err
	}
	sel := labels.Everything()
	if c.GetSpec().GetSelector() != nil {
		if sel, err = labels.FromLabelSelector(c.GetSpec().GetSelector()); err != nil {
			return nil, fmt.Errorf("claim %s/%s selector: %w: %w", c.GetMetadata().GetNamespace(), c.GetMetadata().GetName(), store.ErrInvalid, err)
		}
	}
	class := b.ClassOf(c)
	var best *api.PersistentVolume
	var bestSize resource.Quantity
	for _, pv := range b.volumes.List() {
		if pv.GetMetadata().GetDeletionTimestamp() != nil {
			continue
		}
		if ref := pv.GetSpec().GetClaimRef(); ref != nil {
			if refersTo(pv, c) {
				return pv, nil
			}
			continue
		}
		if ph := pv.GetStatus().GetPhase(); ph != "" && ph != VolumeAvailable {
			continue
		}
		if pv.GetSpec().GetStorageClassName() != class || !sel.Matches(labels.Set(pv.GetMetadata().GetLabels())) {
			continue
		}
		if !hasModes(pv.GetSpec().GetAccessModes(), c.GetSpec().GetAccessModes()) {
			continue
		}
		size, err := resource.ParseQuantity(pv.GetSpec().GetCapacity()["storage"])
		if err != nil || size.Cmp(want) < 0 {
			continue
		}
		if best == nil || size.Cmp(bestSize) < 0 || size.Cmp(bestSize) == 0 && pv.GetMetadata().GetName() < best.GetMetadata().GetName() {
			best, bestSize = pv, size
		}
	}
	return best, nil
}

// provision creates a volume for the claim through its class's
// provisioner, if it has one the registry knows; nil if not.
func (b *Binder) provision(ctx context.Context, c *api.PersistentVolumeClaim) (*api.PersistentVolume, error) {
	className := b.ClassOf(c)
	if className == "" || b.plugins == nil {
		return nil, nil
	}
	class, ok := b.classes.Get("", className)
	if !ok {
		return nil, nil
	}
	p, err := b.plugins.FindProvisioner(class.GetProvisioner())
	if err != nil {
		return nil, nil // another program's provisioner, or none
	}
	name := "pvc-" + c.GetMetadata().GetUid()
	if pv, ok := b.volumes.Get("", name); ok {
		return pv, nil
	}
	pv, err := p.Provision(ctx, volume.ProvisionRequest{Claim: c, Class: class, VolumeName: name})
	if err != nil {
		return nil, fmt.Errorf("provision %s for %s/%s: %w", name, c.GetMetadata().GetNamespace(), c.GetMetadata().GetName(), err)
	}
	api.Meta(pv).Name = name
	pv.Spec.ClaimRef = claimRef(c)
	created, err := b.store.Create(ctx, pv)
	if store.IsAlreadyExists(err) {
		got, err := b.store.Get(ctx, api.KindPersistentVolume, "", name)
		if err != nil {
			return nil, err
		}
		return got.(*api.PersistentVolume), nil
	}
	if err != nil {
		return nil, fmt.Errorf("create provisioned volume %s: %w", name, err)
	}
	return created.(*api.PersistentVolume), nil
}

// bind points the volume at the claim and the claim at the volume in one
// transaction, then sets both statuses.
func (b *Binder) bind(ctx context.Context, c *api.PersistentVolumeClaim, pv *api.PersistentVolume) error {
	pvOut, cOut := api.Clone(pv), api.Clone(c)
	pvOut.Spec.ClaimRef = claimRef(c)
	if cOut.Spec == nil {
		cOut.Spec = &api.PersistentVolumeClaimSpec{}
	}
	cOut.Spec.VolumeName = pv.GetMetadata().GetName()
	res, err := b.store.Txn(ctx, store.UpdateOp(pvOut), store.UpdateOp(cOut))
	if err != nil {
		if store.IsConflict(err) || store.IsNotFound(err) {
			// Someone else moved first; the informer brings the news and
			// a fresh pass decides again.
			return nil
		}
		return fmt.Errorf("bind %s to %s/%s: %w", pv.GetMetadata().GetName(), c.GetMetadata().GetNamespace(), c.GetMetadata().GetName(), err)
	}
	return b.finishBinding(ctx, res[1].(*api.PersistentVolumeClaim), res[0].(*api.PersistentVolume))
}

// finishBinding writes Bound into the statuses of a bound pair.
func (b *Binder) finishBinding(ctx context.Context, c *api.PersistentVolumeClaim, pv *api.PersistentVolume) error {
	var errs error
	if pv.GetStatus().GetPhase() != VolumeBound {
		out := api.Clone(pv)
		out.Status = &api.PersistentVolumeStatus{Phase: VolumeBound}
		if _, err := b.store.UpdateStatus(ctx, out); err != nil && !store.IsConflict(err) && !store.IsNotFound(err) {
			errs = errors.Join(errs, err)
		}
	}
	return errors.Join(errs, b.setClaimStatus(ctx, c, ClaimBound, pv))
}

func (b *Binder) setClaimStatus(ctx context.Context, c *api.PersistentVolumeClaim, phase string, pv *api.PersistentVolume) error {
	st := &api.PersistentVolumeClaimStatus{Phase: phase}
	if pv != nil {
		st.AccessModes = slices.Clone(pv.GetSpec().GetAccessModes())
		if s, ok := pv.GetSpec().GetCapacity()["storage"]; ok {
			st.Capacity = map[string]string{"storage": s}
		}
	}
	cur := c.GetStatus()
	if cur.GetPhase() == st.Phase && slices.Equal(cur.GetAccessModes(), st.AccessModes) && cur.GetCapacity()["storage"] == st.Capacity["storage"] {
		return nil
	}
	out := api.Clone(c)
	st.Conditions = cur.GetConditions()
	out.Status = st
	if _, err := b.store.UpdateStatus(ctx, out); err != nil && !store.IsConflict(err) && !store.IsNotFound(err) {
		return fmt.Errorf("claim %s/%s status: %w", c.GetMetadata().GetNamespace(), c.GetMetadata().GetName(), err)
	}
	return nil
}

// reconcileVolume keeps a volume's phase and reclaims it when its claim
// goes away.
func (b *Binder) reconcileVolume(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	pv, ok := b.volumes.Get("", req.Name)
	if !ok || pv.GetMetadata().GetDeletionTimestamp() != nil {
		return reconcile.Result{}, nil
	}
	ref := pv.GetSpec().GetClaimRef()
	if ref == nil {
		return reconcile.Result{}, b.setVolumePhase(ctx, pv, VolumeAvailable, "")
	}
	// Read the claim from the store, not the cache: releasing a volume on
	// a stale "not found" would destroy data.
	c, err := store.For[*api.PersistentVolumeClaim](b.store).Get(ctx, ref.GetNamespace(), ref.GetName())
	switch {
	case err == nil && (ref.GetUid() == "" || c.GetMetadata().GetUid() == ref.GetUid()):
		if c.GetSpec().GetVolumeName() == pv.GetMetadata().GetName() {
			return reconcile.Result{}, b.setVolumePhase(ctx, pv, VolumeBound, "")
		}
		return reconcile.Result{}, nil // reserved, the binder is on it
	case err != nil && !store.IsNotFound(err):
		return reconcile.Result{}, err
	}
	// The claim is gone: the volume is released.
	policy := pv.GetSpec().GetPersistentVolumeReclaimPolicy()
	if policy == "" {
		policy = ReclaimRetain
	}
	switch policy {
	case ReclaimRetain:
		return reconcile.Result{}, b.setVolumePhase(ctx, pv, VolumeReleased, "")
	case ReclaimDelete:
		if err := b.deleteStorage(ctx, pv); err != nil {
			return reconcile.Result{}, errors.Join(err, b.setVolumePhase(ctx, pv, VolumeFailed, err.Error()))
		}
		if _, err := b.store.Delete(ctx, api.KindPersistentVolume, "", pv.GetMetadata().GetName(),
			store.DeleteOptions{UID: pv.GetMetadata().GetUid()}); err != nil && !store.IsNotFound(err) {
			return reconcile.Result{}, fmt.Errorf("delete volume %s: %w", pv.GetMetadata().GetName(), err)
		}
		return reconcile.Result{}, nil
	case ReclaimRecycle:
		if err := b.recycle(ctx, pv); err != nil {
			return reconcile.Result{}, errors.Join(err, b.setVolumePhase(ctx, pv, VolumeFailed, err.Error()))
		}
		_, err := store.For[*api.PersistentVolume](b.store).Mutate(ctx, "", pv.GetMetadata().GetName(), func(v *api.PersistentVolume) error {
			v.Spec.ClaimRef = nil
			return nil
		})
		if err != nil && !store.IsNotFound(err) {
			return reconcile.Result{}, err
		}
		return reconcile.Result{}, nil
	}
	return reconcile.Result{}, reconcile.Terminal(fmt.Errorf("volume %s: reclaim policy %q: %w", pv.GetMetadata().GetName(), policy, store.ErrInvalid))
}

func (b *Binder) deleteStorage(ctx context.Context, pv *api.PersistentVolume) error {
	if b.plugins == nil {
		return nil
	}
	p, err := b.plugins.Find(volume.SpecFromPersistentVolume(pv, false))
	if err != nil {
		if errors.Is(err, volume.ErrNoPlugin) {
			return nil // storage no plugin of ours manages: only the object goes
		}
		return err
	}
	d, ok := p.(volume.Deleter)
	if !ok {
		return fmt.Errorf("volume %s: plugin %s cannot delete: %w", pv.GetMetadata().GetName(), p.Name(), volume.ErrNotSupported)
	}
	return d.Delete(ctx, pv)
}

func (b *Binder) recycle(ctx context.Context, pv *api.PersistentVolume) error {
	if b.plugins == nil {
		return fmt.Errorf("volume %s: no plugins to recycle with: %w", pv.GetMetadata().GetName(), volume.ErrNotSupported)
	}
	p, err := b.plugins.Find(volume.SpecFromPersistentVolume(pv, false))
	if err != nil {
		return err
	}
	r, ok := p.(volume.Recycler)
	if !ok {
		return fmt.Errorf("volume %s: plugin %s cannot recycle: %w", pv.GetMetadata().GetName(), p.Name(), volume.ErrNotSupported)
	}
	return r.Recycle(ctx, pv)
}

func (b *Binder) setVolumePhase(ctx context.Context, pv *api.PersistentVolume, phase, msg string) error {
	if pv.GetStatus().GetPhase() == phase && pv.GetStatus().GetMessage() == msg {
		return nil
	}
	out := api.Clone(pv)
	out.Status = &api.PersistentVolumeStatus{Phase: phase, Message: msg}
	if _, err := b.store.UpdateStatus(ctx, out); err != nil && !store.IsConflict(err) && !store.IsNotFound(err) {
		return fmt.Errorf("volume %s status: %w", pv.GetMetadata().GetName(), err)
	}
	return nil
}

func refersTo(pv *api.PersistentVolume, c *api.PersistentVolumeClaim) bool {
	ref := pv.GetSpec().GetClaimRef()
	return ref != nil && ref.GetNamespace() == c.GetMetadata().GetNamespace() && ref.GetName() == c.GetMetadata().GetName() &&
		(ref.GetUid() == "" || ref.GetUid() == c.GetMetadata().GetUid())
}

func claimRef(c *api.PersistentVolumeClaim) *api.ObjectReference {
	m := c.GetMetadata()
	return &api.ObjectReference{ApiVersion: "v1", Kind: api.KindPersistentVolumeClaim, Namespace: m.GetNamespace(), Name: m.GetName(), Uid: m.GetUid()}
}

func requestOf(c *api.PersistentVolumeClaim) (resource.Quantity, error) {
	s := c.GetSpec().GetResources().GetRequests()["storage"]
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return resource.Quantity{}, fmt.Errorf("claim %s/%s: storage request %q: %w: %w", c.GetMetadata().GetNamespace(), c.GetMetadata().GetName(), s, store.ErrInvalid, err)
	}
	return q, nil
}

// hasModes reports whether have includes every mode in want.
func hasModes(have, want []string) bool {
	for _, m := range want {
		if !slices.Contains(have, m) {
			return false
		}
	}
	return true
}
