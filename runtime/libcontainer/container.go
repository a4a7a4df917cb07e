package libcontainer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	lc "github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/image"
)

// containerRecord is a container's stored state.
type containerRecord struct {
	Status runtime.ContainerStatus `json:"status"`
	Config runtime.ContainerConfig `json:"config"`
	// Resolved at create time from the config and the image.
	Argv   []string `json:"argv"`
	Env    []string `json:"env"`
	Cwd    string   `json:"cwd"`
	UID    int      `json:"uid"`
	GID    int      `json:"gid"`
	Groups []int    `json:"groups,omitempty"`
	// FSDir holds the overlay (upper, work, rootfs); Rootfs is the merged
	// root; Layers are the image layer directories it uses.
	FSDir  string   `json:"fsDir"`
	Rootfs string   `json:"rootfs"`
	Layers []string `json:"layers"`
	Cgroup string   `json:"cgroup"`
}

func (r *Runtime) containerRecordPath(id string) string {
	return filepath.Join(r.containerDir(id), "container.json")
}

func (r *Runtime) readContainer(id string) (*containerRecord, error) {
	if !validID(id) {
		return nil, runtime.Errorf(runtime.ErrNotFound, "container %q", id)
	}
	var rec containerRecord
	if err := readJSON(r.containerRecordPath(id), &rec); err != nil {
		return nil, notFound("container", id, err)
	}
	return &rec, nil
}

func (r *Runtime) writeContainer(rec *containerRecord) error {
	if err := writeJSON(r.containerRecordPath(rec.Status.ID), rec); err != nil {
		return fmt.Errorf("container %s: %w", rec.Status.ID, err)
	}
	return nil
}

// CreateContainer implements runtime.ContainerManager: it resolves the
// command, environment and user against the image and mounts the
// container's copy-on-write root. The process starts with StartContainer.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg *runtime.ContainerConfig) (_ string, retErr error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if cfg == nil || cfg.Name == "" {
		return "", runtime.Errorf(runtime.ErrInvalid, "container name required")
	}
	for _, m := range cfg.Mounts {
		if !path.IsAbs(m.ContainerPath) || !filepath.IsAbs(m.HostPath) {
			return "", runtime.Errorf(runtime.ErrInvalid, "container %s: mount %q -> %q: paths must be absolute", cfg.Name, m.HostPath, m.ContainerPath)
		}
	}
	sb, err := r.readSandbox(sandboxID)
	if err != nil {
		return "", err
	}
	if sb.Status.State != runtime.SandboxReady {
		return "", runtime.Errorf(runtime.ErrFailedPrecondition, "sandbox %s is not ready", sandboxID)
	}
	img, err := r.images.Get(cfg.Image)
	if err != nil {
		return "", err
	}
	argv := runtime.ResolveCommand(img.Config, cfg.Command, cfg.Args)
	if len(argv) == 0 {
		return "", runtime.Errorf(runtime.ErrInvalid, "container %s: no command, and the image has no entrypoint or cmd", cfg.Name)
	}

	id := newID()
	r.sh.mu.Lock()
	others, err := r.listContainerRecords()
	if err != nil {
		r.sh.mu.Unlock()
		return "", err
	}
	for _, o := range others {
		if o.Status.SandboxID == sandboxID && o.Status.Name == cfg.Name && o.Status.Attempt == cfg.Attempt {
			r.sh.mu.Unlock()
			return "", runtime.Errorf(runtime.ErrAlreadyExists, "container %s attempt %d in sandbox %s", cfg.Name, cfg.Attempt, sandboxID)
		}
	}
	dir := r.containerDir(id)
	err = os.MkdirAll(dir, 0o700)
	r.sh.mu.Unlock()
	if err != nil {
		return "", fmt.Errorf("container: %w", err)
	}
	defer r.sh.lock(id)()
	rootfs := image.Rootfs{Dir: filepath.Join(dir, "fs")}
	defer func() {
		if retErr != nil {
			_ = rootfs.Unmount()
			_ = os.RemoveAll(dir)
		}
	}()
	layers, err := r.images.LayerDirs(img.ID)
	if err != nil {
		return "", err
	}
	// The pending record marks the directory as a container being created
	// (so cleanup after a crash finds the mount); it is completed below.
	rec := &containerRecord{
		Status: runtime.ContainerStatus{
			ID: id, SandboxID: sandboxID, Name: cfg.Name, Attempt: cfg.Attempt,
			Image: cfg.Image, ImageID: img.ID, State: runtime.ContainerCreated,
			CreatedAt: time.Now(), LogPath: r.logDir(id),
			Labels: maps.Clone(cfg.Labels), Annotations: maps.Clone(cfg.Annotations),
		},
		Config: *cfg,
		FSDir:  rootfs.Dir,
		Rootfs: rootfs.Path(),
		Layers: layers,
		Cgroup: path.Join(sb.Cgroup, id),
	}
	if rootfs, err = r.images.Mount(img.ID, rootfs.Dir); err != nil {
		return "", err
	}
	uid, gid, groups, home, err := resolveUser(rec.Rootfs, img.Config.User, cfg.Security)
	if err != nil {
		return "", err
	}
	rec.Argv, rec.UID, rec.GID, rec.Groups = argv, uid, gid, groups
	rec.Env = withDefaults(runtime.MergeEnv(img.Config.Env, cfg.Env), home)
	rec.Cwd = cfg.WorkingDir
	if rec.Cwd == "" {
		rec.Cwd = img.Config.WorkingDir
	}
	if rec.Cwd == "" {
		rec.Cwd = "/"
	}
	if err := os.MkdirAll(rec.Status.LogPath, 0o700); err != nil {
		return "", fmt.Errorf("container log dir: %w", err)
	}
	if err := r.writeContainer(rec); err != nil {
		return "", err
	}
	return id, nil
}

