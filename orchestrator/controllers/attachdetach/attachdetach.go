// Package attachdetach is the attach/detach controller: it attaches the
// persistent volumes of plugins that attach (volume.Attacher) to the nodes
// whose pods use them, and detaches them once no pod there does.
//
// The controller works node by node. For each pod bound to the node that
// has not finished, each persistentVolumeClaim volume whose claim is bound
// to a PersistentVolume supported by an Attacher in the volume.Registry is
// wanted on the node. Each wanted volume gets a VolumeAttachment (named
// after the volume and node) whose status.attached turns true once the
// plugin's Attach returned, with the device path in
// status.attachmentMetadata["devicePath"]; a failure is recorded in
// status.attachError and retried with backoff. A VolumeAttachment whose
// volume is no longer wanted is detached (status.detachError on failure)
// and deleted. The node agent waits for status.attached before mounting.
//
// Volumes of plugins that do not attach (the local provisioner's, hostPath,
// ...) get no VolumeAttachment.
package attachdetach

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/builder"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"github.com/coxswain-io/coxswain/volume"
)

// MetadataDevicePath is the attachmentMetadata key holding the device path.
const MetadataDevicePath = "devicePath"

// Options configure the controller.
type Options struct {
	// Plugins holds the attachers; required.
	Plugins *volume.Registry
	// Workers is the number of nodes reconciled at once (default 2).
	Workers int
}

// Add registers the attach/detach controller with mgr.
func Add(mgr *manager.Manager, opts Options) error {
	if opts.Plugins == nil {
		return fmt.Errorf("attachdetach: Plugins is required: %w", store.ErrInvalid)
	}
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	lister := func(kind string) (*informer.Informer, error) { return mgr.Informer(kind) }
	podInf, err := lister(api.KindPod)
	if err != nil {
		return err
	}
	vaInf, err := lister(api.KindVolumeAttachment)
	if err != nil {
		return err
	}
	claimInf, err := lister(api.KindPersistentVolumeClaim)
	if err != nil {
		return err
	}
	pvInf, err := lister(api.KindPersistentVolume)
	if err != nil {
		return err
	}
	r := &Reconciler{
		store:   mgr.Store(),
		plugins: opts.Plugins,
		pods:    informer.ListerFor[*api.Pod](podInf),
		vas:     informer.ListerFor[*api.VolumeAttachment](vaInf),
		claims:  informer.ListerFor[*api.PersistentVolumeClaim](claimInf),
		volumes: informer.ListerFor[*api.PersistentVolume](pvInf),
	}
	podNode := func(_ context.Context, obj api.Object) []reconcile.Request {
		if n := obj.(*api.Pod).GetSpec().GetNodeName(); n != "" {
			return []reconcile.Request{{Name: n}}
		}
		return nil
	}
	vaNode := func(_ context.Context, obj api.Object) []reconcile.Request {
		return []reconcile.Request{{Name: obj.(*api.VolumeAttachment).GetSpec().GetNodeName()}}
	}
	allNodes := func(context.Context, api.Object) []reconcile.Request { return r.nodesInUse() }
	return builder.ControllerManagedBy(mgr).
		Named("attachdetach").
		For(api.KindNode).
		Watches(api.KindPod, podNode).
		Watches(api.KindVolumeAttachment, vaNode).
		Watches(api.KindPersistentVolumeClaim, allNodes).
		Watches(api.KindPersistentVolume, allNodes).
		WithWorkers(opts.Workers).
		Complete(r)
}

// Reconciler attaches and detaches the volumes of one node.
type Reconciler struct {
	store   store.Store
	plugins *volume.Registry
	pods    informer.Lister[*api.Pod]
	vas     informer.Lister[*api.VolumeAttachment]
	claims  informer.Lister[*api.PersistentVolumeClaim]
	volumes informer.Lister[*api.PersistentVolume]
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// nodesInUse returns a request for every node with pods or attachments.
func (r *Reconciler) nodesInUse() []reconcile.Request {
	seen := map[string]bool{}
	var out []reconcile.Request
	add := func(n string) {
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, reconcile.Request{Name: n})
		}
	}
	for _, p := range r.pods.List() {
		add(p.GetSpec().GetNodeName())
	}
	for _, va := range r.vas.List() {
		add(va.GetSpec().GetNodeName())
	}
	return out
}

// AttachmentName returns the name of the VolumeAttachment of a volume on a
// node.
func AttachmentName(pv, node string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(pv + "\x00" + node))
	return "va-" + strconv.FormatUint(h.Sum64(), 36)
}

