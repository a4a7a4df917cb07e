package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/coxswain-io/coxswain/runtime"
)

// Op names a Runtime method for error injection.
type Op string

// The operations FailNext can fail.
const (
	OpRunPodSandbox    Op = "RunPodSandbox"
	OpStopPodSandbox   Op = "StopPodSandbox"
	OpRemovePodSandbox Op = "RemovePodSandbox"
	OpCreateContainer  Op = "CreateContainer"
	OpStartContainer   Op = "StartContainer"
	OpStopContainer    Op = "StopContainer"
	OpRemoveContainer  Op = "RemoveContainer"
	OpExec             Op = "Exec"
	OpPullImage        Op = "PullImage"
)

// Config configures a fake runtime.
type Config struct {
	// StartLatency is how long StartContainer takes.
	StartLatency time.Duration
	// Images, when non-nil, are the only references PullImage finds, with
	// their configs; others fail with runtime.ErrNotFound. When nil every
	// reference pulls, with an empty config.
	Images map[string]runtime.ImageConfig
}

// Runtime is an in-memory runtime.Runtime. Its zero value is not usable;
// call New.
type Runtime struct {
	s *state
}

var _ runtime.Runtime = (*Runtime)(nil)

// state is everything a fake runtime holds; Reopen shares it.
type state struct {
	cfg Config

	mu         sync.Mutex
	nextID     int
	sandboxes  map[string]*sandbox
	containers map[string]*container
	images     map[string]*runtime.Image // by ref and by ID
	scripts    map[string][]Behavior
	starts     map[string]int // starts per container name
	faults     map[Op][]error
}

type sandbox struct {
	status runtime.SandboxStatus
}

type container struct {
	status   runtime.ContainerStatus
	argv     []string
	behavior Behavior
	logs     *logBuf
	signals  chan syscall.Signal
	exited   chan struct{} // closed when the process ends
}

// New returns an empty fake runtime.
func New(cfg Config) *Runtime {
	return &Runtime{s: &state{
		cfg:        cfg,
		sandboxes:  map[string]*sandbox{},
		containers: map[string]*container{},
		images:     map[string]*runtime.Image{},
		scripts:    map[string][]Behavior{},
		starts:     map[string]int{},
		faults:     map[Op][]error{},
	}}
}

// Reopen returns a new Runtime over the same state: what a restarted node
// agent sees of a runtime whose containers kept running.
func (r *Runtime) Reopen() *Runtime { return &Runtime{s: r.s} }

// Script sets the behaviours of containers named name: the n-th start of
// such a container (in any sandbox) behaves as behaviors[n], the last one
// repeating. A script overrides the behaviour encoded in the command.
func (r *Runtime) Script(name string, behaviors ...Behavior) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.scripts[name] = slices.Clone(behaviors)
	r.s.starts[name] = 0
}

// FailNext makes the next call of op return err (calls queue up: each
// FailNext fails one more call).
func (r *Runtime) FailNext(op Op, err error) {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	r.s.faults[op] = append(r.s.faults[op], err)
}

// fault pops an injected error for op. Called with mu held.
func (s *state) fault(op Op) error {
	errs := s.faults[op]
	if len(errs) == 0 {
		return nil
	}
	s.faults[op] = errs[1:]
	return fmt.Errorf("fake %s: %w", op, errs[0])
}

func (s *state) newID() string {
	s.nextID++
	sum := sha256.Sum256(fmt.Appendf(nil, "%p-%d", s, s.nextID))
	return hex.EncodeToString(sum[:])[:32]
}

