package agent

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/dns"
	"github.com/coxswain-io/coxswain/orchestrator/events"
	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/store"
)

// Pod phases and restart policies.
const (
	PhasePending   = "Pending"
	PhaseRunning   = "Running"
	PhaseSucceeded = "Succeeded"
	PhaseFailed    = "Failed"

	RestartAlways    = "Always"
	RestartOnFailure = "OnFailure"
	RestartNever     = "Never"
)

// podState is what the agent keeps in memory about a pod between syncs.
// Everything in it can be rebuilt from the runtime and the store, so a
// restarted agent starts with none. Fields are used only by the pod's sync
// (the work queue never syncs one key twice at once), except pod, uid,
// volumesReady and usage, which are guarded by Agent.mu.
type podState struct {
	uid          string
	pod          *api.Pod
	volumesReady bool
	volumePaths  map[string]string
	// volumeLabels and volumeAnnotations are the pod metadata the volumes
	// were last written with: a change refreshes downward API files.
	volumeLabels, volumeAnnotations map[string]string
	grace                           time.Duration

	// waiting is the reason a container could not be started, by name.
	waiting map[string]waitReason
	// startFailures counts failed starts by container name, for backoff.
	startFailures map[string]int
	retryAt       map[string]time.Time
	// probes by container id and probe kind.
	probes map[string]*probeState
	// finished is set once a terminal pod's sandbox and network are freed.
	finished bool
	// preStopDone is set once the preStop hooks ran for a deleted pod.
	preStopDone bool
	// backoffEvent marks exited containers whose BackOff event was sent.
	backoffEvent map[string]int

	usage     map[string]string
	usageTime time.Time
}

type waitReason struct{ reason, message string }

func (a *Agent) getState(key string) *podState {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state[key]
}

func (a *Agent) setState(key string, st *podState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if st == nil {
		delete(a.state, key)
		return
	}
	a.state[key] = st
}

func (a *Agent) sandboxFilter(uid string) *runtime.SandboxFilter {
	l := map[string]string{LabelNode: a.cfg.NodeName}
	if uid != "" {
		l[LabelPodUID] = uid
	}
	return &runtime.SandboxFilter{Labels: l}
}

// gracePeriod is how long the pod's containers get between SIGTERM and
// SIGKILL.
func (a *Agent) gracePeriod(pod *api.Pod) time.Duration {
	if s := pod.GetMetadata().GetDeletionGracePeriodSeconds(); s > 0 {
		return time.Duration(s) * time.Second
	}
	if s := pod.GetSpec().GetTerminationGracePeriodSeconds(); s > 0 {
		return time.Duration(s) * time.Second
	}
	return a.cfg.DefaultGracePeriod
}

// sync brings the runtime in line with the pod stored under key and writes
// the pod's status. It returns when to sync again (0: only on a change).
func (a *Agent) sync(ctx context.Context, key string) (time.Duration, error) {
	ns, name, _ := strings.Cut(key, "/")
	obj, exists := a.pods.Get(ns, name)
	st := a.getState(key)
	if !exists {
		// Gone from the store (or no longer bound here): free everything.
		if st != nil {
			if err := a.teardownUID(ctx, st.uid, st.grace); err != nil {
				return 0, err
			}
			a.setState(key, nil)
		}
		return 0, nil
	}
	pod := obj.(*api.Pod)
	uid := pod.GetMetadata().GetUid()
	log := a.log.With("pod", key)
	if st != nil && st.uid != uid {
		// Same name, new pod: the old one is gone.
		if err := a.teardownUID(ctx, st.uid, st.grace); err != nil {
			return 0, err
		}
		a.setState(key, nil)
		st = nil
	}
	if st == nil {
		st = &podState{uid: uid, waiting: map[string]waitReason{}, startFailures: map[string]int{},
			retryAt: map[string]time.Time{}, probes: map[string]*probeState{}, backoffEvent: map[string]int{}}
	}
	a.mu.Lock()
	st.pod = pod
	a.mu.Unlock()
	st.grace = a.gracePeriod(pod)
	a.setState(key, st)

	if pod.GetMetadata().GetDeletionTimestamp() != nil {
		return 0, a.terminate(ctx, pod, st)
	}
	if !slices.Contains(pod.GetMetadata().GetFinalizers(), FinalizerNodeAgent) {
		if _, err := store.For[*api.Pod](a.cfg.Store).Mutate(ctx, ns, name, func(p *api.Pod) error {
			if p.GetMetadata().GetUid() != uid {
				return store.Errorf(store.ErrConflict, "pod %s was replaced", key)
			}
			if !slices.Contains(p.GetMetadata().GetFinalizers(), FinalizerNodeAgent) {
				api.Meta(p).Finalizers = append(api.Meta(p).Finalizers, FinalizerNodeAgent)
			}
			return nil
		}); err != nil {
			return 0, fmt.Errorf("add finalizer: %w", err)
		}
		// The update comes back through the informer and syncs again.
		return 0, nil
	}
	if st.finished {
		// Terminal, and the cache may not show the phase we wrote yet: a
		// run now would take the stopped sandbox for a broken one.
		return 0, nil
	}
	if ph := pod.GetStatus().GetPhase(); ph == PhaseSucceeded || ph == PhaseFailed {
		return 0, a.finish(ctx, st, log)
	}
	return a.run(ctx, pod, st, log)
}