// Reconcile makes the node's VolumeAttachments match its pods' volumes.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	node := req.Name
	wanted := map[string]volume.Attacher{} // by PV name
	pvs := map[string]*api.PersistentVolume{}
	for _, p := range r.pods.List() {
		if p.GetSpec().GetNodeName() != node || podutil.IsFinished(p) {
			continue
		}
		for _, v := range p.GetSpec().GetVolumes() {
			src := v.GetPersistentVolumeClaim()
			if src == nil {
				continue
			}
			c, ok := r.claims.Get(p.GetMetadata().GetNamespace(), src.GetClaimName())
			if !ok || c.GetSpec().GetVolumeName() == "" {
				continue
			}
			pv, ok := r.volumes.Get("", c.GetSpec().GetVolumeName())
			if !ok {
				continue
			}
			plugin, err := r.plugins.Find(volume.SpecFromPersistentVolume(pv, src.GetReadOnly()))
			if err != nil {
				continue
			}
			if a, ok := plugin.(volume.Attacher); ok {
				wanted[pv.GetMetadata().GetName()] = a
				pvs[pv.GetMetadata().GetName()] = pv
			}
		}
	}
	var errs error
	have := map[string]*api.VolumeAttachment{}
	for _, va := range r.vas.List() {
		if va.GetSpec().GetNodeName() != node {
			continue
		}
		name := va.GetSpec().GetPersistentVolumeName()
		if _, ok := wanted[name]; ok && va.GetMetadata().GetDeletionTimestamp() == nil {
			have[name] = va
			continue
		}
		errs = errors.Join(errs, r.detach(ctx, va))
	}
	for name, a := range wanted {
		va, ok := have[name]
		if !ok {
			created, err := r.store.Create(ctx, &api.VolumeAttachment{
				Metadata: &api.ObjectMeta{Name: AttachmentName(name, node)},
				Spec:     &api.VolumeAttachmentSpec{Attacher: a.Name(), PersistentVolumeName: name, NodeName: node},
			})
			if err != nil && !store.IsAlreadyExists(err) {
				errs = errors.Join(errs, fmt.Errorf("create attachment of %s to %s: %w", name, node, err))
				continue
			}
			if err != nil {
				continue // the cache will bring it
			}
			va = created.(*api.VolumeAttachment)
		}
		if va.GetStatus().GetAttached() {
			continue
		}
		errs = errors.Join(errs, r.attach(ctx, va, a, pvs[name]))
	}
	return reconcile.Result{}, errs
}

func (r *Reconciler) attach(ctx context.Context, va *api.VolumeAttachment, a volume.Attacher, pv *api.PersistentVolume) error {
	device, err := a.Attach(ctx, volume.SpecFromPersistentVolume(pv, false), va.GetSpec().GetNodeName())
	st := &api.VolumeAttachmentStatus{}
	if err != nil {
		st.AttachError = err.Error()
	} else {
		st.Attached = true
		st.AttachmentMetadata = map[string]string{MetadataDevicePath: device}
	}
	out := api.Clone(va)
	out.Status = st
	if _, uerr := r.store.UpdateStatus(ctx, out); uerr != nil && !store.IsNotFound(uerr) && !store.IsConflict(uerr) {
		err = errors.Join(err, uerr)
	}
	if err != nil {
		return fmt.Errorf("attach %s to %s: %w", va.GetSpec().GetPersistentVolumeName(), va.GetSpec().GetNodeName(), err)
	}
	return nil
}

func (r *Reconciler) detach(ctx context.Context, va *api.VolumeAttachment) error {
	p, err := r.plugins.Plugin(va.GetSpec().GetAttacher())
	if err == nil {
		a, ok := p.(volume.Attacher)
		if !ok {
			err = fmt.Errorf("plugin %s cannot detach: %w", p.Name(), volume.ErrNotSupported)
		} else {
			err = a.Detach(ctx, va.GetSpec().GetPersistentVolumeName(), va.GetSpec().GetNodeName())
		}
	}
	if err != nil {
		out := api.Clone(va)
		out.Status = &api.VolumeAttachmentStatus{Attached: va.GetStatus().GetAttached(), AttachmentMetadata: va.GetStatus().GetAttachmentMetadata(), DetachError: err.Error()}
		if _, uerr := r.store.UpdateStatus(ctx, out); uerr != nil && !store.IsNotFound(uerr) && !store.IsConflict(uerr) {
			err = errors.Join(err, uerr)
		}
		return fmt.Errorf("detach %s from %s: %w", va.GetSpec().GetPersistentVolumeName(), va.GetSpec().GetNodeName(), err)
	}
	m := va.GetMetadata()
	if _, err := r.store.Delete(ctx, api.KindVolumeAttachment, "", m.GetName(), store.DeleteOptions{UID: m.GetUid()}); err != nil && !store.IsNotFound(err) {
		return fmt.Errorf("delete attachment %s: %w", m.GetName(), err)
	}
	return nil
}
