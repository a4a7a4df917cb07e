package secret

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
const PluginName = "secret"

// Plugin is the secret plugin.
type Plugin struct {
	objects volume.ObjectGetter
	mounter volume.OSMounter
}

var _ volume.Updater = (*Plugin)(nil)

// New returns the plugin reading Secrets through objects (a store.Store) and
// mounting tmpfs through m (volume.Linux{} on a node).
func New(objects volume.ObjectGetter, m volume.OSMounter) *Plugin {
	return &Plugin{objects: objects, mounter: m}
}

// Name returns "secret".
func (*Plugin) Name() string { return PluginName }

// CanSupport reports whether spec is a secret pod volume.
func (*Plugin) CanSupport(spec *volume.Spec) bool {
	return spec != nil && spec.Volume.GetSecret() != nil
}

// SetUp mounts a tmpfs at req.Dir (once) and projects the Secret into it.
func (p *Plugin) SetUp(ctx context.Context, req volume.MountRequest) (string, error) {
	// Read the Secret first: nothing is created for a volume that cannot be
	// set up.
	payload, err := p.payload(ctx, req)
	if err != nil {
		return "", err
	}
	if err := volume.EnsureTmpfs(p.mounter, req.Dir, "mode=0755"); err != nil {
		return "", fmt.Errorf("secret volume %q: %w", req.Spec.Name(), err)
	}
	if err := p.write(req, payload); err != nil {
		return "", err
	}
	return req.Dir, nil
}

// Update re-reads the Secret and swaps the projected files if they changed.
// It refuses to write unless req.Dir is a tmpfs.
func (p *Plugin) Update(ctx context.Context, req volume.MountRequest) error {
	payload, err := p.payload(ctx, req)
	if err != nil {
		return err
	}
	return p.write(req, payload)
}

func (p *Plugin) write(req volume.MountRequest, payload map[string]atomicwriter.File) error {
	// Never write secret data anywhere but a tmpfs.
	fsType, err := volume.FSType(req.Dir)
	if err != nil {
		return fmt.Errorf("secret volume %q: %w", req.Spec.Name(), err)
	}
	if fsType != volume.FSTmpfs {
		return fmt.Errorf("secret volume %q: %s is not on tmpfs, refusing to write secret data: %w", req.Spec.Name(), req.Dir, volume.ErrNotReady)
	}
	if _, err := atomicwriter.Write(req.Dir, payload); err != nil {
		return fmt.Errorf("secret volume %q: %w", req.Spec.Name(), err)
	}
	return nil
}

func (p *Plugin) payload(ctx context.Context, req volume.MountRequest) (map[string]atomicwriter.File, error) {
	src := req.Spec.Volume.GetSecret()
	if src == nil {
		return nil, fmt.Errorf("secret volume %q: %w", req.Spec.Name(), volume.ErrNotSupported)
	}
	ns := req.Pod.GetMetadata().GetNamespace()
	data, err := Data(ctx, p.objects, ns, src.GetSecretName())
	if err != nil {
		if store.IsNotFound(err) && src.GetOptional() {
			data = nil
		} else {
			return nil, fmt.Errorf("secret volume %q: %w", req.Spec.Name(), err)
		}
	}
	return projection.Payload(fmt.Sprintf("secret %s/%s", ns, src.GetSecretName()), data, src.GetItems(), src.DefaultMode, src.GetOptional())
}

// Data returns a Secret's data, with stringData merged over it (as the API
// server does on write).
func Data(ctx context.Context, objects volume.ObjectGetter, namespace, name string) (map[string][]byte, error) {
	obj, err := objects.Get(ctx, api.KindSecret, namespace, name)
	if err != nil {
		return nil, fmt.Errorf("secret %s/%s: %w", namespace, name, err)
	}
	s, ok := obj.(*api.Secret)
	if !ok {
		return nil, fmt.Errorf("secret %s/%s: got %T: %w", namespace, name, obj, store.ErrInvalid)
	}
	out := make(map[string][]byte, len(s.GetData())+len(s.GetStringData()))
	for k, v := range s.GetData() {
		out[k] = v
	}
	for k, v := range s.GetStringData() {
		out[k] = []byte(v)
	}
	return out, nil
}

// TearDown unmounts the tmpfs and removes the directory.
func (p *Plugin) TearDown(ctx context.Context, dir string) error {
	if err := volume.UnmountAll(p.mounter, dir); err != nil {
		return fmt.Errorf("secret volume: %w", err)
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("secret volume: %w", err)
	}
	return nil
}