// run drives a live pod one step: volumes, sandbox, init containers, app
// containers, probes, status.
func (a *Agent) run(ctx context.Context, pod *api.Pod, st *podState, log interface {
	Info(string, ...any)
	Warn(string, ...any)
}) (time.Duration, error) {
	if d := pod.GetSpec().GetActiveDeadlineSeconds(); d > 0 && pod.GetStatus().GetStartTime() != nil {
		deadline := pod.GetStatus().GetStartTime().AsTime().Add(time.Duration(d) * time.Second)
		if !a.now().Before(deadline) {
			return 0, a.deadlineExceeded(ctx, pod, st, log)
		}
		defer func() {
			if remaining := deadline.Sub(a.now()); remaining > 0 {
				a.queue.AddAfter(informerKey(pod), remaining)
			}
		}()
	}
	if !st.volumesReady {
		paths, err := a.volumes.SetUpPod(ctx, pod, a.podDir(st.uid))
		if err != nil {
			a.writeWaitingStatus(ctx, pod, "ContainerCreating", err.Error())
			return 0, fmt.Errorf("volumes: %w", err)
		}
		a.mu.Lock()
		st.volumePaths, st.volumesReady = paths, true
		a.mu.Unlock()
		st.volumeLabels, st.volumeAnnotations = maps.Clone(pod.GetMetadata().GetLabels()), maps.Clone(pod.GetMetadata().GetAnnotations())
	} else if m := pod.GetMetadata(); !maps.Equal(m.GetLabels(), st.volumeLabels) || !maps.Equal(m.GetAnnotations(), st.volumeAnnotations) {
		// Labels or annotations changed: downward API files follow now
		// (the refresher only watches ConfigMaps and Secrets). On error the
		// next sync, or the refresher's resync, tries again.
		if err := a.volumes.UpdatePod(ctx, pod, a.podDir(st.uid)); err != nil {
			log.Warn("refresh volumes after a metadata change", "err", err)
		} else {
			st.volumeLabels, st.volumeAnnotations = maps.Clone(m.GetLabels()), maps.Clone(m.GetAnnotations())
		}
	}
	sb, podIP, err := a.ensureSandbox(ctx, pod, st)
	if err != nil {
		a.writeWaitingStatus(ctx, pod, "ContainerCreating", err.Error())
		return 0, err
	}
	ctrs, err := a.cfg.Runtime.ListContainers(ctx, &runtime.ContainerFilter{SandboxID: sb.ID})
	if err != nil {
		return 0, fmt.Errorf("list containers: %w", err)
	}
	byName := latestByName(ctrs)
	now := a.now()
	next := a.cfg.ResyncPeriod
	wake := func(at time.Time) {
		if d := at.Sub(now); d > 0 && d < next {
			next = d
		}
	}
	policy := pod.GetSpec().GetRestartPolicy()
	if policy == "" {
		policy = RestartAlways
	}
	// Init containers run one at a time, in order, each to success.
	initDone, initFailed := true, false
	for _, c := range pod.GetSpec().GetInitContainers() {
		cur := byName[c.GetName()]
		switch {
		case cur == nil:
			initDone = false
			a.startContainer(ctx, pod, st, sb, podIP, c, true, 0, byName, wake, log)
		case cur.State == runtime.ContainerCreated:
			// Created but never started (an agent died in between): redo.
			initDone = false
			a.startContainer(ctx, pod, st, sb, podIP, c, true, cur.Attempt, byName, wake, log)
		case cur.State == runtime.ContainerExited && cur.ExitCode == 0:
			continue
		case cur.State == runtime.ContainerExited:
			initDone = false
			if policy == RestartNever {
				initFailed = true
				break
			}
			if at := a.restartAt(cur); !now.Before(at) {
				a.startContainer(ctx, pod, st, sb, podIP, c, true, cur.Attempt+1, byName, wake, log)
			} else {
				wake(at)
			}
		default:
			initDone = false
		}
		break
	}
	if initDone {
		for _, c := range pod.GetSpec().GetContainers() {
			cur := byName[c.GetName()]
			switch {
			case cur == nil:
				a.startContainer(ctx, pod, st, sb, podIP, c, false, 0, byName, wake, log)
			case cur.State == runtime.ContainerCreated:
				a.startContainer(ctx, pod, st, sb, podIP, c, false, cur.Attempt, byName, wake, log)
			case cur.State == runtime.ContainerRunning:
				a.probe(ctx, pod, st, sb, podIP, c, cur, wake, log)
			case cur.State == runtime.ContainerExited && shouldRestart(policy, cur.ExitCode):
				if at := a.restartAt(cur); !now.Before(at) {
					a.startContainer(ctx, pod, st, sb, podIP, c, false, cur.Attempt+1, byName, wake, log)
				} else {
					wake(at)
					if st.backoffEvent[cur.ID] == 0 {
						st.backoffEvent[cur.ID] = 1
						a.event(ctx, pod, events.TypeWarning, "BackOff", "back-off %s restarting failed container %s", a.backoff(cur), c.GetName())
					}
				}
			}
		}
	}
	// Read back what the runtime now holds and report it.
	ctrs, err = a.cfg.Runtime.ListContainers(ctx, &runtime.ContainerFilter{SandboxID: sb.ID})
	if err != nil {
		return 0, fmt.Errorf("list containers: %w", err)
	}
	status := a.buildStatus(pod, st, ctrs, podIP, initDone, initFailed, policy)
	if err := a.writeStatus(ctx, pod, status); err != nil {
		return 0, err
	}
	if status.Phase == PhaseSucceeded || status.Phase == PhaseFailed {
		return 0, a.finish(ctx, st, log)
	}
	return next, nil
}