// StartContainer implements runtime.ContainerManager.
func (r *Runtime) StartContainer(ctx context.Context, id string) (retErr error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	unlock := r.sh.lock(id)
	defer unlock()
	rec, err := r.readContainer(id)
	if err != nil {
		return err
	}
	if rec.Status.State != runtime.ContainerCreated {
		return runtime.Errorf(runtime.ErrFailedPrecondition, "container %s is %s", id, rec.Status.State)
	}
	sb, err := r.readSandbox(rec.Status.SandboxID)
	if err != nil {
		return err
	}
	if sb.Status.State != runtime.SandboxReady {
		return runtime.Errorf(runtime.ErrFailedPrecondition, "sandbox %s is not ready", sb.Status.ID)
	}
	config, err := r.libcontainerConfig(rec, sb)
	if err != nil {
		return err
	}
	c, err := lc.Create(r.lcRoot(), id, config)
	if err != nil {
		return fmt.Errorf("container %s: create: %w", id, err)
	}
	fail := func(err error) error {
		_ = c.Destroy()
		rec.Status.State = runtime.ContainerExited
		rec.Status.ExitCode = 128
		rec.Status.Reason = "StartError"
		rec.Status.FinishedAt = time.Now()
		if werr := r.writeContainer(rec); werr != nil {
			r.log.Error("record start failure", "container", id, "err", werr)
		}
		return fmt.Errorf("container %s: start: %w", id, err)
	}
	stdout, err := os.OpenFile(filepath.Join(rec.Status.LogPath, "stdout.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fail(err)
	}
	defer stdout.Close()
	stderr, err := os.OpenFile(filepath.Join(rec.Status.LogPath, "stderr.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fail(err)
	}
	defer stderr.Close()
	p := &lc.Process{
		Args: rec.Argv, Env: rec.Env, Cwd: rec.Cwd,
		UID: rec.UID, GID: rec.GID, AdditionalGroups: rec.Groups,
		Stdout: stdout, Stderr: stderr,
		Init: true,
	}
	if err := c.Run(p); err != nil {
		return fail(err)
	}
	pid, err := p.Pid()
	if err != nil {
		_ = p.Signal(unix.SIGKILL)
		_, _ = p.Wait()
		return fail(err)
	}
	waitExec(pid)
	rec.Status.State = runtime.ContainerRunning
	rec.Status.StartedAt = time.Now()
	rec.Status.Pid = pid
	if err := r.writeContainer(rec); err != nil {
		_ = p.Signal(unix.SIGKILL)
		_, _ = p.Wait()
		return fail(err)
	}
	pr := &proc{done: make(chan struct{})}
	r.sh.mu.Lock()
	r.sh.procs[id] = pr
	r.sh.mu.Unlock()
	go r.wait(id, c, p, pr)
	return nil
}

// waitExec waits (briefly) until the container's init has executed the
// container's command: until then it is this binary running libcontainer's
// init, which dies with exit code 2 on SIGTERM instead of letting the
// command handle it.
func waitExec(pid int) {
	var self unix.Stat_t
	if err := unix.Stat("/proc/self/exe", &self); err != nil {
		return
	}
	// The bound only matters on a badly overloaded machine: the exec follows
	// within a millisecond normally, and a dead process ends the wait.
	deadline := time.Now().Add(10 * time.Second)
	for delay := 50 * time.Microsecond; time.Now().Before(deadline); delay = min(2*delay, 5*time.Millisecond) {
		var st unix.Stat_t
		// libcontainer runs init from a sealed view of this binary (an
		// overlay, same inode number on another device) or from a copy;
		// both differ from the container's command in inode or size.
		if err := unix.Stat(fmt.Sprintf("/proc/%d/exe", pid), &st); err != nil || st.Ino != self.Ino || st.Size != self.Size {
			return
		}
		time.Sleep(delay)
	}
}

// exitCode returns a process's exit code, 128+signal when a signal killed
// it.
func exitCode(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// wait reaps a started container, records its exit and destroys its
// libcontainer state and cgroup.
func (r *Runtime) wait(id string, c *lc.Container, p *lc.Process, pr *proc) {
	ps, err := p.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		r.log.Warn("wait for container", "container", id, "err", err)
	}
	code := exitCode(ps)
	finished := time.Now()
	defer close(pr.done)
	defer func() {
		r.sh.mu.Lock()
		delete(r.sh.procs, id)
		r.sh.mu.Unlock()
	}()
	unlock := r.sh.lock(id)
	defer unlock()
	rec, recErr := r.readContainer(id)
	reason := exitReason(code)
	if recErr == nil && code == 128+int(unix.SIGKILL) && r.oomKilled(rec.Cgroup) {
		reason = "OOMKilled"
	}
	if err := c.Destroy(); err != nil {
		r.log.Warn("destroy container", "container", id, "err", err)
	}
	if recErr != nil {
		return // removed meanwhile
	}
	r.recordExit(rec, code, reason, finished)
}

func exitReason(code int) string {
	if code == 0 {
		return "Completed"
	}
	return "Error"
}

// oomKilled reports whether the kernel's OOM killer killed a process of the
// cgroup (read before the cgroup is destroyed).
func (r *Runtime) oomKilled(cgroup string) bool {
	m, err := podCgroup(cgroup)
	if err != nil {
		return false
	}
	n, err := m.OOMKillCount()
	return err == nil && n > 0
}

func (r *Runtime) recordExit(rec *containerRecord, code int, reason string, finished time.Time) {
	rec.Status.State = runtime.ContainerExited
	rec.Status.ExitCode = code
	rec.Status.Reason = reason
	rec.Status.FinishedAt = finished
	rec.Status.Pid = 0
	if err := r.writeContainer(rec); err != nil {
		r.log.Error("record container exit", "container", rec.Status.ID, "err", err)
	}
}

// refresh brings a running record up to date when no goroutine of this
// process waits for the container (an earlier process started it). If
// libcontainer reports it stopped, the exit is recorded: with the real exit
// code when the init was reparented to this process (a child subreaper) and
// can be reaped here, else as -1 "Unknown". Called with the container's
// lock held.
func (r *Runtime) refresh(rec *containerRecord) error {
	if rec.Status.State != runtime.ContainerRunning || r.sh.proc(rec.Status.ID) != nil {
		return nil
	}
	code, reason := -1, "Unknown"
	c, err := lc.Load(r.lcRoot(), rec.Status.ID)
	switch {
	case err == nil:
		st, serr := c.Status()
		if serr == nil && st != lc.Stopped {
			return nil
		}
		if state, serr := c.State(); serr == nil {
			if ec, ok := reapZombie(state.InitProcessPid, state.InitProcessStartTime); ok {
				code, reason = ec, exitReason(ec)
				if code == 128+int(unix.SIGKILL) && r.oomKilled(rec.Cgroup) {
					reason = "OOMKilled"
				}
			}
		}
		if derr := c.Destroy(); derr != nil {
			r.log.Warn("destroy container", "container", rec.Status.ID, "err", derr)
		}
	case !errors.Is(err, lc.ErrNotExist):
		return fmt.Errorf("container %s: load: %w", rec.Status.ID, err)
	}
	r.recordExit(rec, code, reason, time.Now())
	return nil
}

// reapZombie collects the exit status of pid when it is a zombie child of
// this process whose start time (clock ticks since boot, field 22 of
// /proc/pid/stat) is startTime — the container's init, not a process that
// reused its pid.
func reapZombie(pid int, startTime uint64) (int, bool) {
	if pid <= 0 {
		return 0, false
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name (field 2) may hold spaces; fields restart after ')'.
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state), so field 22 is fields[19].
	if len(fields) < 20 || fields[0] != "Z" || fields[19] != strconv.FormatUint(startTime, 10) {
		return 0, false
	}
	var ws unix.WaitStatus
	wpid, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
	if err != nil || wpid != pid {
		return 0, false
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal()), true
	}
	return ws.ExitStatus(), true
}

// current reads a container's record, refreshed.
func (r *Runtime) current(id string) (*containerRecord, error) {
	rec, err := r.readContainer(id)
	if err != nil {
		return nil, err
	}
	if rec.Status.State == runtime.ContainerRunning && r.sh.proc(id) == nil {
		unlock := r.sh.lock(id)
		defer unlock()
		if rec, err = r.readContainer(id); err != nil {
			return nil, err
		}
		if err := r.refresh(rec); err != nil {
			return nil, err
		}
	}
	return rec, nil
}

// StopContainer implements runtime.ContainerManager.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	rec, err := r.current(id)
	if err != nil {
		return err
	}
	switch rec.Status.State {
	case runtime.ContainerExited:
		return nil
	case runtime.ContainerCreated:
		unlock := r.sh.lock(id)
		defer unlock()
		if rec, err = r.readContainer(id); err != nil {
			return err
		}
		if rec.Status.State == runtime.ContainerCreated {
			rec.Status.State = runtime.ContainerExited
			rec.Status.Reason = "Unknown"
			rec.Status.FinishedAt = time.Now()
			return r.writeContainer(rec)
		}
		return nil
	}
	c, err := lc.Load(r.lcRoot(), id)
	if errors.Is(err, lc.ErrNotExist) {
		_, err := r.current(id) // exited and destroyed meanwhile
		return err
	}
	if err != nil {
		return fmt.Errorf("container %s: load: %w", id, err)
	}
	if grace > 0 {
		if err := c.Signal(unix.SIGTERM); err != nil && !errors.Is(err, lc.ErrNotRunning) {
			return fmt.Errorf("container %s: SIGTERM: %w", id, err)
		}
		exited, err := r.waitExit(ctx, id, c, grace)
		if err != nil || exited {
			return err
		}
	}
	if err := c.Signal(unix.SIGKILL); err != nil && !errors.Is(err, lc.ErrNotRunning) {
		return fmt.Errorf("container %s: SIGKILL: %w", id, err)
	}
	_, err = r.waitExit(ctx, id, c, 0)
	return err
}

