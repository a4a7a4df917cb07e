package volume

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/coxswain-io/coxswain/api"
)

// Registry holds the volume plugins of a node (or of a controller) and picks
// the plugin for a volume. It is safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	plugins map[string]Plugin
	order   []string // registration order, for stable error messages
	log     *slog.Logger
}

// NewRegistry returns an empty registry. A nil logger discards logs.
func NewRegistry(log *slog.Logger) *Registry {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{plugins: map[string]Plugin{}, log: log}
}

// Register adds p. It fails with ErrDuplicate if a plugin of the same name is
// registered, and ErrInvalidSpec if the name is empty or has a '~', a '\0'
// or a "." / ".." element.
func (r *Registry) Register(p Plugin) error {
	name := p.Name()
	if !validName(name) {
		return fmt.Errorf("register plugin %q: name must be non-empty, without '~', NUL or dot elements: %w", name, ErrInvalidSpec)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.plugins[name]; ok {
		return fmt.Errorf("register plugin %q: %w", name, ErrDuplicate)
	}
	r.plugins[name] = p
	r.order = append(r.order, name)
	return nil
}

// Plugin returns the plugin named name, or an ErrNoPlugin error.
func (r *Registry) Plugin(name string) (Plugin, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	p, ok := r.plugins[name]
	if !ok {
		return nil, fmt.Errorf("plugin %q: %w", name, ErrNoPlugin)
	}
	return p, nil
}

// Plugins returns the registered plugins in registration order.
func (r *Registry) Plugins() []Plugin {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]Plugin, 0, len(r.order))
	for _, n := range r.order {
		out = append(out, r.plugins[n])
	}
	return out
}

// Find returns the one plugin that supports spec. It fails with ErrNoPlugin
// if none does and ErrInvalidSpec if several do (the spec names more than
// one source).
func (r *Registry) Find(spec *Spec) (Plugin, error) {
	var found []Plugin
	for _, p := range r.Plugins() {
		if p.CanSupport(spec) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("volume %q: %w", spec.Name(), ErrNoPlugin)
	case 1:
		return found[0], nil
	default:
		names := make([]string, len(found))
		for i, p := range found {
			names[i] = p.Name()
		}
		return nil, fmt.Errorf("volume %q: supported by several plugins (%s): %w", spec.Name(), strings.Join(names, ", "), ErrInvalidSpec)
	}
}

// FindMounter returns the Mounter for spec.
func (r *Registry) FindMounter(spec *Spec) (Mounter, error) {
	p, err := r.Find(spec)
	if err != nil {
		return nil, err
	}
	m, ok := p.(Mounter)
	if !ok {
		return nil, fmt.Errorf("volume %q: plugin %q cannot mount: %w", spec.Name(), p.Name(), ErrNotSupported)
	}
	return m, nil
}

// FindProvisioner returns the Provisioner named by a StorageClass's
// provisioner field.
func (r *Registry) FindProvisioner(name string) (Provisioner, error) {
	p, err := r.Plugin(name)
	if err != nil {
		return nil, err
	}
	pr, ok := p.(Provisioner)
	if !ok {
		return nil, fmt.Errorf("plugin %q cannot provision: %w", name, ErrNotSupported)
	}
	return pr, nil
}

func validName(name string) bool {
	if name == "" || strings.ContainsAny(name, "~\x00") {
		return false
	}
	for _, el := range strings.Split(name, "/") {
		if el == "" || el == "." || el == ".." {
			return false
		}
	}
	return true
}

// EscapePluginName turns a plugin name into one path element: '/' becomes
// '~' ("coxswain.io/local" -> "coxswain.io~local").
func EscapePluginName(name string) string { return strings.ReplaceAll(name, "/", "~") }

// UnescapePluginName reverses EscapePluginName.
func UnescapePluginName(dir string) string { return strings.ReplaceAll(dir, "~", "/") }

// VolumeDir returns the directory of a pod's volume handled by plugin:
// <podDir>/volumes/<escaped plugin name>/<volume name>.
func VolumeDir(podDir, plugin, volume string) string {
	return filepath.Join(podDir, "volumes", EscapePluginName(plugin), volume)
}