// shouldRestart applies the restart policy to an exited container.
func shouldRestart(policy string, exitCode int) bool {
	switch policy {
	case RestartNever:
		return false
	case RestartOnFailure:
		return exitCode != 0
	default:
		return true
	}
}

// restartAt is when an exited container may be restarted: at once the
// first time (or after a long run), then after BackoffBase doubling per
// restart up to BackoffMax.
func (a *Agent) restartAt(c *runtime.ContainerStatus) time.Time {
	return c.FinishedAt.Add(a.backoff(c))
}

func (a *Agent) backoff(c *runtime.ContainerStatus) time.Duration {
	n := int(c.Attempt)
	if !c.StartedAt.IsZero() && c.FinishedAt.Sub(c.StartedAt) >= a.cfg.BackoffReset {
		n = 0
	}
	if n == 0 {
		return 0
	}
	d := a.cfg.BackoffBase
	for i := 1; i < n && d < a.cfg.BackoffMax; i++ {
		d *= 2
	}
	return min(d, a.cfg.BackoffMax)
}

// latestByName returns each container name's highest attempt.
func latestByName(ctrs []*runtime.ContainerStatus) map[string]*runtime.ContainerStatus {
	out := map[string]*runtime.ContainerStatus{}
	for _, c := range ctrs {
		name := c.Labels[LabelContainer]
		if name == "" {
			name = c.Name
		}
		if cur, ok := out[name]; !ok || c.Attempt > cur.Attempt || (c.Attempt == cur.Attempt && c.CreatedAt.After(cur.CreatedAt)) {
			out[name] = c
		}
	}
	return out
}

// ensureSandbox returns the pod's ready sandbox, adopting one a previous
// agent made or creating one (with its network), and the pod's IP.
func (a *Agent) ensureSandbox(ctx context.Context, pod *api.Pod, st *podState) (*runtime.SandboxStatus, string, error) {
	sbs, err := a.cfg.Runtime.ListPodSandboxes(ctx, a.sandboxFilter(st.uid))
	if err != nil {
		return nil, "", fmt.Errorf("list sandboxes: %w", err)
	}
	var ready *runtime.SandboxStatus
	var attempt uint32
	for _, sb := range sbs {
		attempt = max(attempt, sb.Attempt+1)
		if sb.State == runtime.SandboxReady && (ready == nil || sb.Attempt > ready.Attempt) {
			ready = sb
		}
	}
	for _, sb := range sbs {
		if sb != ready {
			// A stale sandbox (a crash, a failed start): free it.
			if err := a.removeSandbox(ctx, sb, 0); err != nil {
				return nil, "", err
			}
		}
	}
	if ready != nil {
		return ready, ready.Annotations[annotationPodIP], nil
	}
	return a.createSandbox(ctx, pod, st, attempt)
}

