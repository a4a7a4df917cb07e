package libcontainer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"time"

	"github.com/opencontainers/cgroups"
	cgmanager "github.com/opencontainers/cgroups/manager"
	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/runtime"
)

// sandboxRecord is a sandbox's stored state.
type sandboxRecord struct {
	Status runtime.SandboxStatus `json:"status"`
	// NS maps "net", "ipc", "uts" to the namespace files containers join.
	NS map[string]string `json:"ns"`
	// OwnNS lists the namespace files the runtime bind-mounted (and so
	// unmounts on removal).
	OwnNS []string `json:"ownNs"`
	// Cgroup is the pod cgroup path.
	Cgroup string `json:"cgroup"`
	// Files maps a path in every container (/etc/hosts, /etc/hostname,
	// /etc/resolv.conf) to the sandbox's file bind-mounted there.
	Files map[string]string `json:"files"`
}

func (r *Runtime) sandboxRecordPath(id string) string {
	return filepath.Join(r.sandboxDir(id), "sandbox.json")
}

func (r *Runtime) readSandbox(id string) (*sandboxRecord, error) {
	if !validID(id) {
		return nil, runtime.Errorf(runtime.ErrNotFound, "sandbox %q", id)
	}
	var rec sandboxRecord
	if err := readJSON(r.sandboxRecordPath(id), &rec); err != nil {
		return nil, notFound("sandbox", id, err)
	}
	return &rec, nil
}

// RunPodSandbox implements runtime.SandboxManager: it creates IPC and UTS
// namespaces (and a network namespace with loopback up, unless
// cfg.NetNSPath names one) as files under the sandbox's directory, and the
// pod cgroup.
func (r *Runtime) RunPodSandbox(ctx context.Context, cfg *runtime.SandboxConfig) (_ string, retErr error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if cfg == nil || cfg.Name == "" {
		return "", runtime.Errorf(runtime.ErrInvalid, "sandbox name required")
	}
	if cfg.NetNSPath != "" {
		if _, err := os.Stat(cfg.NetNSPath); err != nil {
			return "", runtime.Errorf(runtime.ErrInvalid, "network namespace %q: %v", cfg.NetNSPath, err)
		}
	}
	if cfg.CgroupParent != "" && !path.IsAbs(cfg.CgroupParent) {
		return "", runtime.Errorf(runtime.ErrInvalid, "cgroup parent %q is not absolute", cfg.CgroupParent)
	}
	id := newID()
	// Reserve the name: the check and the record's creation are atomic.
	r.sh.mu.Lock()
	existing, err := r.listSandboxes()
	if err != nil {
		r.sh.mu.Unlock()
		return "", err
	}
	for _, sb := range existing {
		st := sb.Status
		if st.Name == cfg.Name && st.Namespace == cfg.Namespace && st.UID == cfg.UID && st.Attempt == cfg.Attempt {
			r.sh.mu.Unlock()
			return "", runtime.Errorf(runtime.ErrAlreadyExists, "sandbox %s/%s attempt %d", cfg.Namespace, cfg.Name, cfg.Attempt)
		}
	}
	dir := r.sandboxDir(id)
	err = os.MkdirAll(filepath.Join(dir, "ns"), 0o700)
	r.sh.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	defer r.sh.lock(id)()

	parent := cfg.CgroupParent
	if parent == "" {
		parent = r.cfg.CgroupRoot
	}
	rec := &sandboxRecord{
		Status: runtime.SandboxStatus{
			ID: id, Name: cfg.Name, Namespace: cfg.Namespace, UID: cfg.UID, Attempt: cfg.Attempt,
			State: runtime.SandboxReady, CreatedAt: time.Now(),
			Labels: maps.Clone(cfg.Labels), Annotations: maps.Clone(cfg.Annotations),
		},
		NS:     map[string]string{},
		Cgroup: path.Join(parent, id),
	}
	defer func() {
		if retErr != nil {
			_ = r.removeSandboxResources(rec)
			_ = os.RemoveAll(dir)
		}
	}()
	hostname := cfg.Hostname
	if hostname == "" {
		hostname = cfg.Name
	}
	kinds := []string{"ipc", "uts"}
	if cfg.NetNSPath == "" {
		kinds = append(kinds, "net")
	} else {
		rec.NS["net"] = cfg.NetNSPath
	}
	for _, k := range kinds {
		rec.NS[k] = filepath.Join(dir, "ns", k)
	}
	// Record what will need undoing before creating it.
	for _, k := range kinds {
		rec.OwnNS = append(rec.OwnNS, rec.NS[k])
	}
	if err := newNamespaces(rec.NS, kinds, hostname); err != nil {
		return "", fmt.Errorf("sandbox namespaces: %w", err)
	}
	rec.Status.NetNSPath = rec.NS["net"]
	if rec.Files, err = writeSandboxFiles(dir, hostname, cfg); err != nil {
		return "", err
	}
	m, err := podCgroup(rec.Cgroup)
	if err != nil {
		return "", err
	}
	if err := m.Apply(-1); err != nil {
		return "", fmt.Errorf("pod cgroup %s: %w", rec.Cgroup, err)
	}
	if err := writeJSON(r.sandboxRecordPath(id), rec); err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	return id, nil
}

