package fake

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"sync"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/atomicwriter"
)

// Operations that FailNext can fail.
const (
	OpSetUp     = "SetUp"
	OpTearDown  = "TearDown"
	OpUpdate    = "Update"
	OpAttach    = "Attach"
	OpDetach    = "Detach"
	OpProvision = "Provision"
	OpDelete    = "Delete"
)

// Plugin is the in-memory plugin. The zero value is not usable: call New.
type Plugin struct {
	name string

	mu          sync.Mutex
	mounted     map[string]bool   // volume dir -> set up
	setUps      int               // successful SetUp calls
	attached    map[string]string // volume name -> node name
	provisioned map[string]*api.PersistentVolume
	failures    map[string][]error
}

var (
	_ volume.Updater     = (*Plugin)(nil)
	_ volume.Attacher    = (*Plugin)(nil)
	_ volume.Provisioner = (*Plugin)(nil)
	_ volume.Deleter     = (*Plugin)(nil)
)

// New returns a fake plugin named name; it supports flexVolume sources with
// driver == name.
func New(name string) *Plugin {
	return &Plugin{
		name:        name,
		mounted:     map[string]bool{},
		attached:    map[string]string{},
		provisioned: map[string]*api.PersistentVolume{},
		failures:    map[string][]error{},
	}
}

// Name returns the plugin's name.
func (p *Plugin) Name() string { return p.name }

// CanSupport reports whether spec is a flexVolume with this plugin's driver.
func (p *Plugin) CanSupport(spec *volume.Spec) bool {
	return flex(spec).GetDriver() == p.name && p.name != ""
}

func flex(spec *volume.Spec) *api.FlexVolumeSource {
	if spec == nil {
		return nil
	}
	if spec.Volume != nil {
		return spec.Volume.GetFlexVolume()
	}
	return spec.PersistentVolume.GetSpec().GetFlexVolume()
}

// FailNext makes the next call of op fail with err (calls queue up).
func (p *Plugin) FailNext(op string, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failures[op] = append(p.failures[op], err)
}

func (p *Plugin) injected(op string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	q := p.failures[op]
	if len(q) == 0 {
		return nil
	}
	p.failures[op] = q[1:]
	return q[0]
}

func (p *Plugin) payload(spec *volume.Spec) map[string]atomicwriter.File {
	out := map[string]atomicwriter.File{}
	for k, v := range flex(spec).GetOptions() {
		out[k] = atomicwriter.File{Data: []byte(v), Mode: 0o644}
	}
	return out
}

// SetUp writes the volume's options as files into req.Dir.
func (p *Plugin) SetUp(ctx context.Context, req volume.MountRequest) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if !p.CanSupport(req.Spec) {
		return "", fmt.Errorf("fake %q: volume %q: %w", p.name, req.Spec.Name(), volume.ErrNotSupported)
	}
	if err := p.injected(OpSetUp); err != nil {
		return "", err
	}
	if _, err := atomicwriter.Write(req.Dir, p.payload(req.Spec)); err != nil {
		return "", fmt.Errorf("fake %q: %w", p.name, err)
	}
	p.mu.Lock()
	p.mounted[req.Dir] = true
	p.setUps++
	p.mu.Unlock()
	return req.Dir, nil
}

// Update rewrites the options files atomically.
func (p *Plugin) Update(ctx context.Context, req volume.MountRequest) error {
	if err := p.injected(OpUpdate); err != nil {
		return err
	}
	if _, err := atomicwriter.Write(req.Dir, p.payload(req.Spec)); err != nil {
		return fmt.Errorf("fake %q: %w", p.name, err)
	}
	return nil
}

// TearDown removes dir.
func (p *Plugin) TearDown(ctx context.Context, dir string) error {
	if err := p.injected(OpTearDown); err != nil {
		return err
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("fake %q: %w", p.name, err)
	}
	p.mu.Lock()
	delete(p.mounted, dir)
	p.mu.Unlock()
	return nil
}

// Attach records that the volume is attached to node; attaching a volume
// attached elsewhere fails (the fake models single-attach storage).
func (p *Plugin) Attach(ctx context.Context, spec *volume.Spec, nodeName string) (string, error) {
	if err := p.injected(OpAttach); err != nil {
		return "", err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	name := spec.Name()
	if n, ok := p.attached[name]; ok && n != nodeName {
		return "", fmt.Errorf("fake %q: volume %q attached to node %q: %w", p.name, name, n, volume.ErrNotReady)
	}
	p.attached[name] = nodeName
	return "/dev/fake/" + name, nil
}

// Detach records that the volume left node. Detaching a volume that is not
// attached there succeeds.
func (p *Plugin) Detach(ctx context.Context, volumeName, nodeName string) error {
	if err := p.injected(OpDetach); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.attached[volumeName] == nodeName {
		delete(p.attached, volumeName)
	}
	return nil
}

// Provision returns a PersistentVolume with a flexVolume source of this
// driver, the claim's requested storage as capacity and the class's reclaim
// policy (Delete by default).
func (p *Plugin) Provision(ctx context.Context, req volume.ProvisionRequest) (*api.PersistentVolume, error) {
	if err := p.injected(OpProvision); err != nil {
		return nil, err
	}
	if req.VolumeName == "" {
		return nil, fmt.Errorf("fake %q: provision: empty volume name: %w", p.name, volume.ErrInvalidSpec)
	}
	policy := "Delete"
	if req.Class.GetReclaimPolicy() != "" {
		policy = req.Class.GetReclaimPolicy()
	}
	pv := &api.PersistentVolume{
		Metadata: &api.ObjectMeta{Name: req.VolumeName},
		Spec: &api.PersistentVolumeSpec{
			Capacity:                      map[string]string{"storage": req.Claim.GetSpec().GetResources().GetRequests()["storage"]},
			AccessModes:                   append([]string(nil), req.Claim.GetSpec().GetAccessModes()...),
			PersistentVolumeReclaimPolicy: policy,
			StorageClassName:              req.Class.GetMetadata().GetName(),
			FlexVolume:                    &api.FlexVolumeSource{Driver: p.name, Options: map[string]string{"volume": req.VolumeName}},
		},
	}
	p.mu.Lock()
	p.provisioned[req.VolumeName] = api.Clone(pv)
	p.mu.Unlock()
	return pv, nil
}

// Delete forgets a provisioned volume.
func (p *Plugin) Delete(ctx context.Context, pv *api.PersistentVolume) error {
	if err := p.injected(OpDelete); err != nil {
		return err
	}
	p.mu.Lock()
	delete(p.provisioned, pv.GetMetadata().GetName())
	p.mu.Unlock()
	return nil
}

// MountedDirs returns the volume directories currently set up, sorted.
func (p *Plugin) MountedDirs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.mounted))
	for d := range p.mounted {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// SetUpCount returns the number of successful SetUp calls.
func (p *Plugin) SetUpCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.setUps
}

// AttachedTo returns the node a volume is attached to, or "".
func (p *Plugin) AttachedTo(volumeName string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.attached[volumeName]
}

// Provisioned returns the names of the volumes provisioned and not deleted,
// sorted.
func (p *Plugin) Provisioned() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]string, 0, len(p.provisioned))
	for n := range p.provisioned {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