func (a *Agent) createSandbox(ctx context.Context, pod *api.Pod, st *podState, attempt uint32) (_ *runtime.SandboxStatus, _ string, retErr error) {
	m := pod.GetMetadata()
	cfg := &runtime.SandboxConfig{
		Name: m.GetName(), Namespace: m.GetNamespace(), UID: st.uid, Attempt: attempt,
		Hostname: pod.GetSpec().GetHostname(),
		Labels: map[string]string{
			LabelNode: a.cfg.NodeName, LabelPodUID: st.uid,
			LabelPodName: m.GetName(), LabelPodNamespace: m.GetNamespace(),
		},
		Annotations: map[string]string{},
	}
	rc, err := a.resolvConf(pod)
	if err != nil {
		return nil, "", err
	}
	cfg.ResolvConf = rc
	for _, h := range pod.GetSpec().GetHostAliases() {
		cfg.Hosts = append(cfg.Hosts, runtime.HostEntry{IP: h.GetIp(), Names: h.GetHostnames()})
	}
	var podIP string
	switch {
	case pod.GetSpec().GetHostNetwork():
		// The pod shares the node's network namespace and IP.
		cfg.NetNSPath = a.cfg.HostNetNS
		if cfg.NetNSPath == "" {
			cfg.NetNSPath = fmt.Sprintf("/proc/%d/ns/net", os.Getpid())
		}
		podIP = a.nodeIP
		cfg.Annotations[annotationPodIP] = podIP
	case a.cfg.Network != nil:
		netID := st.uid + "-" + strconv.FormatUint(uint64(attempt), 10)
		path, err := a.netns.Create(a.netnsDir(), netID)
		if err != nil {
			return nil, "", fmt.Errorf("pod netns: %w", err)
		}
		nsb := network.Sandbox{ID: netID, NetNS: path, Namespace: m.GetNamespace(), Name: m.GetName(), UID: st.uid, PortMappings: portMappings(pod)}
		defer func() {
			if retErr != nil {
				// Cleanup must run even when ctx ended.
				cctx := context.WithoutCancel(ctx)
				_ = a.cfg.Network.TearDown(cctx, nsb)
				_ = a.netns.Delete(path)
			}
		}()
		res, err := a.cfg.Network.SetUp(ctx, nsb)
		if err != nil {
			return nil, "", fmt.Errorf("pod network: %w", err)
		}
		if ip := res.PrimaryIP(); ip.IsValid() {
			podIP = ip.String()
		}
		cfg.NetNSPath = path
		cfg.Annotations[annotationNetworkID] = netID
		cfg.Annotations[annotationNetNS] = "true"
		cfg.Annotations[annotationPodIP] = podIP
		if podIP != "" {
			host := pod.GetSpec().GetHostname()
			if host == "" {
				host = m.GetName()
			}
			cfg.Hosts = append([]runtime.HostEntry{{IP: podIP, Names: []string{host}}}, cfg.Hosts...)
		}
	}
	id, err := a.cfg.Runtime.RunPodSandbox(ctx, cfg)
	if err != nil {
		return nil, "", fmt.Errorf("run sandbox: %w", err)
	}
	sb, err := a.cfg.Runtime.PodSandboxStatus(ctx, id)
	if err != nil {
		_ = a.cfg.Runtime.RemovePodSandbox(context.WithoutCancel(ctx), id)
		return nil, "", fmt.Errorf("sandbox status: %w", err)
	}
	return sb, podIP, nil
}

func portMappings(pod *api.Pod) []network.PortMapping {
	var out []network.PortMapping
	for _, c := range pod.GetSpec().GetContainers() {
		for _, p := range c.GetPorts() {
			if p.GetHostPort() > 0 {
				out = append(out, network.PortMapping{HostPort: p.GetHostPort(), ContainerPort: p.GetContainerPort(), Protocol: p.GetProtocol(), HostIP: p.GetHostIp()})
			}
		}
	}
	return out
}

