package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/resource"
	"github.com/coxswain-io/coxswain/volume"
)

// DefaultName is the provisioner name StorageClasses refer to.
const DefaultName = "coxswain.io/local"

// AnnotationProvisionedBy marks volumes a provisioner created; Delete and
// Recycle act only on volumes carrying their provisioner's name.
const AnnotationProvisionedBy = "pv.coxswain.io/provisioned-by"

// HostnameLabel is the node label the volumes' node affinity uses.
const HostnameLabel = "kubernetes.io/hostname"

// Config configures a Provisioner.
type Config struct {
	// Name is the provisioner's name (DefaultName if empty).
	Name string
	// BaseDir holds one directory per volume; absolute, created if missing.
	BaseDir string
	// NodeName is the node whose disk BaseDir is; volumes get a node
	// affinity to it.
	NodeName string
	// Filesystem is "" for plain directories (capacity not enforced) or
	// "ext4" for an ext4 image per volume, loop-mounted at the volume's
	// directory, so the claim's size is a hard limit. ext4 needs root,
	// /dev/loop-control and mkfs.ext4.
	Filesystem string
	// Mounter mounts the ext4 images (volume.Linux{} if nil).
	Mounter volume.OSMounter
}

// Validate checks the config and fills in defaults.
func (c *Config) Validate() error {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if !filepath.IsAbs(c.BaseDir) {
		return fmt.Errorf("local provisioner: baseDir %q must be absolute: %w", c.BaseDir, volume.ErrInvalidSpec)
	}
	if c.NodeName == "" {
		return fmt.Errorf("local provisioner: nodeName is required: %w", volume.ErrInvalidSpec)
	}
	switch c.Filesystem {
	case "", FilesystemExt4:
	default:
		return fmt.Errorf("local provisioner: filesystem %q: want \"\" or ext4: %w", c.Filesystem, volume.ErrInvalidSpec)
	}
	if c.Mounter == nil {
		c.Mounter = volume.Linux{}
	}
	return nil
}

// Provisioner is the local provisioner.
type Provisioner struct {
	cfg Config
}

var (
	_ volume.Provisioner = (*Provisioner)(nil)
	_ volume.Deleter     = (*Provisioner)(nil)
	_ volume.Recycler    = (*Provisioner)(nil)
)

// New returns a provisioner for cfg, creating the base directory.
func New(cfg Config) (*Provisioner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.BaseDir = filepath.Clean(cfg.BaseDir)
	if err := os.MkdirAll(cfg.BaseDir, 0o755); err != nil {
		return nil, fmt.Errorf("local provisioner: %w", err)
	}
	return &Provisioner{cfg: cfg}, nil
}

// Name returns the provisioner's name.
func (p *Provisioner) Name() string { return p.cfg.Name }

// CanSupport reports whether spec is a PersistentVolume this provisioner
// created.
func (p *Provisioner) CanSupport(spec *volume.Spec) bool {
	return spec != nil && spec.PersistentVolume != nil &&
		spec.PersistentVolume.GetMetadata().GetAnnotations()[AnnotationProvisionedBy] == p.cfg.Name
}

