package emptydir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/coxswain-io/coxswain/api/resource"
	"github.com/coxswain-io/coxswain/volume"
)

// PluginName is the plugin's name.
const PluginName = "empty-dir"

// MediumMemory is the medium that puts the volume on tmpfs.
const MediumMemory = "Memory"

// Plugin is the emptyDir plugin.
type Plugin struct {
	mounter volume.OSMounter
}

var _ volume.Mounter = (*Plugin)(nil)

// New returns the plugin; m makes the tmpfs mounts (volume.Linux{} on a node).
func New(m volume.OSMounter) *Plugin { return &Plugin{mounter: m} }

// Name returns "empty-dir".
func (*Plugin) Name() string { return PluginName }

// CanSupport reports whether spec is an emptyDir pod volume.
func (*Plugin) CanSupport(spec *volume.Spec) bool {
	return spec != nil && spec.Volume.GetEmptyDir() != nil
}

// SetUp creates the directory, and for medium Memory mounts a tmpfs on it.
func (p *Plugin) SetUp(ctx context.Context, req volume.MountRequest) (string, error) {
	src := req.Spec.Volume.GetEmptyDir()
	if src == nil {
		return "", fmt.Errorf("emptyDir %q: %w", req.Spec.Name(), volume.ErrNotSupported)
	}
	switch src.GetMedium() {
	case "", MediumMemory:
	default:
		return "", fmt.Errorf("emptyDir %q: unknown medium %q: %w", req.Spec.Name(), src.GetMedium(), volume.ErrInvalidSpec)
	}
	if err := os.MkdirAll(req.Dir, 0o777); err != nil {
		return "", fmt.Errorf("emptyDir %q: %w", req.Spec.Name(), err)
	}
	if src.GetMedium() != MediumMemory {
		// World-writable like Kubernetes, so any container user can write.
		if err := os.Chmod(req.Dir, 0o777); err != nil {
			return "", fmt.Errorf("emptyDir %q: %w", req.Spec.Name(), err)
		}
		return req.Dir, nil
	}
	mounted, err := p.mounter.IsMountPoint(req.Dir)
	if err != nil {
		return "", fmt.Errorf("emptyDir %q: %w", req.Spec.Name(), err)
	}
	if mounted {
		return req.Dir, nil
	}
	opts := "mode=0777"
	if s := src.GetSizeLimit(); s != "" {
		q, err := resource.ParseQuantity(s)
		if err != nil {
			return "", fmt.Errorf("emptyDir %q: sizeLimit %q: %w: %w", req.Spec.Name(), s, volume.ErrInvalidSpec, err)
		}
		if q.Value() <= 0 {
			return "", fmt.Errorf("emptyDir %q: sizeLimit %q must be positive: %w", req.Spec.Name(), s, volume.ErrInvalidSpec)
		}
		opts += fmt.Sprintf(",size=%d", q.Value())
	}
	if err := p.mounter.Mount("tmpfs", req.Dir, "tmpfs", 0, opts); err != nil {
		return "", fmt.Errorf("emptyDir %q: %w", req.Spec.Name(), err)
	}
	return req.Dir, nil
}

// TearDown unmounts a tmpfs if there is one and removes dir with its
// content.
func (p *Plugin) TearDown(ctx context.Context, dir string) error {
	if err := volume.UnmountAll(p.mounter, dir); err != nil {
		return fmt.Errorf("emptyDir: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("emptyDir: %w", err)
	}
	return nil
}
