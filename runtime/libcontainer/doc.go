// Package libcontainer implements runtime.Runtime with real containers on
// runc's libcontainer (github.com/opencontainers/runc/libcontainer).
//
// # Embedding: the init re-exec
//
// libcontainer starts a container by re-executing the current binary
// (/proc/self/exe) with the single argument "init"; that child sets up the
// namespaces, the root filesystem and the process, then execs the
// container's command. Every program that creates containers through this
// package — including test binaries — must therefore let that child reach
// libcontainer's init before doing anything else. Call [Init] first thing:
//
//	package main
//
//	import "github.com/coxswain-io/coxswain/runtime/libcontainer"
//
//	func init() { libcontainer.Init() } // returns at once unless this is a container init
//
//	func main() { ... }
//
// In a test package, put the same init function in any _test.go file (or
// call Init at the top of TestMain). init functions run before flag parsing,
// so a `go test` binary works unchanged. Init does not return when the
// process is a container init.
//
// The package also needs cgo (libcontainer's nsenter constructor runs before
// the Go runtime starts in the init child), and it imports
// libcontainer/nsenter and opencontainers/cgroups/devices for their side
// effects. New makes the calling process a child subreaper
// (PR_SET_CHILD_SUBREAPER), since nsexec double-forks and the container's
// init is a grandchild.
//
// # What a container gets
//
// Its own PID and mount namespaces; the sandbox's network, IPC and UTS
// namespaces (joined by path: a sandbox is a set of namespace files,
// bind-mounted under the state directory, not a pause process) and its
// /etc/hosts, /etc/hostname and /etc/resolv.conf; a copy-on-write root (overlayfs
// over the image's unpacked layers, see runtime/image); /proc, /sys
// (read-only), /dev (tmpfs with the standard devices), /dev/pts, /dev/shm,
// /dev/mqueue; masked and read-only /proc paths; Docker's default capability
// set adjusted by the container's Add/Drop lists; no_new_privs unless
// privilege escalation is allowed; the image's user or the configured
// RunAsUser/RunAsGroup (names are resolved in the image's /etc/passwd and
// /etc/group); a cgroup at <CgroupRoot>/<sandbox>/<container> with CPU
// shares, CPU quota, memory and pids limits (cgroup v1 here, v2 where the
// host runs it).
//
// A memory limit must leave room for libcontainer's init — the embedding
// binary, re-executed — which joins the cgroup before it execs the
// container's command (about 10–20 MB for a Go program); below that the
// start fails because the kernel refuses a limit under current usage.
//
// # State and restarts
//
// Everything lives under Config.StateDir (sandbox and container records,
// libcontainer's state, rootfs mounts) and Config.LogDir, so a new Runtime
// over the same directories — after the owning process restarted — lists,
// stops and removes what an earlier one created. Exit codes are recorded by
// the process that started the container. When that process died, the
// container's init is reparented to the nearest child subreaper: if that is
// the process running the new Runtime, it reaps the init and records the
// real exit code; otherwise the container is reported Exited with exit code
// -1 and reason "Unknown".
//
// # Logs
//
// stdout and stderr go straight to files (LogDir/<container>/stdout.log and
// stderr.log, opened in append mode and handed to the container, so logging
// does not depend on the runtime's process). [Runtime.RotateLogs] rotates
// them by size with copy-and-truncate, keeping Config.LogMaxFiles old files;
// [Runtime.Start] runs it periodically. Bytes written between the copy and
// the truncate can be lost, as with logrotate's copytruncate.
//
// Limits: no terminal resize during an exec, no seccomp profile (libcontainer needs the
// seccomp build tag and libseccomp for that), no pause or checkpoint.
package libcontainer
