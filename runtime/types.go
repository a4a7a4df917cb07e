package runtime

import (
	"io"
	"time"
)

// SandboxConfig describes a pod sandbox.
type SandboxConfig struct {
	// Name, Namespace and UID identify the pod; Attempt counts re-creations
	// of the sandbox for the same pod.
	Name      string
	Namespace string
	UID       string
	Attempt   uint32
	// Hostname is the UTS hostname the pod's containers see (default: Name).
	Hostname string
	// NetNSPath is a network namespace the caller created (for example with
	// CNI); the sandbox joins it and does not remove it. Empty: the runtime
	// creates a network namespace with only the loopback interface up and
	// removes it with the sandbox.
	NetNSPath string
	// CgroupParent is the cgroup the pod's cgroup nests under (default: the
	// runtime's own root).
	CgroupParent string
	// ResolvConf is the content of the pod's /etc/resolv.conf (for example
	// from network/dns.ResolvConf). Empty: a copy of the host's.
	ResolvConf []byte
	// Hosts are /etc/hosts entries added after the localhost ones (for
	// example the pod's IP with its hostname).
	Hosts []HostEntry
	// Labels identify what owns the sandbox; Annotations carry data.
	Labels      map[string]string
	Annotations map[string]string
}

// HostEntry is one /etc/hosts line.
type HostEntry struct {
	IP    string
	Names []string
}

// SandboxState is a sandbox's state.
type SandboxState string

// The sandbox states.
const (
	SandboxReady    SandboxState = "Ready"
	SandboxNotReady SandboxState = "NotReady"
)

// SandboxStatus is what a runtime reports about a sandbox.
type SandboxStatus struct {
	ID        string
	Name      string
	Namespace string
	UID       string
	Attempt   uint32
	State     SandboxState
	CreatedAt time.Time
	// NetNSPath is the network namespace the sandbox's containers join.
	NetNSPath   string
	Labels      map[string]string
	Annotations map[string]string
}

// SandboxFilter selects sandboxes. Zero fields match everything; Labels must
// all be present with equal values.
type SandboxFilter struct {
	ID     string
	State  SandboxState
	Labels map[string]string
}

// Matches reports whether s passes the filter; a nil filter matches all.
func (f *SandboxFilter) Matches(s *SandboxStatus) bool {
	if f == nil {
		return true
	}
	return (f.ID == "" || f.ID == s.ID) &&
		(f.State == "" || f.State == s.State) &&
		labelsMatch(f.Labels, s.Labels)
}

// ContainerConfig describes a container.
type ContainerConfig struct {
	// Name is the container's name in the pod; Attempt counts restarts.
	Name    string
	Attempt uint32
	// Image is a reference present in the runtime's image store.
	Image string
	// Command overrides the image's entrypoint and Args its cmd, with the
	// Kubernetes rules (see ResolveCommand).
	Command []string
	Args    []string
	// Env is added to (and overrides) the image's environment.
	Env []EnvVar
	// WorkingDir overrides the image's working directory.
	WorkingDir string
	// Mounts are bind mounts from the host (volumes).
	Mounts []Mount
	// Resources are the cgroup limits.
	Resources Resources
	// Security is the process's identity and privileges.
	Security SecurityConfig
	// Labels identify what owns the container; Annotations carry data.
	Labels      map[string]string
	Annotations map[string]string
}

// EnvVar is one environment variable.
type EnvVar struct {
	Name  string
	Value string
}

// Mount is a bind mount of a host path into the container.
type Mount struct {
	HostPath      string
	ContainerPath string
	ReadOnly      bool
}

// Resources are a container's cgroup limits; zero values mean unlimited or
// the runtime's default.
type Resources struct {
	// CPUShares is the relative CPU weight (cgroup v1 cpu.shares; 1024 is
	// one CPU). Kubernetes derives it from the CPU request.
	CPUShares uint64
	// CPUQuota and CPUPeriod (microseconds) cap CPU time: quota/period
	// CPUs. Kubernetes derives them from the CPU limit.
	CPUQuota  int64
	CPUPeriod uint64
	// MemoryLimit is the memory limit in bytes.
	MemoryLimit int64
	// PidsLimit caps the number of processes (0: the runtime's default).
	PidsLimit int64
}

// SecurityConfig is a container's identity and privileges.
type SecurityConfig struct {
	// RunAsUser and RunAsGroup override the image's user when set.
	RunAsUser  *int64
	RunAsGroup *int64
	// ReadOnlyRootfs mounts the root filesystem read-only.
	ReadOnlyRootfs bool
	// AddCapabilities are added to the runtime's small default set;
	// DropCapabilities are removed from it ("ALL" drops every one).
	AddCapabilities  []string
	DropCapabilities []string
	// AllowPrivilegeEscalation clears no_new_privs (set by default).
	AllowPrivilegeEscalation bool
}

