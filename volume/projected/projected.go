package projected

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/atomicwriter"
	"github.com/coxswain-io/coxswain/volume/configmap"
	"github.com/coxswain-io/coxswain/volume/downwardapi"
	"github.com/coxswain-io/coxswain/volume/projection"
	"github.com/coxswain-io/coxswain/volume/secret"
)

// PluginName is the plugin's name.
const PluginName = "projected"

// Plugin is the projected plugin.
type Plugin struct {
	objects     volume.ObjectGetter
	mounter     volume.OSMounter
	allocatable map[string]string
}

var _ volume.Updater = (*Plugin)(nil)

// New returns the plugin. objects reads ConfigMaps and Secrets, m mounts the
// tmpfs, allocatable (may be nil) gives downward API values of unset limits.
func New(objects volume.ObjectGetter, m volume.OSMounter, allocatable map[string]string) *Plugin {
	return &Plugin{objects: objects, mounter: m, allocatable: allocatable}
}

// Name returns "projected".
func (*Plugin) Name() string { return PluginName }

// CanSupport reports whether spec is a projected pod volume.
func (*Plugin) CanSupport(spec *volume.Spec) bool {
	return spec != nil && spec.Volume.GetProjected() != nil
}

// SetUp mounts a tmpfs at req.Dir and writes the merged sources into it.
func (p *Plugin) SetUp(ctx context.Context, req volume.MountRequest) (string, error) {
	payload, err := p.payload(ctx, req)
	if err != nil {
		return "", err
	}
	if err := volume.EnsureTmpfs(p.mounter, req.Dir, "mode=0755"); err != nil {
		return "", fmt.Errorf("projected volume %q: %w", req.Spec.Name(), err)
	}
	if err := p.write(req, payload); err != nil {
		return "", err
	}
	return req.Dir, nil
}

// Update re-reads the sources and swaps the files if they changed.
func (p *Plugin) Update(ctx context.Context, req volume.MountRequest) error {
	payload, err := p.payload(ctx, req)
	if err != nil {
		return err
	}
	return p.write(req, payload)
}

func (p *Plugin) write(req volume.MountRequest, payload map[string]atomicwriter.File) error {
	fsType, err := volume.FSType(req.Dir)
	if err != nil {
		return fmt.Errorf("projected volume %q: %w", req.Spec.Name(), err)
	}
	if fsType != volume.FSTmpfs {
		return fmt.Errorf("projected volume %q: %s is not on tmpfs, refusing to write: %w", req.Spec.Name(), req.Dir, volume.ErrNotReady)
	}
	if _, err := atomicwriter.Write(req.Dir, payload); err != nil {
		return fmt.Errorf("projected volume %q: %w", req.Spec.Name(), err)
	}
	return nil
}

func (p *Plugin) payload(ctx context.Context, req volume.MountRequest) (map[string]atomicwriter.File, error) {
	src := req.Spec.Volume.GetProjected()
	if src == nil {
		return nil, fmt.Errorf("projected volume %q: %w", req.Spec.Name(), volume.ErrNotSupported)
	}
	ns := req.Pod.GetMetadata().GetNamespace()
	out := map[string]atomicwriter.File{}
	for i, s := range src.GetSources() {
		var (
			files map[string]atomicwriter.File
			err   error
		)
		switch {
		case s.GetConfigMap() != nil && s.GetSecret() == nil && s.GetDownwardApi() == nil:
			cm := s.GetConfigMap()
			var data map[string][]byte
			data, err = configmap.Data(ctx, p.objects, ns, cm.GetName())
			if store.IsNotFound(err) && cm.GetOptional() {
				data, err = nil, nil
			}
			if err == nil {
				files, err = projection.Payload(fmt.Sprintf("configMap %s/%s", ns, cm.GetName()), data, cm.GetItems(), firstMode(cm.DefaultMode, src.DefaultMode), cm.GetOptional())
			}
		case s.GetSecret() != nil && s.GetConfigMap() == nil && s.GetDownwardApi() == nil:
			sec := s.GetSecret()
			var data map[string][]byte
			data, err = secret.Data(ctx, p.objects, ns, sec.GetSecretName())
			if store.IsNotFound(err) && sec.GetOptional() {
				data, err = nil, nil
			}
			if err == nil {
				files, err = projection.Payload(fmt.Sprintf("secret %s/%s", ns, sec.GetSecretName()), data, sec.GetItems(), firstMode(sec.DefaultMode, src.DefaultMode), sec.GetOptional())
			}
		case s.GetDownwardApi() != nil && s.GetConfigMap() == nil && s.GetSecret() == nil:
			d := s.GetDownwardApi()
			files, err = downwardapi.Payload(req.Pod, d.GetItems(), firstMode(d.DefaultMode, src.DefaultMode), p.allocatable)
		default:
			err = fmt.Errorf("exactly one of configMap, secret and downwardAPI is required: %w", volume.ErrInvalidSpec)
		}
		if err != nil {
			return nil, fmt.Errorf("projected volume %q: sources[%d]: %w", req.Spec.Name(), i, err)
		}
		for path, f := range files {
			if _, dup := out[path]; dup {
				return nil, fmt.Errorf("projected volume %q: sources[%d]: path %q projected twice: %w", req.Spec.Name(), i, path, volume.ErrInvalidSpec)
			}
			out[path] = f
		}
	}
	return out, nil
}

func firstMode(modes ...*int32) *int32 {
	for _, m := range modes {
		if m != nil {
			return m
		}
	}
	return nil
}

// TearDown unmounts the tmpfs and removes the directory.
func (p *Plugin) TearDown(ctx context.Context, dir string) error {
	if err := volume.UnmountAll(p.mounter, dir); err != nil {
		return fmt.Errorf("projected volume: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("projected volume: %w", err)
	}
	return nil
}