// waitExit waits until the container has exited and its exit is recorded,
// for at most limit (0: no limit but ctx). It reports whether it exited.
func (r *Runtime) waitExit(ctx context.Context, id string, c *lc.Container, limit time.Duration) (bool, error) {
	var timeout <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		timeout = t.C
	}
	if pr := r.sh.proc(id); pr != nil {
		select {
		case <-pr.done:
			return true, nil
		case <-timeout:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	// Not our child: poll libcontainer's view.
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if st, err := c.Status(); err != nil || st == lc.Stopped {
			rec, err := r.current(id)
			if err != nil {
				return false, err
			}
			return rec.Status.State == runtime.ContainerExited, nil
		}
		select {
		case <-tick.C:
		case <-timeout:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// RemoveContainer implements runtime.ContainerManager.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	if _, err := r.readContainer(id); runtime.IsNotFound(err) {
		return nil
	}
	if err := r.StopContainer(ctx, id, 0); err != nil && !runtime.IsNotFound(err) {
		return err
	}
	unlock := r.sh.lock(id)
	defer unlock()
	rec, err := r.readContainer(id)
	if runtime.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if c, err := lc.Load(r.lcRoot(), id); err == nil {
		if err := c.Destroy(); err != nil {
			return fmt.Errorf("container %s: destroy: %w", id, err)
		}
	}
	if err := (image.Rootfs{Dir: rec.FSDir}).Unmount(); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	if err := os.RemoveAll(rec.Status.LogPath); err != nil {
		return fmt.Errorf("container %s: logs: %w", id, err)
	}
	if err := os.RemoveAll(r.containerDir(id)); err != nil {
		return fmt.Errorf("container %s: %w", id, err)
	}
	r.sh.mu.Lock()
	delete(r.sh.locks, id)
	r.sh.mu.Unlock()
	return nil
}

// ContainerStatus implements runtime.ContainerManager.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (*runtime.ContainerStatus, error) {
	rec, err := r.current(id)
	if err != nil {
		return nil, err
	}
	return &rec.Status, nil
}

func (r *Runtime) listContainerRecords() ([]*containerRecord, error) {
	ids, err := r.listIDs("containers")
	if err != nil {
		return nil, err
	}
	var out []*containerRecord
	for _, id := range ids {
		rec, err := r.readContainer(id)
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

// ListContainers implements runtime.ContainerManager.
func (r *Runtime) ListContainers(ctx context.Context, filter *runtime.ContainerFilter) ([]*runtime.ContainerStatus, error) {
	recs, err := r.listContainerRecords()
	if err != nil {
		return nil, err
	}
	var out []*runtime.ContainerStatus
	for _, rec := range recs {
		if rec.Status.State == runtime.ContainerRunning {
			if rec, err = r.current(rec.Status.ID); runtime.IsNotFound(err) {
				continue
			} else if err != nil {
				return nil, err
			}
		}
		if filter.Matches(&rec.Status) {
			out = append(out, &rec.Status)
		}
	}
	slices.SortFunc(out, func(a, b *runtime.ContainerStatus) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}
