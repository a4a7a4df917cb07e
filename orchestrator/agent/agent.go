package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/orchestrator/events"
	"github.com/coxswain-io/coxswain/orchestrator/workqueue"
	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/store/informer"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/envvars"
	"github.com/coxswain-io/coxswain/volume/plugins"
	"github.com/coxswain-io/coxswain/volume/refresher"
)

// FinalizerNodeAgent is the finalizer that keeps a pod in the store until
// the agent of its node has stopped its containers and freed its network
// and volumes. The scheduler adds it when it binds a pod; the agent adds it
// to pods it runs that lack it.
const FinalizerNodeAgent = "coxswain.io/node-agent"

// Labels and annotations the agent puts on the runtime's sandboxes and
// containers, by which a restarted agent finds what it owns.
const (
	LabelNode         = "coxswain.io/node"
	LabelPodUID       = "coxswain.io/pod-uid"
	LabelPodName      = "coxswain.io/pod-name"
	LabelPodNamespace = "coxswain.io/pod-namespace"
	LabelContainer    = "coxswain.io/container"
	LabelInit         = "coxswain.io/init-container"

	annotationNetworkID = "coxswain.io/network-id"
	annotationPodIP     = "coxswain.io/pod-ip"
	annotationNetNS     = "coxswain.io/netns-owned"
)

// NetNS creates and removes the network namespaces of pods when a Network
// is configured. [HostNetNS] is the real one.
type NetNS interface {
	// Create makes a namespace pinned at dir/name and returns its path.
	Create(dir, name string) (string, error)
	// Delete removes a namespace made by Create; a missing one succeeds.
	Delete(path string) error
}

// HostNetNS creates real network namespaces (network.NewNetNS).
type HostNetNS struct{}

// Create implements NetNS.
func (HostNetNS) Create(dir, name string) (string, error) { return network.NewNetNS(dir, name) }

// Delete implements NetNS.
func (HostNetNS) Delete(path string) error { return network.DeleteNetNS(path) }

// Agent is a node agent. Create it with New and run it with Start.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	volumes *volume.Registry
	env     *envvars.Resolver
	netns   NetNS
	events  *events.Recorder
	nodeIP  string
	now     func() time.Time

	nodeStatusBase *api.NodeStatus

	pods  *informer.Informer
	queue *workqueue.Queue[string]

	mu    sync.Mutex
	state map[string]*podState // by namespace/name
}

// Option tunes an Agent beyond its Config (mostly for tests).
type Option func(*Agent)

// WithNetNS replaces how pod network namespaces are made (default
// HostNetNS), for tests that run a fake network without root.
func WithNetNS(n NetNS) Option { return func(a *Agent) { a.netns = n } }

// New returns an agent for cfg, which it validates.
func New(ctx context.Context, cfg Config, opts ...Option) (*Agent, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Agent{
		cfg:    cfg,
		log:    cfg.Logger.With("node", cfg.NodeName),
		netns:  HostNetNS{},
		nodeIP: cfg.NodeIP,
		now:    time.Now,
		state:  map[string]*podState{},
	}
	for _, o := range opts {
		o(a)
	}
	if a.nodeIP == "" {
		a.nodeIP = detectNodeIP()
	}
	capacity, err := a.machineCapacity()
	if err != nil {
		return nil, err
	}
	alloc, err := a.allocatable(capacity)
	if err != nil {
		return nil, err
	}
	a.volumes = cfg.Volumes
	if a.volumes == nil {
		reg, err := plugins.NewRegistry(ctx, plugins.Config{Objects: cfg.Store, NodeAllocatable: alloc, Log: a.log})
		if err != nil {
			return nil, fmt.Errorf("agent: %w", err)
		}
		a.volumes = reg
	}
	a.env = &envvars.Resolver{Objects: cfg.Store, NodeAllocatable: alloc}
	a.events = events.NewRecorder(cfg.Store, "node-agent", events.WithHost(cfg.NodeName), events.WithLogger(a.log))
	return a, nil
}

// event records an Event about pod; a failure is only logged.
func (a *Agent) event(ctx context.Context, pod *api.Pod, typ, reason, format string, args ...any) {
	if _, err := a.events.Eventf(ctx, pod, typ, reason, format, args...); err != nil && ctx.Err() == nil {
		a.log.Debug("event not recorded", "pod", informerKey(pod), "reason", reason, "err", err)
	}
}