// writeSandboxFiles writes the hosts, hostname and resolv.conf files the
// sandbox's containers share, and returns where each is mounted.
func writeSandboxFiles(dir, hostname string, cfg *runtime.SandboxConfig) (map[string]string, error) {
	etc := filepath.Join(dir, "etc")
	if err := os.MkdirAll(etc, 0o755); err != nil {
		return nil, fmt.Errorf("sandbox files: %w", err)
	}
	var hosts strings.Builder
	hosts.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	for _, h := range cfg.Hosts {
		if _, err := netip.ParseAddr(h.IP); err != nil || len(h.Names) == 0 {
			return nil, runtime.Errorf(runtime.ErrInvalid, "hosts entry %q %v: needs an IP address and names", h.IP, h.Names)
		}
		fmt.Fprintf(&hosts, "%s\t%s\n", h.IP, strings.Join(h.Names, " "))
	}
	resolv := cfg.ResolvConf
	if len(resolv) == 0 {
		host, err := os.ReadFile("/etc/resolv.conf")
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("sandbox files: %w", err)
		}
		resolv = host
	}
	files := map[string][]byte{
		"hosts":       []byte(hosts.String()),
		"hostname":    []byte(hostname + "\n"),
		"resolv.conf": resolv,
	}
	out := map[string]string{}
	for name, data := range files {
		p := filepath.Join(etc, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, fmt.Errorf("sandbox files: %w", err)
		}
		out["/etc/"+name] = p
	}
	return out, nil
}

func podCgroup(p string) (cgroups.Manager, error) {
	m, err := cgmanager.New(&cgroups.Cgroup{Path: p, Resources: &cgroups.Resources{SkipDevices: true}})
	if err != nil {
		return nil, fmt.Errorf("pod cgroup %s: %w", p, err)
	}
	return m, nil
}

// newNamespaces creates the namespaces of kinds ("ipc", "uts", "net") on a
// dedicated OS thread and bind-mounts each to paths[kind]. The thread is
// never returned to the Go scheduler: it exits with its goroutine.
func newNamespaces(paths map[string]string, kinds []string, hostname string) error {
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread() // no Unlock: the thread dies with the goroutine
		errc <- func() error {
			flags := 0
			for _, k := range kinds {
				flags |= map[string]int{"ipc": unix.CLONE_NEWIPC, "uts": unix.CLONE_NEWUTS, "net": unix.CLONE_NEWNET}[k]
			}
			if err := unix.Unshare(flags); err != nil {
				return fmt.Errorf("unshare: %w", err)
			}
			if flags&unix.CLONE_NEWUTS != 0 {
				if err := unix.Sethostname([]byte(hostname)); err != nil {
					return fmt.Errorf("sethostname: %w", err)
				}
			}
			if flags&unix.CLONE_NEWNET != 0 {
				if err := loopbackUp(); err != nil {
					return err
				}
			}
			tid := unix.Gettid()
			for _, k := range kinds {
				f, err := os.OpenFile(paths[k], os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o400)
				if err != nil {
					return err
				}
				f.Close()
				src := fmt.Sprintf("/proc/self/task/%d/ns/%s", tid, k)
				if err := unix.Mount(src, paths[k], "", unix.MS_BIND, ""); err != nil {
					return fmt.Errorf("bind %s: %w", src, err)
				}
			}
			return nil
		}()
	}()
	return <-errc
}

