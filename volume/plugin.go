package volume

import (
	"context"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// Plugin is the base every volume plugin implements. Plugins are safe for
// concurrent use; per-call state travels in the request, not in the plugin.
type Plugin interface {
	// Name is the plugin's unique name, e.g. "empty-dir" or
	// "coxswain.io/local". Escaped ('/' -> '~') it is also the directory
	// under <podDir>/volumes holding the plugin's volumes.
	Name() string
	// CanSupport reports whether the plugin handles spec.
	CanSupport(spec *Spec) bool
}

// Spec is the volume a plugin works on: a pod's volume or a
// PersistentVolume (exactly one is set).
type Spec struct {
	Volume           *api.Volume
	PersistentVolume *api.PersistentVolume
	// ReadOnly asks for a read-only mount where the plugin supports it.
	ReadOnly bool
}

// Name returns the name of the volume.
func (s *Spec) Name() string {
	switch {
	case s == nil:
		return ""
	case s.Volume != nil:
		return s.Volume.GetName()
	default:
		return s.PersistentVolume.GetMetadata().GetName()
	}
}

// SpecFromVolume returns the Spec of a pod's volume.
func SpecFromVolume(v *api.Volume) *Spec { return &Spec{Volume: v} }

// SpecFromPersistentVolume returns the Spec of a PersistentVolume.
func SpecFromPersistentVolume(pv *api.PersistentVolume, readOnly bool) *Spec {
	return &Spec{PersistentVolume: pv, ReadOnly: readOnly}
}

// MountRequest asks a Mounter to set a volume up for a pod.
type MountRequest struct {
	// Pod owns the volume; plugins read its namespace (for ConfigMaps,
	// Secrets and claims) and, for the downward API, its fields.
	Pod *api.Pod
	// Spec is the volume.
	Spec *Spec
	// Dir is the volume's own directory, <podDir>/volumes/<plugin>/<name>.
	// The plugin creates it if it needs it.
	Dir string
}

// Mounter sets a volume up in a pod's directory and tears it down.
//
// SetUp is idempotent: calling it again for a volume already set up leaves
// it set up (and refreshes projected content). It returns the host path the
// containers mount: Dir for most plugins, the host's path for hostPath.
//
// TearDown needs only the directory, so volumes of a pod whose spec is gone
// can be cleaned up; it unmounts what SetUp mounted and removes dir. Tearing
// down a volume that is not set up succeeds.
type Mounter interface {
	Plugin
	SetUp(ctx context.Context, req MountRequest) (string, error)
	TearDown(ctx context.Context, dir string) error
}

// Updater refreshes a volume's projected content after its source changed
// (a ConfigMap or Secret update, new pod labels). The update is atomic: a
// reader sees the whole old set of files or the whole new one.
type Updater interface {
	Mounter
	Update(ctx context.Context, req MountRequest) error
}

// Attacher attaches a volume to a node before it can be mounted there, and
// detaches it afterwards. Attach returns the device path on the node.
type Attacher interface {
	Plugin
	Attach(ctx context.Context, spec *Spec, nodeName string) (devicePath string, err error)
	Detach(ctx context.Context, volumeName, nodeName string) error
}

// ProvisionRequest asks a Provisioner for a volume for a claim.
type ProvisionRequest struct {
	// Claim is the claim to satisfy (its size, access modes, selector).
	Claim *api.PersistentVolumeClaim
	// Class is the claim's StorageClass (its parameters, reclaim policy).
	Class *api.StorageClass
	// VolumeName is the name the new PersistentVolume must have.
	VolumeName string
}

// Provisioner creates storage for a claim and returns the PersistentVolume
// describing it (not yet stored: the caller creates it).
type Provisioner interface {
	Plugin
	Provision(ctx context.Context, req ProvisionRequest) (*api.PersistentVolume, error)
}

// Deleter deletes the storage of a released PersistentVolume with reclaim
// policy Delete. Deleting storage that is already gone succeeds.
type Deleter interface {
	Plugin
	Delete(ctx context.Context, pv *api.PersistentVolume) error
}

// Recycler scrubs a released PersistentVolume so it can be bound again.
type Recycler interface {
	Plugin
	Recycle(ctx context.Context, pv *api.PersistentVolume) error
}

// ObjectGetter reads objects by kind, namespace and name. store.Store
// satisfies it; plugins take it instead of the whole store.
type ObjectGetter interface {
	Get(ctx context.Context, kind, namespace, name string, opts ...store.ReadOption) (api.Object, error)
}

// OSMounter makes kernel mounts. Linux is the real one; tests of code that
// only needs to observe mounts may substitute their own.
type OSMounter interface {
	// Mount mounts source on target (see mount(2)).
	Mount(source, target, fstype string, flags uintptr, data string) error
	// Unmount unmounts target.
	Unmount(target string) error
	// IsMountPoint reports whether path is a mount point.
	IsMountPoint(path string) (bool, error)
}
