package pvc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

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
	plugins *volume.Registry
}

// Option tunes the plugin.
type Option func(*Plugin)

// WithPlugins lets the plugin mount volumes with no local or hostPath
// source (a flexVolume PV of a vendor's driver) through the plugin of reg
// that supports the PersistentVolume and can mount it. The delegate's name
// is kept in a dot file beside the volume directory, so TearDown finds it.
func WithPlugins(reg *volume.Registry) Option { return func(p *Plugin) { p.plugins = reg } }

var _ volume.Mounter = (*Plugin)(nil)

// New returns the plugin reading claims and volumes through objects (a
// store.Store) and bind-mounting through m (volume.Linux{} on a node).
func New(objects volume.ObjectGetter, m volume.OSMounter, opts ...Option) *Plugin {
	p := &Plugin{objects: objects, mounter: m}
	for _, o := range opts {
		o(p)
	}
	return p
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
	if errors.Is(err, volume.ErrNotSupported) && p.plugins != nil {
		return p.delegateSetUp(ctx, req, pv, src.GetReadOnly() || req.Spec.ReadOnly)
	}
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

// marker is the dot file naming the plugin a volume was delegated to.
func marker(dir string) string {
	return filepath.Join(filepath.Dir(dir), "."+filepath.Base(dir)+".delegate")
}

// delegateSetUp mounts pv through the registry's plugin for it.
func (p *Plugin) delegateSetUp(ctx context.Context, req volume.MountRequest, pv *api.PersistentVolume, readOnly bool) (string, error) {
	spec := volume.SpecFromPersistentVolume(pv, readOnly)
	m, err := p.plugins.FindMounter(spec)
	if err != nil {
		return "", fmt.Errorf("claim volume %q: %w", req.Spec.Name(), err)
	}
	if m.Name() == p.Name() {
		return "", fmt.Errorf("claim volume %q: volume %s: %w", req.Spec.Name(), pv.GetMetadata().GetName(), volume.ErrNotSupported)
	}
	if err := os.MkdirAll(filepath.Dir(req.Dir), 0o750); err != nil {
		return "", fmt.Errorf("claim volume %q: %w", req.Spec.Name(), err)
	}
	// Record the delegate before mounting, so a crash in between still
	// tears down through it.
	if err := os.WriteFile(marker(req.Dir), []byte(m.Name()), 0o600); err != nil {
		return "", fmt.Errorf("claim volume %q: %w", req.Spec.Name(), err)
	}
	path, err := m.SetUp(ctx, volume.MountRequest{Pod: req.Pod, Spec: spec, Dir: req.Dir})
	if err != nil {
		return "", fmt.Errorf("claim volume %q: through %s: %w", req.Spec.Name(), m.Name(), err)
	}
	return path, nil
}

// TearDown unmounts the volume and removes the empty mount point. It never
// removes a directory that still has content (that would be the volume's
// data if an unmount had silently failed). A delegated volume is torn down
// by its delegate.
func (p *Plugin) TearDown(ctx context.Context, dir string) error {
	if name, err := os.ReadFile(marker(dir)); err == nil && p.plugins != nil {
		m, err := p.plugins.Plugin(string(name))
		if err != nil {
			return fmt.Errorf("claim volume: %w", err)
		}
		mm, ok := m.(volume.Mounter)
		if !ok {
			return fmt.Errorf("claim volume: delegate %q cannot unmount: %w", m.Name(), volume.ErrNotSupported)
		}
		if err := mm.TearDown(ctx, dir); err != nil {
			return fmt.Errorf("claim volume: through %s: %w", m.Name(), err)
		}
		if err := os.Remove(marker(dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("claim volume: %w", err)
		}
		return nil
	}
	if err := volume.UnmountAll(p.mounter, dir); err != nil {
		return fmt.Errorf("claim volume: %w", err)
	}
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("claim volume: remove mount point: %w", err)
	}
	return nil
}
