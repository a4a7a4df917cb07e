package pvc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
)

// PluginName is the plugin's name.
const PluginName = "persistent-claim"

// PhaseBound is the claim phase in which it can be used.
const PhaseBound = "Bound"

// Plugin is the persistentVolumeClaim plugin.
type Plugin struct {
	objects volume.ObjectGetter
	mounter volume.OSMounter
}

var _ volume.Mounter = (*Plugin)(nil)

// New returns the plugin reading claims and volumes through objects (a
// store.Store) and bind-mounting through m (volume.Linux{} on a node).
func New(objects volume.ObjectGetter, m volume.OSMounter) *Plugin {
	return &Plugin{objects: objects, mounter: m}
}

// Name returns "persistent-claim".
func (*Plugin) Name() string { return PluginName }

// CanSupport reports whether spec is a persistentVolumeClaim pod volume.
func (*Plugin) CanSupport(spec *volume.Spec) bool {
	return spec != nil && spec.Volume.GetPersistentVolumeClaim() != nil
}

// Resolve returns the PersistentVolume bound to the claim namespace/name.
func Resolve(ctx context.Context, objects volume.ObjectGetter, namespace, name string) (*api.PersistentVolume, error) {
	obj, err := objects.Get(ctx, api.KindPersistentVolumeClaim, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("claim %s/%s: %w", namespace, name, err)
	}
	claim, ok := obj.(*api.PersistentVolumeClaim)
	if !ok {
		return nil, fmt.Errorf("claim %s/%s: got %T: %w", namespace, name, obj, store.ErrInvalid)
	}
	pvName := claim.GetSpec().GetVolumeName()
	if pvName == "" || claim.GetStatus().GetPhase() != PhaseBound {
		return nil, fmt.Errorf("claim %s/%s is not bound (phase %q): %w", namespace, name, claim.GetStatus().GetPhase(), volume.ErrNotReady)
	}
	obj, err = objects.Get(ctx, api.KindPersistentVolume, "", pvName)
	if err != nil {
		return nil, fmt.Errorf("claim %s/%s: volume %s: %w", namespace, name, pvName, err)
	}
	pv, ok := obj.(*api.PersistentVolume)
	if !ok {
		return nil, fmt.Errorf("volume %s: got %T: %w", pvName, obj, store.ErrInvalid)
	}
	ref := pv.GetSpec().GetClaimRef()
	if ref == nil || ref.GetName() != name || ref.GetNamespace() != namespace ||
		(ref.GetUid() != "" && claim.GetMetadata().GetUid() != "" && ref.GetUid() != claim.GetMetadata().GetUid()) {
		return nil, fmt.Errorf("claim %s/%s: volume %s is not bound to it (claimRef %s/%s): %w", namespace, name, pvName, ref.GetNamespace(), ref.GetName(), volume.ErrNotReady)
	}
	return pv, nil
}

// SourcePath returns the node directory of a local or hostPath volume.
func SourcePath(pv *api.PersistentVolume) (string, error) {
	switch s := pv.GetSpec(); {
	case s.GetLocal() != nil:
		return s.GetLocal().GetPath(), nil
	case s.GetHostPath() != nil:
		return s.GetHostPath().GetPath(), nil
	}
	return "", fmt.Errorf("volume %s: only local and hostPath sources can be mounted by path: %w", pv.GetMetadata().GetName(), volume.ErrNotSupported)
}

// SetUp bind-mounts the claim's volume at req.Dir.
func (p *Plugin) SetUp(ctx context.Context, req volume.MountRequest) (string, error) {
	src := req.Spec.Volume.GetPersistentVolumeClaim()
	if src == nil {
		return "", fmt.Errorf("claim volume %q: %w", req.Spec.Name(), volume.ErrNotSupported)
	}
	pv, err := Resolve(ctx, p.objects, req.Pod.GetMetadata().GetNamespace(), src.GetClaimName())
	if err != nil {
		return "", fmt.Errorf("claim volume %q: %w", req.Spec.Name(), err)
	}
	path, err := SourcePath(pv)
	if err != nil {
		return "", fmt.Errorf("claim volume %q: %w", req.Spec.Name(), err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("claim volume %q: volume %s: %w", req.Spec.Name(), pv.GetMetadata().GetName(), err)
	}
	if !info.IsDir() {
		return "", fmt.Errorf("claim volume %q: %s is not a directory: %w", req.Spec.Name(), path, volume.ErrInvalidSpec)
	}
	if err := os.MkdirAll(req.Dir, 0o750); err != nil {
		return "", fmt.Errorf("claim volume %q: %w", req.Spec.Name(), err)
	}
	mounted, err := p.mounter.IsMountPoint(req.Dir)
	if err != nil {
		return "", fmt.Errorf("claim volume %q: %w", req.Spec.Name(), err)
	}
	if mounted {
		return req.Dir, nil
	}
	if err := p.mounter.Mount(path, req.Dir, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		return "", fmt.Errorf("claim volume %q: %w", req.Spec.Name(), err)
	}
	if src.GetReadOnly() || req.Spec.ReadOnly {
		if err := p.mounter.Mount("", req.Dir, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
			_ = volume.UnmountAll(p.mounter, req.Dir)
			return "", fmt.Errorf("claim volume %q: read-only: %w", req.Spec.Name(), err)
		}
	}
	return req.Dir, nil
}

// TearDown unmounts the volume and removes the empty mount point. It never
// removes a directory that still has content (that would be the volume's
// data if an unmount had silently failed).
func (p *Plugin) TearDown(ctx context.Context, dir string) error {
	if err := volume.UnmountAll(p.mounter, dir); err != nil {
		return fmt.Errorf("claim volume: %w", err)
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("claim volume: remove mount point: %w", err)
	}
	return nil
}