// Provision creates the directory for req.VolumeName (reusing it if a
// previous attempt created it) and returns its PersistentVolume.
func (p *Provisioner) Provision(ctx context.Context, req volume.ProvisionRequest) (*api.PersistentVolume, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name := req.VolumeName
	if name == "" || strings.ContainsAny(name, "/\x00") || name == "." || name == ".." {
		return nil, fmt.Errorf("local provisioner: volume name %q: %w", name, volume.ErrInvalidSpec)
	}
	if p.cfg.Filesystem == FilesystemExt4 && (strings.HasSuffix(name, ".img") || strings.HasSuffix(name, ".tmp")) {
		return nil, fmt.Errorf("local provisioner: volume name %q: .img and .tmp are reserved: %w", name, volume.ErrInvalidSpec)
	}
	if cp := req.Class.GetProvisioner(); cp != "" && cp != p.cfg.Name {
		return nil, fmt.Errorf("local provisioner %q: class %q names provisioner %q: %w", p.cfg.Name, req.Class.GetMetadata().GetName(), cp, volume.ErrInvalidSpec)
	}
	size := req.Claim.GetSpec().GetResources().GetRequests()["storage"]
	q, err := resource.ParseQuantity(size)
	if err != nil || q.Sign() <= 0 {
		return nil, fmt.Errorf("local provisioner: claim %s/%s: storage request %q must be a positive quantity: %w",
			req.Claim.GetMetadata().GetNamespace(), req.Claim.GetMetadata().GetName(), size, volume.ErrInvalidSpec)
	}
	modes := req.Claim.GetSpec().GetAccessModes()
	for _, m := range modes {
		if m == "ReadWriteMany" || m == "ReadOnlyMany" {
			return nil, fmt.Errorf("local provisioner: access mode %s: a local volume is on one node: %w", m, volume.ErrNotSupported)
		}
	}
	if len(modes) == 0 {
		modes = []string{"ReadWriteOnce"}
	}
	dir := filepath.Join(p.cfg.BaseDir, name)
	if p.cfg.Filesystem == FilesystemExt4 {
		if err := p.provisionExt4(ctx, dir, q.Value()); err != nil {
			return nil, fmt.Errorf("local provisioner: %s: %w", name, err)
		}
	} else if err := os.Mkdir(dir, 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("local provisioner: %w", err)
	}
	// World-writable, like an emptyDir, so any container user can write.
	if err := os.Chmod(dir, 0o777); err != nil {
		return nil, fmt.Errorf("local provisioner: %w", err)
	}
	policy := "Delete"
	if rp := req.Class.GetReclaimPolicy(); rp != "" {
		policy = rp
	}
	return &api.PersistentVolume{
		Metadata: &api.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{AnnotationProvisionedBy: p.cfg.Name},
		},
		Spec: &api.PersistentVolumeSpec{
			Capacity:                      map[string]string{"storage": q.String()},
			AccessModes:                   append([]string(nil), modes...),
			PersistentVolumeReclaimPolicy: policy,
			StorageClassName:              req.Class.GetMetadata().GetName(),
			MountOptions:                  append([]string(nil), req.Class.GetMountOptions()...),
			Local:                         &api.LocalVolumeSource{Path: dir, FsType: p.cfg.Filesystem},
			NodeAffinity: &api.VolumeNodeAffinity{Required: &api.NodeSelector{NodeSelectorTerms: []*api.NodeSelectorTerm{{
				MatchExpressions: []*api.NodeSelectorRequirement{{Key: HostnameLabel, Operator: "In", Values: []string{p.cfg.NodeName}}},
			}}}},
		},
	}, nil
}

// dirOf returns the directory of a volume this provisioner created, after
// checking it is one and that its path lies directly under the base dir.
func (p *Provisioner) dirOf(pv *api.PersistentVolume) (string, error) {
	if !p.CanSupport(volume.SpecFromPersistentVolume(pv, false)) {
		return "", fmt.Errorf("local provisioner %q: volume %s was not provisioned by it: %w", p.cfg.Name, pv.GetMetadata().GetName(), volume.ErrNotSupported)
	}
	dir := filepath.Clean(pv.GetSpec().GetLocal().GetPath())
	if filepath.Dir(dir) != p.cfg.BaseDir || dir == p.cfg.BaseDir {
		return "", fmt.Errorf("local provisioner: volume %s path %q is not under %s: %w", pv.GetMetadata().GetName(), dir, p.cfg.BaseDir, volume.ErrInvalidSpec)
	}
	return dir, nil
}

// Delete removes the volume's directory and everything in it.
func (p *Provisioner) Delete(ctx context.Context, pv *api.PersistentVolume) error {
	dir, err := p.dirOf(pv)
	if err != nil {
		return err
	}
	if p.cfg.Filesystem == FilesystemExt4 {
		if err := p.deleteExt4(dir); err != nil {
			return fmt.Errorf("local provisioner: delete %s: %w", pv.GetMetadata().GetName(), err)
		}
		return nil
	}
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("local provisioner: delete %s: %w", pv.GetMetadata().GetName(), err)
	}
	return nil
}

// Recycle empties the volume's directory, keeping the directory.
func (p *Provisioner) Recycle(ctx context.Context, pv *api.PersistentVolume) error {
	dir, err := p.dirOf(pv)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("local provisioner: recycle %s: %w", pv.GetMetadata().GetName(), err)
	}
	for _, e := range entries {
		if p.cfg.Filesystem == FilesystemExt4 && e.Name() == "lost+found" {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("local provisioner: recycle %s: %w", pv.GetMetadata().GetName(), err)
		}
	}
	return nil
}
