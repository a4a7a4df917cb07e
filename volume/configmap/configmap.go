package configmap

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/atomicwriter"
	"github.com/coxswain-io/coxswain/volume/projection"
)

// PluginName is the plugin's name.
const PluginName = "config-map"

// Plugin is the configMap plugin.
type Plugin struct {
	objects volume.ObjectGetter
}

var _ volume.Updater = (*Plugin)(nil)

// New returns the plugin reading ConfigMaps through objects (a store.Store).
func New(objects volume.ObjectGetter) *Plugin { return &Plugin{objects: objects} }

// Name returns "config-map".
func (*Plugin) Name() string { return PluginName }

// CanSupport reports whether spec is a configMap pod volume.
func (*Plugin) CanSupport(spec *volume.Spec) bool {
	return spec != nil && spec.Volume.GetConfigMap() != nil
}

// SetUp projects the ConfigMap into req.Dir.
func (p *Plugin) SetUp(ctx context.Context, req volume.MountRequest) (string, error) {
	if err := p.Update(ctx, req); err != nil {
		return "", err
	}
	return req.Dir, nil
}

// Update re-reads the ConfigMap and swaps the projected files if they
// changed.
func (p *Plugin) Update(ctx context.Context, req volume.MountRequest) error {
	payload, err := p.payload(ctx, req)
	if err != nil {
		return err
	}
	if _, err := atomicwriter.Write(req.Dir, payload); err != nil {
		return fmt.Errorf("configMap volume %q: %w", req.Spec.Name(), err)
	}
	return nil
}

func (p *Plugin) payload(ctx context.Context, req volume.MountRequest) (map[string]atomicwriter.File, error) {
	src := req.Spec.Volume.GetConfigMap()
	if src == nil {
		return nil, fmt.Errorf("configMap volume %q: %w", req.Spec.Name(), volume.ErrNotSupported)
	}
	ns := req.Pod.GetMetadata().GetNamespace()
	source := fmt.Sprintf("configMap %s/%s", ns, src.GetName())
	data, err := Data(ctx, p.objects, ns, src.GetName())
	if err != nil {
		if store.IsNotFound(err) && src.GetOptional() {
			data = nil
		} else {
			return nil, fmt.Errorf("configMap volume %q: %w", req.Spec.Name(), err)
		}
	}
	return projection.Payload(source, data, src.GetItems(), src.DefaultMode, src.GetOptional())
}

// Data returns a ConfigMap's data and binaryData merged into one map.
func Data(ctx context.Context, objects volume.ObjectGetter, namespace, name string) (map[string][]byte, error) {
	obj, err := objects.Get(ctx, api.KindConfigMap, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("configMap %s/%s: %w", namespace, name, err)
	}
	cm, ok := obj.(*api.ConfigMap)
	if !ok {
		return nil, fmt.Errorf("configMap %s/%s: got %T: %w", namespace, name, obj, store.ErrInvalid)
	}
	out := make(map[string][]byte, len(cm.GetData())+len(cm.GetBinaryData()))
	for k, v := range cm.GetData() {
		out[k] = []byte(v)
	}
	for k, v := range cm.GetBinaryData() {
		out[k] = v
	}
	return out, nil
}

// TearDown removes the projected files.
func (*Plugin) TearDown(ctx context.Context, dir string) error {
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("configMap volume: %w", err)
	}
	return nil
}