// startContainer creates and starts container c with the given attempt.
// A failure is recorded as the container's waiting reason and retried with
// backoff; it never fails the sync.
func (a *Agent) startContainer(ctx context.Context, pod *api.Pod, st *podState, sb *runtime.SandboxStatus, podIP string,
	c *api.Container, isInit bool, attempt uint32, byName map[string]*runtime.ContainerStatus, wake func(time.Time),
	log interface{ Warn(string, ...any) }) {
	name := c.GetName()
	if at, ok := st.retryAt[name]; ok && a.now().Before(at) {
		wake(at)
		return
	}
	reason, err := a.createAndStart(ctx, pod, st, sb, podIP, c, isInit, attempt)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		st.startFailures[name]++
		d := min(a.cfg.BackoffBase<<min(st.startFailures[name]-1, 20), a.cfg.BackoffMax)
		st.retryAt[name] = a.now().Add(d)
		st.waiting[name] = waitReason{reason, err.Error()}
		wake(st.retryAt[name])
		log.Warn("container start failed", "container", name, "reason", reason, "err", err)
		a.event(ctx, pod, events.TypeWarning, "Failed", "container %s: %s: %v", name, reason, err)
		return
	}
	delete(st.startFailures, name)
	delete(st.retryAt, name)
	delete(st.waiting, name)
	if prev := byName[name]; prev != nil {
		delete(st.backoffEvent, prev.ID)
	}
	// Keep only the previous attempt (it is the container's lastState).
	if prev := byName[name]; prev != nil {
		ctrs, err := a.cfg.Runtime.ListContainers(ctx, &runtime.ContainerFilter{SandboxID: sb.ID, Labels: map[string]string{LabelContainer: name}})
		if err == nil {
			for _, old := range ctrs {
				if old.Attempt < prev.Attempt {
					_ = a.cfg.Runtime.RemoveContainer(ctx, old.ID)
				}
			}
		}
	}
}

func (a *Agent) createAndStart(ctx context.Context, pod *api.Pod, st *podState, sb *runtime.SandboxStatus, podIP string,
	c *api.Container, isInit bool, attempt uint32) (string, error) {
	img, err := a.ensureImage(ctx, pod, c)
	if err != nil {
		return "ErrImagePull", err
	}
	cfg, err := a.containerConfig(ctx, pod, st, podIP, c, isInit, attempt, img)
	if err != nil {
		return "CreateContainerConfigError", err
	}
	id, err := a.cfg.Runtime.CreateContainer(ctx, sb.ID, cfg)
	if errors.Is(err, runtime.ErrAlreadyExists) {
		// A previous agent created it and died before starting it.
		ctrs, lerr := a.cfg.Runtime.ListContainers(ctx, &runtime.ContainerFilter{SandboxID: sb.ID, Labels: map[string]string{LabelContainer: c.GetName()}})
		if lerr == nil {
			for _, old := range ctrs {
				if old.Attempt == attempt {
					_ = a.cfg.Runtime.RemoveContainer(ctx, old.ID)
				}
			}
		}
		id, err = a.cfg.Runtime.CreateContainer(ctx, sb.ID, cfg)
	}
	if err != nil {
		return "CreateContainerError", err
	}
	if err := a.cfg.Runtime.StartContainer(ctx, id); err != nil {
		_ = a.cfg.Runtime.RemoveContainer(context.WithoutCancel(ctx), id)
		return "RunContainerError", err
	}
	if h := c.GetLifecycle().GetPostStart().GetExec(); h != nil {
		if err := a.execHook(ctx, id, h.GetCommand(), st.grace); err != nil {
			// Like the kubelet: a failed postStart hook kills the container,
			// and the restart policy decides what follows.
			_ = a.cfg.Runtime.StopContainer(ctx, id, 0)
			return "PostStartHookError", fmt.Errorf("postStart hook: %w", err)
		}
	}
	return "", nil
}

// execHook runs a lifecycle hook's command in a container, bounded by limit.
func (a *Agent) execHook(ctx context.Context, id string, cmd []string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var out strings.Builder
	code, err := a.cfg.Runtime.Exec(ctx, id, runtime.ExecRequest{Cmd: cmd, Stdout: &out, Stderr: &out})
	if err != nil {
		return err
	}
	if code != 0 {
		return fmt.Errorf("exited %d: %s", code, strings.TrimSpace(out.String()))
	}
	return nil
}

// runPreStop runs the preStop exec hooks of the pod's running containers in
// parallel and returns what is left of the grace period (at least 2s, as
// the kubelet grants after a hook).
func (a *Agent) runPreStop(ctx context.Context, pod *api.Pod, uid string, grace time.Duration) time.Duration {
	hooks := map[string][]string{}
	for _, c := range pod.GetSpec().GetContainers() {
		if h := c.GetLifecycle().GetPreStop().GetExec(); h != nil {
			hooks[c.GetName()] = h.GetCommand()
		}
	}
	if len(hooks) == 0 {
		return grace
	}
	ctrs, err := a.cfg.Runtime.ListContainers(ctx, &runtime.ContainerFilter{State: runtime.ContainerRunning,
		Labels: map[string]string{LabelNode: a.cfg.NodeName, LabelPodUID: uid}})
	if err != nil {
		return grace
	}
	start := a.now()
	var wg sync.WaitGroup
	for _, ctr := range ctrs {
		cmd, ok := hooks[ctr.Labels[LabelContainer]]
		if !ok {
			continue
		}
		wg.Go(func() {
			if err := a.execHook(ctx, ctr.ID, cmd, grace); err != nil {
				a.log.Warn("preStop hook failed", "pod", pod.GetMetadata().GetNamespace()+"/"+pod.GetMetadata().GetName(), "container", ctr.Labels[LabelContainer], "err", err)
			}
		})
	}
	wg.Wait()
	return max(grace-a.now().Sub(start), 2*time.Second)
}