// RunPodSandbox implements runtime.SandboxManager.
func (r *Runtime) RunPodSandbox(ctx context.Context, cfg *runtime.SandboxConfig) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if cfg == nil || cfg.Name == "" {
		return "", runtime.Errorf(runtime.ErrInvalid, "sandbox name required")
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fault(OpRunPodSandbox); err != nil {
		return "", err
	}
	for _, sb := range s.sandboxes {
		st := sb.status
		if st.Name == cfg.Name && st.Namespace == cfg.Namespace && st.UID == cfg.UID && st.Attempt == cfg.Attempt {
			return "", runtime.Errorf(runtime.ErrAlreadyExists, "sandbox %s/%s attempt %d", cfg.Namespace, cfg.Name, cfg.Attempt)
		}
	}
	id := s.newID()
	netns := cfg.NetNSPath
	if netns == "" {
		netns = "/fake/netns/" + id
	}
	s.sandboxes[id] = &sandbox{status: runtime.SandboxStatus{
		ID: id, Name: cfg.Name, Namespace: cfg.Namespace, UID: cfg.UID, Attempt: cfg.Attempt,
		State: runtime.SandboxReady, CreatedAt: time.Now(), NetNSPath: netns,
		Labels: maps.Clone(cfg.Labels), Annotations: maps.Clone(cfg.Annotations),
	}}
	return id, nil
}