// Volumes returns the volume registry the agent uses.
func (a *Agent) Volumes() *volume.Registry { return a.volumes }

// podDir is the directory of the pod with uid.
func (a *Agent) podDir(uid string) string { return filepath.Join(a.cfg.RootDir, "pods", uid) }

// netnsDir holds the network namespaces the agent creates.
func (a *Agent) netnsDir() string { return filepath.Join(a.cfg.RootDir, "netns") }

// Start registers the node, adopts or removes what the runtime holds, and
// runs the pods bound to the node until ctx ends; it then returns nil,
// leaving the pods' containers running (a restarted agent adopts them).
// It returns an error if the node cannot be registered or the pod watch
// cannot start.
func (a *Agent) Start(ctx context.Context) error {
	if err := a.register(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := a.renewLease(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	inf, err := informer.New(a.cfg.Store, api.KindPod,
		informer.WithFieldSelector("spec.nodeName="+a.cfg.NodeName),
		informer.WithLogger(a.log))
	if err != nil {
		return fmt.Errorf("agent: pod informer: %w", err)
	}
	a.pods = inf
	a.queue = workqueue.New(workqueue.Config[string]{
		RateLimiter: workqueue.NewExponential[string](100*time.Millisecond, a.cfg.BackoffMax),
	})
	enqueue := func(obj api.Object) { a.queue.Add(informer.KeyOf(obj)) }
	inf.AddEventHandler(informer.HandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj api.Object) { enqueue(obj) },
		DeleteFunc: enqueue,
	})

	// On return: stop the queue, end the context, then wait for every
	// goroutine (in that order, so none waits on a context still live).
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer a.queue.ShutDown()
	wg.Go(func() {
		if err := inf.Start(ctx); err != nil && ctx.Err() == nil {
			a.log.Error("pod informer stopped", "err", err)
		}
	})
	if err := inf.WaitForSync(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("agent: pod informer: %w", err)
	}
	if err := a.cleanupOrphans(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		a.log.Error("cleaning up after a restart", "err", err)
	}
	ref, err := refresher.New(refresher.Config{
		Store: a.cfg.Store, Registry: a.volumes, Log: a.log,
		Pods: refresher.PodSourceFunc(a.volumePods),
	})
	if err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	wg.Go(func() { _ = ref.Start(ctx) })
	wg.Go(func() { a.heartbeat(ctx) })
	if a.cfg.StatsInterval > 0 {
		wg.Go(func() { a.statsLoop(ctx) })
	}
	wg.Go(func() { a.relist(ctx) })
	for range a.cfg.Workers {
		wg.Go(func() { a.worker(ctx) })
	}
	a.log.Info("node agent running")
	<-ctx.Done()
	return nil
}

// worker syncs pods from the queue until it shuts down.
func (a *Agent) worker(ctx context.Context) {
	for {
		key, ok := a.queue.Get(ctx)
		if !ok {
			return
		}
		after, err := a.sync(ctx, key)
		switch {
		case ctx.Err() != nil:
		case err != nil:
			a.log.Warn("pod sync failed", "pod", key, "err", err)
			a.queue.AddRateLimited(key)
		default:
			a.queue.Forget(key)
			if after > 0 {
				a.queue.AddAfter(key, after)
			}
		}
		a.queue.Done(key)
	}
}

// volumePods lists the pods whose volumes are set up, for the refresher.
func (a *Agent) volumePods() []refresher.PodDir {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]refresher.PodDir, 0, len(a.state))
	for _, st := range a.state {
		if st.volumesReady && st.pod != nil {
			out = append(out, refresher.PodDir{Pod: st.pod, Dir: a.podDir(st.uid)})
		}
	}
	return out
}