// ensureImage pulls the container's image per its pull policy.
func (a *Agent) ensureImage(ctx context.Context, pod *api.Pod, c *api.Container) (*runtime.Image, error) {
	policy := c.GetImagePullPolicy()
	if policy == "" {
		policy = "IfNotPresent"
		if ref := c.GetImage(); !strings.Contains(lastElem(ref), ":") || strings.HasSuffix(ref, ":latest") {
			if !strings.Contains(ref, "@") {
				policy = "Always"
			}
		}
	}
	if policy != "Always" {
		img, err := a.cfg.Runtime.ImageStatus(ctx, c.GetImage())
		if err == nil {
			return img, nil
		}
		if !runtime.IsNotFound(err) {
			return nil, err
		}
		if policy == "Never" {
			return nil, fmt.Errorf("image %s not present and pull policy is Never: %w", c.GetImage(), err)
		}
	}
	auth, err := a.pullAuth(ctx, pod, c.GetImage())
	if err != nil {
		return nil, err
	}
	return a.cfg.Runtime.PullImage(ctx, c.GetImage(), auth)
}

func lastElem(ref string) string {
	if i := strings.LastIndex(ref, "/"); i >= 0 {
		return ref[i+1:]
	}
	return ref
}

// containerConfig turns c into the runtime's terms.
func (a *Agent) containerConfig(ctx context.Context, pod *api.Pod, st *podState, podIP string, c *api.Container, isInit bool, attempt uint32, img *runtime.Image) (*runtime.ContainerConfig, error) {
	// The downward API sees the pod's addresses.
	envPod := proto.Clone(pod).(*api.Pod)
	if envPod.Status == nil {
		envPod.Status = &api.PodStatus{}
	}
	envPod.Status.PodIp, envPod.Status.HostIp = podIP, a.nodeIP
	env, err := a.env.Resolve(ctx, envPod, c)
	if err != nil {
		return nil, fmt.Errorf("env: %w", err)
	}
	res, err := runtime.ResourcesFor(c.GetResources())
	if err != nil {
		return nil, err
	}
	cfg := &runtime.ContainerConfig{
		Name: c.GetName(), Attempt: attempt, Image: c.GetImage(),
		Command: c.GetCommand(), Args: c.GetArgs(), WorkingDir: c.GetWorkingDir(),
		Resources: res,
		Labels: map[string]string{
			LabelNode: a.cfg.NodeName, LabelPodUID: st.uid, LabelContainer: c.GetName(),
			LabelPodName: pod.GetMetadata().GetName(), LabelPodNamespace: pod.GetMetadata().GetNamespace(),
		},
	}
	if img != nil && img.ID != "" {
		cfg.Image = c.GetImage()
	}
	if isInit {
		cfg.Labels[LabelInit] = "true"
	}
	for _, kv := range env.Env {
		k, v, _ := strings.Cut(kv, "=")
		cfg.Env = append(cfg.Env, runtime.EnvVar{Name: k, Value: v})
	}
	for _, vm := range c.GetVolumeMounts() {
		host, ok := st.volumePaths[vm.GetName()]
		if !ok {
			return nil, fmt.Errorf("volume mount %q: no such volume", vm.GetName())
		}
		if sp := vm.GetSubPath(); sp != "" {
			clean := filepath.Clean("/" + sp)
			host = filepath.Join(host, clean)
			if _, err := os.Stat(host); errors.Is(err, os.ErrNotExist) {
				if err := os.MkdirAll(host, 0o755); err != nil {
					return nil, fmt.Errorf("volume mount %q: subPath: %w", vm.GetName(), err)
				}
			}
		}
		cfg.Mounts = append(cfg.Mounts, runtime.Mount{HostPath: host, ContainerPath: vm.GetMountPath(), ReadOnly: vm.GetReadOnly()})
	}
	sc, psc := c.GetSecurityContext(), pod.GetSpec().GetSecurityContext()
	if sc != nil && sc.RunAsUser != nil {
		cfg.Security.RunAsUser = sc.RunAsUser
	} else if psc != nil && psc.RunAsUser != nil {
		cfg.Security.RunAsUser = psc.RunAsUser
	}
	if sc != nil && sc.RunAsGroup != nil {
		cfg.Security.RunAsGroup = sc.RunAsGroup
	} else if psc != nil && psc.RunAsGroup != nil {
		cfg.Security.RunAsGroup = psc.RunAsGroup
	}
	if sc != nil {
		cfg.Security.ReadOnlyRootfs = sc.GetReadOnlyRootFilesystem()
		cfg.Security.AddCapabilities = sc.GetCapabilities().GetAdd()
		cfg.Security.DropCapabilities = sc.GetCapabilities().GetDrop()
		cfg.Security.AllowPrivilegeEscalation = sc.AllowPrivilegeEscalation != nil && *sc.AllowPrivilegeEscalation
	}
	return cfg, nil
}

