package runtime

import (
	"context"
	"io"
	"time"
)

// Runtime is a whole container runtime: sandboxes, containers, streams,
// stats and images. Every method is safe for concurrent use.
type Runtime interface {
	SandboxManager
	ContainerManager
	Streamer
	StatsProvider
	ImageService
}

// SandboxManager manages pod sandboxes: the namespaces (network, IPC, UTS)
// and the cgroup parent a pod's containers share.
type SandboxManager interface {
	// RunPodSandbox creates a sandbox and returns its id. The sandbox is
	// ready when the call returns. A sandbox with the same Name, Namespace,
	// UID and Attempt that exists fails with ErrAlreadyExists.
	RunPodSandbox(ctx context.Context, cfg *SandboxConfig) (string, error)
	// StopPodSandbox kills every container of the sandbox (no grace period:
	// the caller stops containers gracefully first) and marks the sandbox
	// not ready. Stopping a stopped sandbox succeeds.
	StopPodSandbox(ctx context.Context, id string) error
	// RemovePodSandbox stops the sandbox, removes its containers and frees
	// everything it holds (namespaces, cgroups, state). Removing a missing
	// sandbox succeeds.
	RemovePodSandbox(ctx context.Context, id string) error
	// PodSandboxStatus returns the sandbox's status, or ErrNotFound.
	PodSandboxStatus(ctx context.Context, id string) (*SandboxStatus, error)
	// ListPodSandboxes returns the sandboxes matching filter (nil: all).
	ListPodSandboxes(ctx context.Context, filter *SandboxFilter) ([]*SandboxStatus, error)
}

// ContainerManager manages containers inside sandboxes.
type ContainerManager interface {
	// CreateContainer creates a container in a ready sandbox from cfg and
	// returns its id; the process does not run until StartContainer. The
	// image must be present (see ImageService.PullImage). A container with
	// the same Name and Attempt in the sandbox fails with ErrAlreadyExists.
	CreateContainer(ctx context.Context, sandboxID string, cfg *ContainerConfig) (string, error)
	// StartContainer starts a created container's process. It returns once
	// the process runs (or failed to start).
	StartContainer(ctx context.Context, id string) error
	// StopContainer sends SIGTERM to the container's process, waits up to
	// grace for it to exit, then sends SIGKILL and waits for the exit.
	// Stopping a container that is not running succeeds. A zero grace kills
	// at once.
	StopContainer(ctx context.Context, id string, grace time.Duration) error
	// RemoveContainer kills the container if it runs and frees everything it
	// holds (root filesystem mount, cgroup, state, logs). Removing a missing
	// container succeeds.
	RemoveContainer(ctx context.Context, id string) error
	// ContainerStatus returns the container's status, or ErrNotFound.
	ContainerStatus(ctx context.Context, id string) (*ContainerStatus, error)
	// ListContainers returns the containers matching filter (nil: all).
	ListContainers(ctx context.Context, filter *ContainerFilter) ([]*ContainerStatus, error)
}

// Streamer runs commands in containers and reads their logs.
type Streamer interface {
	// Exec runs req.Cmd in the running container id and returns its exit
	// code once it exits and its output has been copied. An error means the
	// command could not be run (not found, not running, unsupported TTY);
	// a command that fails is a nil error with a non-zero exit code. When
	// ctx ends the command is killed.
	Exec(ctx context.Context, id string, req ExecRequest) (int, error)
	// Logs copies the container's log to w. Without Follow it returns at the
	// end of the log; with Follow it keeps copying until the container has
	// exited and the log is drained, or ctx ends (then it returns nil).
	Logs(ctx context.Context, id string, opts LogOptions, w io.Writer) error
}

// StatsProvider reports resource usage.
type StatsProvider interface {
	// ContainerStats returns the container's current usage, or
	// ErrFailedPrecondition when it does not run.
	ContainerStats(ctx context.Context, id string) (*ContainerStats, error)
}

// ImageService manages the images containers are created from.
type ImageService interface {
	// PullImage fetches ref (e.g. "registry.example/busybox:1.36") into the
	// runtime's image store and returns it. Pulling a present image
	// refreshes its tag.
	PullImage(ctx context.Context, ref string, auth *AuthConfig) (*Image, error)
	// ImageStatus returns the image ref names, or ErrNotFound.
	ImageStatus(ctx context.Context, ref string) (*Image, error)
	// ListImages returns every image in the store.
	ListImages(ctx context.Context) ([]*Image, error)
	// RemoveImage removes the image ref names (by tag, or by ID). Removing a
	// missing image succeeds.
	RemoveImage(ctx context.Context, ref string) error
}