// cleanupOrphans removes every sandbox, network namespace, network
// allocation and pod directory that belongs to no pod bound to this node.
// Sandboxes of bound pods are adopted by their next sync.
func (a *Agent) cleanupOrphans(ctx context.Context) error {
	live := map[string]bool{}
	for _, obj := range a.pods.List() {
		live[api.Meta(obj).GetUid()] = true
	}
	sbs, err := a.cfg.Runtime.ListPodSandboxes(ctx, a.sandboxFilter(""))
	if err != nil {
		return fmt.Errorf("list sandboxes: %w", err)
	}
	var errs []error
	removed := map[string]bool{}
	for _, sb := range sbs {
		uid := sb.Labels[LabelPodUID]
		if live[uid] || removed[uid] {
			continue
		}
		removed[uid] = true
		a.log.Info("removing orphaned pod", "pod", sb.Namespace+"/"+sb.Name, "uid", uid)
		if err := a.teardownUID(ctx, uid, 0); err != nil {
			errs = append(errs, err)
		}
	}
	// Containers of gone pods that no sandbox took with it.
	ctrs, err := a.cfg.Runtime.ListContainers(ctx, &runtime.ContainerFilter{Labels: map[string]string{LabelNode: a.cfg.NodeName}})
	if err != nil {
		errs = append(errs, fmt.Errorf("list containers: %w", err))
	}
	for _, c := range ctrs {
		if !live[c.Labels[LabelPodUID]] {
			if err := a.cfg.Runtime.RemoveContainer(ctx, c.ID); err != nil {
				errs = append(errs, fmt.Errorf("remove container %s: %w", c.ID, err))
			}
		}
	}
	// What remains belongs to live pods.
	sbs, err = a.cfg.Runtime.ListPodSandboxes(ctx, a.sandboxFilter(""))
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list sandboxes: %w", err))...)
	}
	used := map[string]bool{}
	var netLive []network.Sandbox
	for _, sb := range sbs {
		used[sb.NetNSPath] = true
		if id := sb.Annotations[annotationNetworkID]; id != "" {
			netLive = append(netLive, network.Sandbox{ID: id, NetNS: sb.NetNSPath, Namespace: sb.Namespace, Name: sb.Name, UID: sb.UID})
		}
	}
	if entries, err := os.ReadDir(a.netnsDir()); err == nil {
		for _, e := range entries {
			p := filepath.Join(a.netnsDir(), e.Name())
			if !used[p] {
				if err := a.netns.Delete(p); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if a.cfg.Network != nil {
		if err := a.cfg.Network.Reconcile(ctx, netLive); err != nil {
			errs = append(errs, fmt.Errorf("network reconcile: %w", err))
		}
	}
	if entries, err := os.ReadDir(filepath.Join(a.cfg.RootDir, "pods")); err == nil {
		for _, e := range entries {
			if !live[e.Name()] {
				if err := a.removePodDir(ctx, e.Name()); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// removePodDir tears down the volumes of pod uid and removes its directory.
func (a *Agent) removePodDir(ctx context.Context, uid string) error {
	dir := a.podDir(uid)
	if err := a.volumes.TearDownPod(ctx, dir); err != nil {
		return fmt.Errorf("pod %s: %w", uid, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("pod %s: %w", uid, err)
	}
	return nil
}

// containerSeen is what relist compares between two lists.
type containerSeen struct {
	key   string
	state runtime.ContainerState
}

// relist lists the node's containers every SyncPeriod and queues the pods
// whose containers appeared, changed state or disappeared.
func (a *Agent) relist(ctx context.Context) {
	t := time.NewTicker(a.cfg.SyncPeriod)
	defer t.Stop()
	prev := map[string]containerSeen{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ctrs, err := a.cfg.Runtime.ListContainers(ctx, &runtime.ContainerFilter{Labels: map[string]string{LabelNode: a.cfg.NodeName}})
		if err != nil {
			if ctx.Err() == nil {
				a.log.Warn("relist failed", "err", err)
			}
			continue
		}
		next := make(map[string]containerSeen, len(ctrs))
		for _, c := range ctrs {
			seen := containerSeen{key: informer.Key(c.Labels[LabelPodNamespace], c.Labels[LabelPodName]), state: c.State}
			next[c.ID] = seen
			if prev[c.ID] != seen {
				a.queue.Add(seen.key)
			}
		}
		for id, seen := range prev {
			if _, ok := next[id]; !ok {
				a.queue.Add(seen.key)
			}
		}
		prev = next
	}
}