// ContainerState is a container's state.
type ContainerState string

// The container states.
const (
	ContainerCreated ContainerState = "Created"
	ContainerRunning ContainerState = "Running"
	ContainerExited  ContainerState = "Exited"
	ContainerUnknown ContainerState = "Unknown"
)

// ContainerStatus is what a runtime reports about a container.
type ContainerStatus struct {
	ID        string
	SandboxID string
	Name      string
	Attempt   uint32
	// Image is the reference the container was created from and ImageID the
	// image's digest.
	Image   string
	ImageID string
	State   ContainerState
	// Pid is the container's init process id in the runtime's pid namespace
	// while it runs.
	Pid        int
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	// ExitCode is the process's exit code once exited: 128+signal when a
	// signal killed it (137 for SIGKILL), -1 when unknown (the process that
	// reaped it was not this runtime's).
	ExitCode int
	// Reason is a short machine-readable cause ("Completed", "Error",
	// "OOMKilled", "Unknown").
	Reason string
	// LogPath is the directory holding the container's log files.
	LogPath     string
	Labels      map[string]string
	Annotations map[string]string
}

// ContainerFilter selects containers. Zero fields match everything; Labels
// must all be present with equal values.
type ContainerFilter struct {
	ID        string
	SandboxID string
	State     ContainerState
	Labels    map[string]string
}

// Matches reports whether c passes the filter; a nil filter matches all.
func (f *ContainerFilter) Matches(c *ContainerStatus) bool {
	if f == nil {
		return true
	}
	return (f.ID == "" || f.ID == c.ID) &&
		(f.SandboxID == "" || f.SandboxID == c.SandboxID) &&
		(f.State == "" || f.State == c.State) &&
		labelsMatch(f.Labels, c.Labels)
}

func labelsMatch(want, have map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// ExecRequest is a command to run in a container.
type ExecRequest struct {
	// Cmd is the argv; Cmd[0] is looked up in the container's PATH.
	Cmd []string
	// Env is added to the container's environment.
	Env []EnvVar
	// Stdin, when set, is copied to the command's standard input until EOF.
	Stdin io.Reader
	// Stdout and Stderr receive the command's output; nil discards it.
	Stdout io.Writer
	Stderr io.Writer
	// TTY runs the command on a terminal: stdin feeds it, and stdout gets
	// everything the command writes (stdout and stderr together, with the
	// terminal's line discipline). Runtimes may return ErrUnsupported.
	TTY bool
	// TerminalSize is the terminal's size when TTY is set (zero: the
	// kernel's default).
	TerminalSize TerminalSize
}

// TerminalSize is a terminal's size in characters.
type TerminalSize struct {
	Width  uint16
	Height uint16
}

// LogStream selects which output of a container to read.
type LogStream string

// The log streams. The zero value reads both.
const (
	LogBoth   LogStream = ""
	LogStdout LogStream = "stdout"
	LogStderr LogStream = "stderr"
)

// LogOptions select what Logs reads.
type LogOptions struct {
	// Stream is stdout, stderr or both (the zero value). With both and no
	// Follow, stdout is copied before stderr; with Follow, output is
	// interleaved as it arrives.
	Stream LogStream
	// Follow keeps reading until the container exits or ctx ends.
	Follow bool
}

// ContainerStats is a container's resource usage.
type ContainerStats struct {
	Timestamp time.Time
	// CPUUsageNanos is the cumulative CPU time used, in nanoseconds.
	CPUUsageNanos uint64
	// MemoryWorkingSetBytes is memory usage minus inactive file cache, the
	// figure the kernel's OOM decisions follow and Kubernetes reports.
	MemoryWorkingSetBytes uint64
	// MemoryUsageBytes is the cgroup's total memory usage.
	MemoryUsageBytes uint64
	// Pids is the number of processes.
	Pids uint64
}

// Image is an image in a runtime's store.
type Image struct {
	// ID is the digest of the image's config (sha256:...).
	ID string
	// RepoTags are the references that name it.
	RepoTags []string
	// Size is the sum of the compressed layer sizes.
	Size int64
	// Config is the image's run configuration.
	Config ImageConfig
}

// ImageConfig is the part of an OCI image config that decides how a
// container runs.
type ImageConfig struct {
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	User       string
}

// AuthConfig holds registry credentials.
type AuthConfig struct {
	Username      string
	Password      string
	IdentityToken string
	RegistryToken string
}