// terminate stops a pod being deleted: SIGTERM, the grace period, SIGKILL;
// then frees its network and volumes and releases the pod by removing the
// agent's finalizer.
func (a *Agent) terminate(ctx context.Context, pod *api.Pod, st *podState) error {
	key := pod.GetMetadata().GetNamespace() + "/" + pod.GetMetadata().GetName()
	grace := st.grace
	if !st.preStopDone {
		grace = a.runPreStop(ctx, pod, st.uid, grace)
		st.preStopDone = true
	}
	if err := a.teardownUID(ctx, st.uid, grace); err != nil {
		return err
	}
	a.mu.Lock()
	st.volumesReady = false
	a.mu.Unlock()
	_, err := store.For[*api.Pod](a.cfg.Store).Mutate(ctx, pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName(), func(p *api.Pod) error {
		if p.GetMetadata().GetUid() != st.uid {
			return errGone
		}
		m := api.Meta(p)
		m.Finalizers = slices.DeleteFunc(m.Finalizers, func(f string) bool { return f == FinalizerNodeAgent })
		return nil
	})
	if err != nil && !errors.Is(err, errGone) && !store.IsNotFound(err) {
		return fmt.Errorf("release pod: %w", err)
	}
	a.log.Info("pod terminated and released", "pod", key)
	return nil
}

var errGone = errors.New("pod replaced")

// finish frees the sandbox and network of a pod that reached Succeeded or
// Failed; its exited containers (and their logs) stay until it is deleted.
func (a *Agent) finish(ctx context.Context, st *podState, log interface{ Info(string, ...any) }) error {
	if st.finished {
		return nil
	}
	sbs, err := a.cfg.Runtime.ListPodSandboxes(ctx, a.sandboxFilter(st.uid))
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	for _, sb := range sbs {
		if err := a.stopContainers(ctx, sb.ID, st.grace); err != nil {
			return err
		}
		if err := a.cfg.Runtime.StopPodSandbox(ctx, sb.ID); err != nil {
			return fmt.Errorf("stop sandbox: %w", err)
		}
		if err := a.teardownNetwork(ctx, sb); err != nil {
			return err
		}
	}
	st.finished = true
	log.Info("pod finished, sandbox stopped")
	return nil
}

// teardownUID stops every container of pod uid (SIGTERM, grace, SIGKILL),
// removes its sandboxes, frees its network and tears down its volumes.
func (a *Agent) teardownUID(ctx context.Context, uid string, grace time.Duration) error {
	sbs, err := a.cfg.Runtime.ListPodSandboxes(ctx, a.sandboxFilter(uid))
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	for _, sb := range sbs {
		if err := a.removeSandbox(ctx, sb, grace); err != nil {
			return err
		}
	}
	return a.removePodDir(ctx, uid)
}

// removeSandbox stops the sandbox's containers gracefully and frees the
// sandbox, its network and its network namespace.
func (a *Agent) removeSandbox(ctx context.Context, sb *runtime.SandboxStatus, grace time.Duration) error {
	if err := a.stopContainers(ctx, sb.ID, grace); err != nil {
		return err
	}
	if err := a.cfg.Runtime.StopPodSandbox(ctx, sb.ID); err != nil && !runtime.IsNotFound(err) {
		return fmt.Errorf("stop sandbox: %w", err)
	}
	if err := a.teardownNetwork(ctx, sb); err != nil {
		return err
	}
	if err := a.cfg.Runtime.RemovePodSandbox(ctx, sb.ID); err != nil {
		return fmt.Errorf("remove sandbox: %w", err)
	}
	if sb.Annotations[annotationNetNS] == "true" && sb.NetNSPath != "" {
		if err := a.netns.Delete(sb.NetNSPath); err != nil {
			return fmt.Errorf("remove netns: %w", err)
		}
	}
	return nil
}

func (a *Agent) teardownNetwork(ctx context.Context, sb *runtime.SandboxStatus) error {
	id := sb.Annotations[annotationNetworkID]
	if id == "" || a.cfg.Network == nil {
		return nil
	}
	if err := a.cfg.Network.TearDown(ctx, network.Sandbox{ID: id, NetNS: sb.NetNSPath, Namespace: sb.Namespace, Name: sb.Name, UID: sb.UID}); err != nil {
		return fmt.Errorf("network teardown: %w", err)
	}
	return nil
}