// SetUpPod sets up every volume of pod under podDir and returns the host
// path of each by volume name; the agent bind-mounts these into the
// containers. On error, the volumes set up so far stay set up (SetUp is
// idempotent: the caller retries, or calls TearDownPod).
func (r *Registry) SetUpPod(ctx context.Context, pod *api.Pod, podDir string) (map[string]string, error) {
	paths := make(map[string]string, len(pod.GetSpec().GetVolumes()))
	for _, v := range pod.GetSpec().GetVolumes() {
		spec := SpecFromVolume(v)
		m, err := r.FindMounter(spec)
		if err != nil {
			return paths, fmt.Errorf("pod %s/%s: %w", pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName(), err)
		}
		dir := VolumeDir(podDir, m.Name(), v.GetName())
		path, err := m.SetUp(ctx, MountRequest{Pod: pod, Spec: spec, Dir: dir})
		if err != nil {
			return paths, fmt.Errorf("pod %s/%s: set up volume %q: %w", pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName(), v.GetName(), err)
		}
		r.log.DebugContext(ctx, "volume set up", "pod", pod.GetMetadata().GetName(), "volume", v.GetName(), "plugin", m.Name(), "path", path)
		paths[v.GetName()] = path
	}
	return paths, nil
}

// UpdatePod refreshes the projected content of every volume of pod whose
// plugin is an Updater (configMap, secret, downwardAPI). The agent calls it
// when a ConfigMap or Secret the pod uses changes, or periodically. It tries
// every volume and returns the errors joined.
func (r *Registry) UpdatePod(ctx context.Context, pod *api.Pod, podDir string) error {
	var errs []error
	for _, v := range pod.GetSpec().GetVolumes() {
		spec := SpecFromVolume(v)
		p, err := r.Find(spec)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		u, ok := p.(Updater)
		if !ok {
			continue
		}
		if err := u.Update(ctx, MountRequest{Pod: pod, Spec: spec, Dir: VolumeDir(podDir, u.Name(), v.GetName())}); err != nil {
			errs = append(errs, fmt.Errorf("update volume %q: %w", v.GetName(), err))
		}
	}
	return errors.Join(errs...)
}

// TearDownPod tears down every volume found under podDir/volumes, whatever
// the pod's spec says now, and removes the volumes directory. A volume
// whose plugin is not registered is left in place and reported.
func (r *Registry) TearDownPod(ctx context.Context, podDir string) error {
	root := filepath.Join(podDir, "volumes")
	pluginDirs, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tear down volumes: %w", err)
	}
	var errs []error
	for _, pd := range pluginDirs {
		p, err := r.Plugin(UnescapePluginName(pd.Name()))
		if err != nil {
			errs = append(errs, fmt.Errorf("tear down %s: %w", filepath.Join(root, pd.Name()), err))
			continue
		}
		m, ok := p.(Mounter)
		if !ok {
			errs = append(errs, fmt.Errorf("tear down %s: plugin %q cannot unmount: %w", pd.Name(), p.Name(), ErrNotSupported))
			continue
		}
		vols, err := os.ReadDir(filepath.Join(root, pd.Name()))
		if err != nil {
			errs = append(errs, fmt.Errorf("tear down volumes: %w", err))
			continue
		}
		names := make([]string, 0, len(vols))
		for _, v := range vols {
			// Dot entries are plugins' own bookkeeping, not volumes
			// (volume names are DNS labels and never start with '.').
			if !strings.HasPrefix(v.Name(), ".") {
				names = append(names, v.Name())
			}
		}
		sort.Strings(names)
		for _, n := range names {
			if err := m.TearDown(ctx, filepath.Join(root, pd.Name(), n)); err != nil {
				errs = append(errs, fmt.Errorf("tear down volume %q: %w", n, err))
			}
		}
		if err := os.Remove(filepath.Join(root, pd.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("tear down volumes: %w", err))
		}
	}
	if len(errs) == 0 {
		if err := os.Remove(root); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("tear down volumes: %w", err))
		}
	}
	return errors.Join(errs...)
}