// loopbackUp brings "lo" up in the calling thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}

// removeSandboxResources unmounts the sandbox's own namespaces and removes
// its cgroup.
func (r *Runtime) removeSandboxResources(rec *sandboxRecord) error {
	var errs []error
	for _, p := range rec.OwnNS {
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
	}
	if rec.Cgroup != "" {
		if m, err := podCgroup(rec.Cgroup); err != nil {
			errs = append(errs, err)
		} else if err := m.Destroy(); err != nil {
			errs = append(errs, fmt.Errorf("remove pod cgroup %s: %w", rec.Cgroup, err))
		}
	}
	return errors.Join(errs...)
}

// StopPodSandbox implements runtime.SandboxManager.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	if _, err := r.readSandbox(id); err != nil {
		return err
	}
	cs, err := r.ListContainers(ctx, &runtime.ContainerFilter{SandboxID: id})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := r.StopContainer(ctx, c.ID, 0); err != nil && !runtime.IsNotFound(err) {
			return err
		}
	}
	unlock := r.sh.lock(id)
	defer unlock()
	rec, err := r.readSandbox(id)
	if err != nil {
		return err
	}
	if rec.Status.State == runtime.SandboxNotReady {
		return nil
	}
	rec.Status.State = runtime.SandboxNotReady
	if err := writeJSON(r.sandboxRecordPath(id), rec); err != nil {
		return fmt.Errorf("sandbox %s: %w", id, err)
	}
	return nil
}

// RemovePodSandbox implements runtime.SandboxManager.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	if _, err := r.readSandbox(id); runtime.IsNotFound(err) {
		return nil
	}
	if err := r.StopPodSandbox(ctx, id); err != nil && !runtime.IsNotFound(err) {
		return err
	}
	cs, err := r.ListContainers(ctx, &runtime.ContainerFilter{SandboxID: id})
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := r.RemoveContainer(ctx, c.ID); err != nil {
			return err
		}
	}
	unlock := r.sh.lock(id)
	defer unlock()
	rec, err := r.readSandbox(id)
	if runtime.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := r.removeSandboxResources(rec); err != nil {
		return fmt.Errorf("sandbox %s: %w", id, err)
	}
	if err := os.RemoveAll(r.sandboxDir(id)); err != nil {
		return fmt.Errorf("sandbox %s: %w", id, err)
	}
	r.sh.mu.Lock()
	delete(r.sh.locks, id)
	r.sh.mu.Unlock()
	return nil
}

// PodSandboxStatus implements runtime.SandboxManager.
func (r *Runtime) PodSandboxStatus(ctx context.Context, id string) (*runtime.SandboxStatus, error) {
	rec, err := r.readSandbox(id)
	if err != nil {
		return nil, err
	}
	return &rec.Status, nil
}

func (r *Runtime) listSandboxes() ([]*sandboxRecord, error) {
	ids, err := r.listIDs("sandboxes")
	if err != nil {
		return nil, err
	}
	var out []*sandboxRecord
	for _, id := range ids {
		rec, err := r.readSandbox(id)
		if runtime.IsNotFound(err) {
			continue // being created or removed
		}
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// ListPodSandboxes implements runtime.SandboxManager.
func (r *Runtime) ListPodSandboxes(ctx context.Context, filter *runtime.SandboxFilter) ([]*runtime.SandboxStatus, error) {
	recs, err := r.listSandboxes()
	if err != nil {
		return nil, err
	}
	var out []*runtime.SandboxStatus
	for _, rec := range recs {
		if filter.Matches(&rec.Status) {
			out = append(out, &rec.Status)
		}
	}
	slices.SortFunc(out, func(a, b *runtime.SandboxStatus) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}