// StopPodSandbox implements runtime.SandboxManager.
func (r *Runtime) StopPodSandbox(ctx context.Context, id string) error {
	s := r.s
	s.mu.Lock()
	if err := s.fault(OpStopPodSandbox); err != nil {
		s.mu.Unlock()
		return err
	}
	sb, ok := s.sandboxes[id]
	if !ok {
		s.mu.Unlock()
		return runtime.Errorf(runtime.ErrNotFound, "sandbox %s", id)
	}
	sb.status.State = runtime.SandboxNotReady
	var ids []string
	for cid, c := range s.containers {
		if c.status.SandboxID == id {
			ids = append(ids, cid)
		}
	}
	s.mu.Unlock()
	for _, cid := range ids {
		if err := r.StopContainer(ctx, cid, 0); err != nil && !runtime.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// RemovePodSandbox implements runtime.SandboxManager.
func (r *Runtime) RemovePodSandbox(ctx context.Context, id string) error {
	s := r.s
	s.mu.Lock()
	if err := s.fault(OpRemovePodSandbox); err != nil {
		s.mu.Unlock()
		return err
	}
	_, ok := s.sandboxes[id]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	if err := r.StopPodSandbox(ctx, id); err != nil && !runtime.IsNotFound(err) {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for cid, c := range s.containers {
		if c.status.SandboxID == id {
			delete(s.containers, cid)
		}
	}
	delete(s.sandboxes, id)
	return nil
}

// PodSandboxStatus implements runtime.SandboxManager.
func (r *Runtime) PodSandboxStatus(ctx context.Context, id string) (*runtime.SandboxStatus, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sb, ok := s.sandboxes[id]
	if !ok {
		return nil, runtime.Errorf(runtime.ErrNotFound, "sandbox %s", id)
	}
	return copySandbox(&sb.status), nil
}

// ListPodSandboxes implements runtime.SandboxManager.
func (r *Runtime) ListPodSandboxes(ctx context.Context, filter *runtime.SandboxFilter) ([]*runtime.SandboxStatus, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*runtime.SandboxStatus
	for _, sb := range s.sandboxes {
		if filter.Matches(&sb.status) {
			out = append(out, copySandbox(&sb.status))
		}
	}
	slices.SortFunc(out, func(a, b *runtime.SandboxStatus) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

func copySandbox(st *runtime.SandboxStatus) *runtime.SandboxStatus {
	c := *st
	c.Labels = maps.Clone(st.Labels)
	c.Annotations = maps.Clone(st.Annotations)
	return &c
}

// CreateContainer implements runtime.ContainerManager.
func (r *Runtime) CreateContainer(ctx context.Context, sandboxID string, cfg *runtime.ContainerConfig) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if cfg == nil || cfg.Name == "" {
		return "", runtime.Errorf(runtime.ErrInvalid, "container name required")
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fault(OpCreateContainer); err != nil {
		return "", err
	}
	sb, ok := s.sandboxes[sandboxID]
	if !ok {
		return "", runtime.Errorf(runtime.ErrNotFound, "sandbox %s", sandboxID)
	}
	if sb.status.State != runtime.SandboxReady {
		return "", runtime.Errorf(runtime.ErrFailedPrecondition, "sandbox %s is not ready", sandboxID)
	}
	img, ok := s.images[cfg.Image]
	if !ok {
		return "", runtime.Errorf(runtime.ErrNotFound, "image %q", cfg.Image)
	}
	for _, c := range s.containers {
		if c.status.SandboxID == sandboxID && c.status.Name == cfg.Name && c.status.Attempt == cfg.Attempt {
			return "", runtime.Errorf(runtime.ErrAlreadyExists, "container %s attempt %d in sandbox %s", cfg.Name, cfg.Attempt, sandboxID)
		}
	}
	argv := runtime.ResolveCommand(img.Config, cfg.Command, cfg.Args)
	if len(argv) == 0 {
		return "", runtime.Errorf(runtime.ErrInvalid, "container %s: no command and the image has no entrypoint or cmd", cfg.Name)
	}
	id := s.newID()
	s.containers[id] = &container{
		status: runtime.ContainerStatus{
			ID: id, SandboxID: sandboxID, Name: cfg.Name, Attempt: cfg.Attempt,
			Image: cfg.Image, ImageID: img.ID, State: runtime.ContainerCreated,
			CreatedAt: time.Now(), LogPath: "/fake/logs/" + id,
			Labels: maps.Clone(cfg.Labels), Annotations: maps.Clone(cfg.Annotations),
		},
		argv:    argv,
		logs:    newLogBuf(),
		signals: make(chan syscall.Signal, 4),
		exited:  make(chan struct{}),
	}
	return id, nil
}

// StartContainer implements runtime.ContainerManager.
func (r *Runtime) StartContainer(ctx context.Context, id string) error {
	s := r.s
	s.mu.Lock()
	if err := s.fault(OpStartContainer); err != nil {
		s.mu.Unlock()
		return err
	}
	c, ok := s.containers[id]
	if !ok {
		s.mu.Unlock()
		return runtime.Errorf(runtime.ErrNotFound, "container %s", id)
	}
	if c.status.State != runtime.ContainerCreated {
		s.mu.Unlock()
		return runtime.Errorf(runtime.ErrFailedPrecondition, "container %s is %s", id, c.status.State)
	}
	b, scripted := s.scriptFor(c.status.Name)
	if !scripted {
		if pb, ok := parseCommand(c.argv); ok {
			b = pb
		}
	}
	c.behavior = b
	c.status.State = runtime.ContainerRunning // reserve; no second start
	s.mu.Unlock()

	if d := s.cfg.StartLatency; d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			s.finish(c, 128+int(syscall.SIGKILL), "Error")
			return ctx.Err()
		}
	}
	s.mu.Lock()
	c.status.StartedAt = time.Now()
	c.status.Pid = 1000 + s.nextID
	s.nextID++
	s.mu.Unlock()
	c.logs.write(0, b.Stdout)
	c.logs.write(1, b.Stderr)
	go s.run(c, b)
	return nil
}

// scriptFor returns the scripted behaviour of the next start of name. Called
// with mu held.
func (s *state) scriptFor(name string) (Behavior, bool) {
	bs := s.scripts[name]
	if len(bs) == 0 {
		return Behavior{}, false
	}
	n := s.starts[name]
	s.starts[name] = n + 1
	return bs[min(n, len(bs)-1)], true
}

// run is the fake process.
func (s *state) run(c *container, b Behavior) {
	var timeout <-chan time.Time
	if b.Exit {
		t := time.NewTimer(b.RunFor)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-timeout:
			reason := "Completed"
			if b.ExitCode != 0 {
				reason = "Error"
			}
			s.finish(c, b.ExitCode, reason)
			return
		case sig := <-c.signals:
			switch {
			case sig == syscall.SIGKILL:
				s.finish(c, 128+int(syscall.SIGKILL), "Error")
				return
			case sig == syscall.SIGTERM && !b.IgnoreTERM:
				code := 128 + int(syscall.SIGTERM)
				if b.TrapTERM {
					code = b.TermExitCode
				}
				s.finish(c, code, "Error")
				return
			}
		}
	}
}

func (s *state) finish(c *container, code int, reason string) {
	s.mu.Lock()
	if c.status.State == runtime.ContainerExited {
		s.mu.Unlock()
		return
	}
	c.status.State = runtime.ContainerExited
	c.status.ExitCode = code
	c.status.Reason = reason
	c.status.FinishedAt = time.Now()
	c.status.Pid = 0
	s.mu.Unlock()
	c.logs.close()
	close(c.exited)
}

// StopContainer implements runtime.ContainerManager.
func (r *Runtime) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	s := r.s
	s.mu.Lock()
	if err := s.fault(OpStopContainer); err != nil {
		s.mu.Unlock()
		return err
	}
	c, ok := s.containers[id]
	if !ok {
		s.mu.Unlock()
		return runtime.Errorf(runtime.ErrNotFound, "container %s", id)
	}
	state := c.status.State
	s.mu.Unlock()
	switch state {
	case runtime.ContainerExited:
		return nil
	case runtime.ContainerCreated:
		// Never started: it ends without running.
		s.finish(c, 0, "Unknown")
		return nil
	}
	if grace > 0 {
		c.signal(syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-c.exited:
			return nil
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.signal(syscall.SIGKILL)
	select {
	case <-c.exited:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *container) signal(sig syscall.Signal) {
	select {
	case c.signals <- sig:
	case <-c.exited:
	}
}

// RemoveContainer implements runtime.ContainerManager.
func (r *Runtime) RemoveContainer(ctx context.Context, id string) error {
	s := r.s
	s.mu.Lock()
	if err := s.fault(OpRemoveContainer); err != nil {
		s.mu.Unlock()
		return err
	}
	_, ok := s.containers[id]
	s.mu.Unlock()
	if !ok {
		return nil
	}
	if err := r.StopContainer(ctx, id, 0); err != nil && !runtime.IsNotFound(err) {
		return err
	}
	s.mu.Lock()
	delete(s.containers, id)
	s.mu.Unlock()
	return nil
}

// ContainerStatus implements runtime.ContainerManager.
func (r *Runtime) ContainerStatus(ctx context.Context, id string) (*runtime.ContainerStatus, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[id]
	if !ok {
		return nil, runtime.Errorf(runtime.ErrNotFound, "container %s", id)
	}
	return copyContainer(&c.status), nil
}

// ListContainers implements runtime.ContainerManager.
func (r *Runtime) ListContainers(ctx context.Context, filter *runtime.ContainerFilter) ([]*runtime.ContainerStatus, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*runtime.ContainerStatus
	for _, c := range s.containers {
		if filter.Matches(&c.status) {
			out = append(out, copyContainer(&c.status))
		}
	}
	slices.SortFunc(out, func(a, b *runtime.ContainerStatus) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

func copyContainer(st *runtime.ContainerStatus) *runtime.ContainerStatus {
	c := *st
	c.Labels = maps.Clone(st.Labels)
	c.Annotations = maps.Clone(st.Annotations)
	return &c
}

// Exec implements runtime.Streamer. Commands built with Command run their
// behaviour (output, stdin echo, exit code); other commands exit 127.
func (r *Runtime) Exec(ctx context.Context, id string, req runtime.ExecRequest) (int, error) {
	s := r.s
	s.mu.Lock()
	if err := s.fault(OpExec); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	c, ok := s.containers[id]
	if !ok {
		s.mu.Unlock()
		return 0, runtime.Errorf(runtime.ErrNotFound, "container %s", id)
	}
	running := c.status.State == runtime.ContainerRunning && !c.status.StartedAt.IsZero()
	s.mu.Unlock()
	if !running {
		return 0, runtime.Errorf(runtime.ErrFailedPrecondition, "container %s is not running", id)
	}
	if len(req.Cmd) == 0 {
		return 0, runtime.Errorf(runtime.ErrInvalid, "exec: empty command")
	}
	stdout, stderr := orDiscard(req.Stdout), orDiscard(req.Stderr)
	if req.TTY {
		stderr = stdout // a terminal carries both
	}
	b, ok := parseCommand(req.Cmd)
	if !ok {
		fmt.Fprintf(stderr, "exec: %q: not found\n", req.Cmd[0])
		return 127, nil
	}
	if _, err := io.WriteString(stdout, b.Stdout); err != nil {
		return 0, err
	}
	if b.EchoStdin && req.Stdin != nil {
		if _, err := io.Copy(stdout, req.Stdin); err != nil {
			return 0, err
		}
	}
	if _, err := io.WriteString(stderr, b.Stderr); err != nil {
		return 0, err
	}
	// A command that does not exit by itself runs until ctx ends, then is
	// killed, as a real exec is.
	var timeout <-chan time.Time
	if b.Exit {
		t := time.NewTimer(b.RunFor)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
	case <-ctx.Done():
		return 128 + int(syscall.SIGKILL), nil
	}
	return b.ExitCode, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Logs implements runtime.Streamer.
func (r *Runtime) Logs(ctx context.Context, id string, opts runtime.LogOptions, w io.Writer) error {
	s := r.s
	s.mu.Lock()
	c, ok := s.containers[id]
	s.mu.Unlock()
	if !ok {
		return runtime.Errorf(runtime.ErrNotFound, "container %s", id)
	}
	return c.logs.copyTo(ctx, opts, w)
}

// ContainerStats implements runtime.StatsProvider.
func (r *Runtime) ContainerStats(ctx context.Context, id string) (*runtime.ContainerStats, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[id]
	if !ok {
		return nil, runtime.Errorf(runtime.ErrNotFound, "container %s", id)
	}
	if c.status.State != runtime.ContainerRunning || c.status.StartedAt.IsZero() {
		return nil, runtime.Errorf(runtime.ErrFailedPrecondition, "container %s is not running", id)
	}
	now := time.Now()
	mem := c.behavior.MemoryBytes
	if mem == 0 {
		mem = 1 << 20
	}
	return &runtime.ContainerStats{
		Timestamp:             now,
		CPUUsageNanos:         uint64(now.Sub(c.status.StartedAt)/100) + 1,
		MemoryWorkingSetBytes: mem,
		MemoryUsageBytes:      mem,
		Pids:                  1,
	}, nil
}

// PullImage implements runtime.ImageService.
func (r *Runtime) PullImage(ctx context.Context, ref string, auth *runtime.AuthConfig) (*runtime.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if ref == "" {
		return nil, runtime.Errorf(runtime.ErrInvalid, "empty image reference")
	}
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fault(OpPullImage); err != nil {
		return nil, err
	}
	var cfg runtime.ImageConfig
	if s.cfg.Images != nil {
		c, ok := s.cfg.Images[ref]
		if !ok {
			return nil, runtime.Errorf(runtime.ErrNotFound, "image %q in the registry", ref)
		}
		cfg = c
	}
	sum := sha256.Sum256([]byte(ref))
	id := "sha256:" + hex.EncodeToString(sum[:])
	img := &runtime.Image{ID: id, RepoTags: []string{ref}, Size: 1 << 20, Config: cfg}
	s.images[ref] = img
	s.images[id] = img
	return copyImage(img), nil
}

// ImageStatus implements runtime.ImageService.
func (r *Runtime) ImageStatus(ctx context.Context, ref string) (*runtime.Image, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.images[ref]
	if !ok {
		return nil, runtime.Errorf(runtime.ErrNotFound, "image %q", ref)
	}
	return copyImage(img), nil
}

// ListImages implements runtime.ImageService.
func (r *Runtime) ListImages(ctx context.Context) ([]*runtime.Image, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*runtime.Image
	for key, img := range s.images {
		if key == img.ID {
			out = append(out, copyImage(img))
		}
	}
	slices.SortFunc(out, func(a, b *runtime.Image) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// RemoveImage implements runtime.ImageService.
func (r *Runtime) RemoveImage(ctx context.Context, ref string) error {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.images[ref]
	if !ok {
		return nil
	}
	for _, tag := range img.RepoTags {
		delete(s.images, tag)
	}
	delete(s.images, img.ID)
	return nil
}

func copyImage(img *runtime.Image) *runtime.Image {
	c := *img
	c.RepoTags = slices.Clone(img.RepoTags)
	return &c
}
