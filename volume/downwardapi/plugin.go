package downwardapi

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/atomicwriter"
	"github.com/coxswain-io/coxswain/volume/projection"
)

// PluginName is the plugin's name.
const PluginName = "downward-api"

// Plugin is the downwardAPI volume plugin.
type Plugin struct {
	allocatable map[string]string
}

var _ volume.Updater = (*Plugin)(nil)

// New returns the plugin; allocatable (may be nil) is the node's allocatable
// resources, used for limits a container does not set.
func New(allocatable map[string]string) *Plugin { return &Plugin{allocatable: allocatable} }

// Name returns "downward-api".
func (*Plugin) Name() string { return PluginName }

// CanSupport reports whether spec is a downwardAPI pod volume.
func (*Plugin) CanSupport(spec *volume.Spec) bool {
	return spec != nil && spec.Volume.GetDownwardApi() != nil
}

// SetUp writes the volume's files into req.Dir.
func (p *Plugin) SetUp(ctx context.Context, req volume.MountRequest) (string, error) {
	if err := p.Update(ctx, req); err != nil {
		return "", err
	}
	return req.Dir, nil
}

// Update rewrites the files from the pod's current fields, atomically.
func (p *Plugin) Update(ctx context.Context, req volume.MountRequest) error {
	src := req.Spec.Volume.GetDownwardApi()
	if src == nil {
		return fmt.Errorf("downwardAPI volume %q: %w", req.Spec.Name(), volume.ErrNotSupported)
	}
	payload, err := Payload(req.Pod, src.GetItems(), src.DefaultMode, p.allocatable)
	if err != nil {
		return fmt.Errorf("downwardAPI volume %q: %w", req.Spec.Name(), err)
	}
	if _, err := atomicwriter.Write(req.Dir, payload); err != nil {
		return fmt.Errorf("downwardAPI volume %q: %w", req.Spec.Name(), err)
	}
	return nil
}

// Payload returns the files of downwardAPI items for pod, with modes from
// the item, else defaultMode, else 0644. allocatable (may be nil) gives
// unset limits.
func Payload(pod *api.Pod, items []*api.DownwardAPIVolumeFile, defaultMode *int32, allocatable map[string]string) (map[string]atomicwriter.File, error) {
	def, err := projection.Mode(defaultMode, projection.DefaultMode)
	if err != nil {
		return nil, fmt.Errorf("defaultMode: %w", err)
	}
	payload := make(map[string]atomicwriter.File, len(items))
	for i, it := range items {
		if err := atomicwriter.ValidatePath(it.GetPath()); err != nil {
			return nil, fmt.Errorf("items[%d].path: %w: %w", i, volume.ErrInvalidSpec, err)
		}
		var v string
		switch {
		case it.GetFieldRef() != nil && it.GetResourceFieldRef() == nil:
			v, err = FieldValue(pod, it.GetFieldRef().GetFieldPath())
		case it.GetResourceFieldRef() != nil && it.GetFieldRef() == nil:
			if it.GetResourceFieldRef().GetContainerName() == "" {
				err = fmt.Errorf("resourceFieldRef needs containerName in a volume: %w", volume.ErrInvalidSpec)
				break
			}
			v, err = ResourceValue(pod, "", it.GetResourceFieldRef(), allocatable)
		default:
			err = fmt.Errorf("exactly one of fieldRef and resourceFieldRef is required: %w", volume.ErrInvalidSpec)
		}
		if err != nil {
			return nil, fmt.Errorf("items[%d]: %w", i, err)
		}
		mode, err := projection.Mode(it.Mode, def)
		if err != nil {
			return nil, fmt.Errorf("items[%d].mode: %w", i, err)
		}
		if _, dup := payload[it.GetPath()]; dup {
			return nil, fmt.Errorf("items[%d]: path %q used twice: %w", i, it.GetPath(), volume.ErrInvalidSpec)
		}
		payload[it.GetPath()] = atomicwriter.File{Data: []byte(v), Mode: mode}
	}
	return payload, nil
}

// TearDown removes the files.
func (*Plugin) TearDown(ctx context.Context, dir string) error {
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("downwardAPI volume: %w", err)
	}
	return nil
}