// stopContainers stops the running containers of a sandbox in parallel,
// each with the grace period.
func (a *Agent) stopContainers(ctx context.Context, sandboxID string, grace time.Duration) error {
	ctrs, err := a.cfg.Runtime.ListContainers(ctx, &runtime.ContainerFilter{SandboxID: sandboxID})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ctrs))
	for i, c := range ctrs {
		if c.State != runtime.ContainerRunning && c.State != runtime.ContainerCreated {
			continue
		}
		wg.Go(func() {
			if err := a.cfg.Runtime.StopContainer(ctx, c.ID, grace); err != nil && !runtime.IsNotFound(err) {
				errs[i] = fmt.Errorf("stop container %s: %w", c.Name, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// resolvConf returns the pod's /etc/resolv.conf per its dnsPolicy: nil (the
// host's) for Default, hostNetwork pods and ClusterFirst without
// Config.ClusterDNS; the cluster DNS for ClusterFirst; dnsConfig alone for
// None. A dnsConfig is appended to the cluster one.
func (a *Agent) resolvConf(pod *api.Pod) ([]byte, error) {
	spec := pod.GetSpec()
	policy := spec.GetDnsPolicy()
	var b strings.Builder
	switch {
	case policy == "None":
	case policy == "Default" || spec.GetHostNetwork() || len(a.cfg.ClusterDNS) == 0:
		if spec.GetDnsConfig() == nil {
			return nil, nil
		}
		host, err := os.ReadFile("/etc/resolv.conf")
		if err == nil {
			b.Write(host)
			if len(host) > 0 && host[len(host)-1] != '\n' {
				b.WriteByte('\n')
			}
		}
	default:
		rc, err := dns.ResolvConf(pod.GetMetadata().GetNamespace(), a.cfg.ClusterDomain, a.cfg.ClusterDNS)
		if err != nil {
			return nil, fmt.Errorf("resolv.conf: %w", err)
		}
		b.Write(rc)
	}
	dc := spec.GetDnsConfig()
	for _, ns := range dc.GetNameservers() {
		fmt.Fprintf(&b, "nameserver %s\n", ns)
	}
	if len(dc.GetSearches()) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(dc.GetSearches(), " "))
	}
	var opts []string
	for _, o := range dc.GetOptions() {
		if o.GetValue() != "" {
			opts = append(opts, o.GetName()+":"+o.GetValue())
		} else {
			opts = append(opts, o.GetName())
		}
	}
	if len(opts) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(opts, " "))
	}
	if b.Len() == 0 {
		return nil, nil
	}
	return []byte(b.String()), nil
}

func informerKey(pod *api.Pod) string {
	return pod.GetMetadata().GetNamespace() + "/" + pod.GetMetadata().GetName()
}

// deadlineExceeded kills a pod that ran past spec.activeDeadlineSeconds and
// marks it Failed with reason DeadlineExceeded.
func (a *Agent) deadlineExceeded(ctx context.Context, pod *api.Pod, st *podState, log interface{ Info(string, ...any) }) error {
	sbs, err := a.cfg.Runtime.ListPodSandboxes(ctx, a.sandboxFilter(st.uid))
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	for _, sb := range sbs {
		if err := a.stopContainers(ctx, sb.ID, st.grace); err != nil {
			return err
		}
	}
	ctrs, err := a.cfg.Runtime.ListContainers(ctx, &runtime.ContainerFilter{Labels: map[string]string{LabelNode: a.cfg.NodeName, LabelPodUID: st.uid}})
	if err != nil {
		return fmt.Errorf("list containers: %w", err)
	}
	initDone := true
	byName := latestByName(ctrs)
	for _, c := range pod.GetSpec().GetInitContainers() {
		if cur := byName[c.GetName()]; cur == nil || cur.State != runtime.ContainerExited || cur.ExitCode != 0 {
			initDone = false
		}
	}
	status := a.buildStatus(pod, st, ctrs, pod.GetStatus().GetPodIp(), initDone, false, RestartNever)
	status.Phase = PhaseFailed
	status.Reason = "DeadlineExceeded"
	status.Message = fmt.Sprintf("Pod was active on the node longer than the specified deadline (%ds)", pod.GetSpec().GetActiveDeadlineSeconds())
	a.event(ctx, pod, events.TypeWarning, "DeadlineExceeded", "%s", status.Message)
	if err := a.writeStatus(ctx, pod, status); err != nil {
		return err
	}
	return a.finish(ctx, st, log)
}
