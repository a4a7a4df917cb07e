package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
	"github.com/coxswain-io/coxswain/scheduler/internal/cache"
	"github.com/coxswain-io/coxswain/scheduler/internal/queue"
	"github.com/coxswain-io/coxswain/scheduler/plugins"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"google.golang.org/protobuf/proto"
)

// DefaultSchedulerName is the schedulerName of the default profile, and
// what an empty spec.schedulerName means.
const DefaultSchedulerName = "default-scheduler"

// DefaultProfile returns the default plugins and DefaultBinder under name.
func DefaultProfile(name string) framework.Profile {
	return framework.Profile{
		SchedulerName: name,
		Plugins:       append(plugins.DefaultPlugins(), framework.PluginRef{Name: NameDefaultBinder}),
	}
}

// Config configures a Scheduler. The zero value is the default scheduler.
type Config struct {
	// Profiles the scheduler serves (default: DefaultProfile(DefaultSchedulerName)).
	Profiles []framework.Profile
	// Registry holds extra (out-of-tree) plugins, merged with the default
	// plugins and DefaultBinder; a duplicate name is an error.
	Registry *framework.Registry
	// Parallelism is the number of goroutines that filter and score nodes
	// (default GOMAXPROCS).
	Parallelism int
	// PercentageOfNodesToScore: stop filtering once this share of nodes is
	// feasible (0: adaptive, 10% at 5,000 nodes; never fewer than 100 nodes).
	PercentageOfNodesToScore int32
	// InitialBackoff and MaxBackoff bound the retry delay after a failure
	// (defaults 1s and 10s).
	InitialBackoff, MaxBackoff time.Duration
	// MaxUnschedulable is how long an unschedulable pod waits without a
	// relevant cluster event before it is retried anyway (default 5m).
	MaxUnschedulable time.Duration
	// BindConcurrency bounds in-flight bindings (default 64).
	BindConcurrency int
	// RecordScheduledEvents writes a Normal "Scheduled" Event for every
	// bound pod (off by default: it doubles the writes per pod).
	RecordScheduledEvents bool
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.PercentageOfNodesToScore < 0 || c.PercentageOfNodesToScore > 100 {
		return fmt.Errorf("scheduler: percentageOfNodesToScore %d not in [0, 100]: %w", c.PercentageOfNodesToScore, store.ErrInvalid)
	}
	seen := map[string]bool{}
	for _, p := range c.Profiles {
		if seen[p.SchedulerName] {
			return fmt.Errorf("scheduler: two profiles named %q: %w", p.SchedulerName, store.ErrInvalid)
		}
		seen[p.SchedulerName] = true
	}
	return nil
}

func (c *Config) setDefaults() {
	if len(c.Profiles) == 0 {
		c.Profiles = []framework.Profile{DefaultProfile(DefaultSchedulerName)}
	}
	if c.Parallelism <= 0 {
		c.Parallelism = runtime.GOMAXPROCS(0)
	}
	if c.BindConcurrency <= 0 {
		c.BindConcurrency = 64
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Scheduler binds pending pods to nodes. Create it with New and run it with
// Start.
type Scheduler struct {
	cfg      Config
	store    store.Store
	log      *slog.Logger
	profiles map[string]*framework.Framework
	cache    *cache.Cache
	queue    *queue.Queue
	snapshot *framework.Snapshot
	events   *eventWriter
	noms     *nominator
	pods     atomic.Pointer[informer.Informer]
	started  atomic.Bool

	// nextStart, feasibleBuf, scoreBuf and rng belong to the scheduling goroutine.
	nextStart   int
	feasibleBuf []*framework.NodeInfo
	scoreBuf    []framework.NodeScore
	rng         *rand.Rand
	bindSem     chan struct{}
	binds       sync.WaitGroup
	scheduled   atomic.Int64
}

// New builds a scheduler over s.
func New(s store.Store, cfg Config) (*Scheduler, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	reg := plugins.NewRegistry()
	if err := reg.Register(NameDefaultBinder, func(framework.Handle) (framework.Plugin, error) {
		return &DefaultBinder{Store: s}, nil
	}); err != nil {
		return nil, err
	}
	if cfg.Registry != nil {
		if err := reg.Merge(cfg.Registry); err != nil {
			return nil, fmt.Errorf("scheduler: %w", err)
		}
	}
	sch := &Scheduler{
		cfg:      cfg,
		store:    s,
		log:      cfg.Logger.With("component", "scheduler"),
		profiles: make(map[string]*framework.Framework),
		cache:    cache.New(),
		snapshot: framework.NewSnapshot(),
		noms:     newNominator(),
		bindSem:  make(chan struct{}, cfg.BindConcurrency),
		rng:      rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	for _, p := range cfg.Profiles {
		if p.PercentageOfNodesToScore == 0 {
			p.PercentageOfNodesToScore = cfg.PercentageOfNodesToScore
		}
		fwk, err := framework.New(reg, p, framework.WithParallelism(cfg.Parallelism))
		if err != nil {
			return nil, fmt.Errorf("scheduler: %w", err)
		}
		sch.profiles[p.SchedulerName] = fwk
	}
	sch.events = &eventWriter{s: s, component: cfg.Profiles[0].SchedulerName, now: cfg.Now}
	sch.queue = queue.New(queue.Config{
		InitialBackoff:   cfg.InitialBackoff,
		MaxBackoff:       cfg.MaxBackoff,
		MaxUnschedulable: cfg.MaxUnschedulable,
		Now:              cfg.Now,
		Interested: func(qp *queue.QueuedPod, ev framework.ClusterEvent) bool {
			fwk := sch.profiles[schedulerName(qp.Info.Pod)]
			return fwk == nil || fwk.Interested(qp.UnschedulablePlugins, ev)
		},
	})
	return sch, nil
}

// Framework returns the framework of a profile, or nil.
func (s *Scheduler) Framework(schedulerName string) *framework.Framework {
	return s.profiles[schedulerName]
}

// Scheduled returns how many pods this scheduler has bound.
func (s *Scheduler) Scheduled() int64 { return s.scheduled.Load() }

func schedulerName(pod *api.Pod) string {
	if n := pod.GetSpec().GetSchedulerName(); n != "" {
		return n
	}
	return DefaultSchedulerName
}

func (s *Scheduler) responsibleFor(pod *api.Pod) bool {
	_, ok := s.profiles[schedulerName(pod)]
	return ok
}

func assigned(pod *api.Pod) bool { return pod.GetSpec().GetNodeName() != "" }

func terminal(pod *api.Pod) bool {
	ph := pod.GetStatus().GetPhase()
	return ph == "Succeeded" || ph == "Failed"
}

// Start runs the scheduler until ctx ends. It returns nil then, or an error
// if it could not start. A Scheduler can be started once.
func (s *Scheduler) Start(ctx context.Context) error {
	if !s.started.CompareAndSwap(false, true) {
		return errors.New("scheduler: already started")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	podInf, err := informer.New(s.store, api.KindPod, informer.WithLogger(s.log))
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	nodeInf, err := informer.New(s.store, api.KindNode, informer.WithLogger(s.log))
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	nodeReg := nodeInf.AddEventHandler(informer.HandlerFuncs{
		AddFunc:    func(o api.Object) { s.onNodeAdd(o.(*api.Node)) },
		UpdateFunc: func(old, o api.Object) { s.onNodeUpdate(old.(*api.Node), o.(*api.Node)) },
		DeleteFunc: func(o api.Object) { s.cache.RemoveNode(o.(*api.Node)) },
	})
	s.pods.Store(podInf)
	podReg := podInf.AddEventHandler(informer.HandlerFuncs{
		AddFunc:    func(o api.Object) { s.onPodAdd(o.(*api.Pod)) },
		UpdateFunc: func(old, o api.Object) { s.onPodUpdate(old.(*api.Pod), o.(*api.Pod)) },
		DeleteFunc: func(o api.Object) { s.onPodDelete(o.(*api.Pod)) },
	})
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	for _, inf := range []*informer.Informer{nodeInf, podInf} {
		wg.Go(func() {
			if err := inf.Start(ctx); err != nil {
				errc <- err
				cancel()
			}
		})
	}
	wg.Go(func() { s.queue.Run(ctx, 100*time.Millisecond) })
	defer func() {
		cancel()
		wg.Wait()
		s.binds.Wait()
	}()
	// Wait until the handlers have seen the first lists, so the first
	// decisions see every node and every bound pod.
	tick := time.NewTicker(5 * time.Millisecond)
	for !nodeReg.HasSynced() || !podReg.HasSynced() {
		select {
		case <-ctx.Done():
			tick.Stop()
			return startErr(errc)
		case <-tick.C:
		}
	}
	tick.Stop()
	s.log.Info("scheduler started", "profiles", len(s.profiles), "nodes", s.cache.NodeCount())
	for {
		qp, err := s.queue.Pop(ctx)
		if err != nil {
			return startErr(errc)
		}
		s.scheduleOne(ctx, qp)
	}
}

func startErr(errc chan error) error {
	select {
	case err := <-errc:
		return fmt.Errorf("scheduler: %w", err)
	default:
		return nil
	}
}

func (s *Scheduler) onNodeAdd(n *api.Node) {
	s.cache.AddNode(n)
	s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.ResourceNode, Action: framework.ActionAdd})
}

func (s *Scheduler) onNodeUpdate(old, n *api.Node) {
	s.cache.AddNode(n)
	if !proto.Equal(old.GetSpec(), n.GetSpec()) ||
		!mapsEqual(old.GetMetadata().GetLabels(), n.GetMetadata().GetLabels()) ||
		!mapsEqual(old.GetStatus().GetAllocatable(), n.GetStatus().GetAllocatable()) ||
		!mapsEqual(old.GetStatus().GetCapacity(), n.GetStatus().GetCapacity()) {
		s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.ResourceNode, Action: framework.ActionUpdate})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (s *Scheduler) onPodAdd(p *api.Pod) {
	s.noms.set(p, false)
	switch {
	case assigned(p):
		if terminal(p) {
			return
		}
		s.cache.AddPod(p)
		s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.ResourceAssignedPod, Action: framework.ActionAdd})
	case s.responsibleFor(p) && p.GetMetadata().GetDeletionTimestamp() == nil && !terminal(p):
		s.queue.Add(p)
	}
}

func (s *Scheduler) onPodUpdate(old, p *api.Pod) {
	s.noms.set(p, false)
	switch {
	case assigned(p):
		if !assigned(old) {
			s.queue.Delete(p)
		}
		if terminal(p) {
			s.cache.RemovePod(p)
			s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.ResourceAssignedPod, Action: framework.ActionDelete})
			return
		}
		s.cache.UpdatePod(p)
		if !assigned(old) {
			s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.ResourceAssignedPod, Action: framework.ActionAdd})
		} else if !mapsEqual(old.GetMetadata().GetLabels(), p.GetMetadata().GetLabels()) {
			s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.ResourceAssignedPod, Action: framework.ActionUpdate})
		}
	case s.responsibleFor(p) && p.GetMetadata().GetDeletionTimestamp() == nil && !terminal(p):
		s.queue.Update(p)
	default:
		s.queue.Delete(p)
	}
}

func (s *Scheduler) onPodDelete(p *api.Pod) {
	s.noms.set(p, true)
	if assigned(p) {
		s.cache.RemovePod(p)
		s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.ResourceAssignedPod, Action: framework.ActionDelete})
		return
	}
	s.queue.Delete(p)
}

// stillPending reports whether the watch still shows pod (same uid) without
// a node.
func (s *Scheduler) stillPending(pod *api.Pod) bool {
	inf := s.pods.Load()
	if inf == nil {
		return true
	}
	obj, ok := inf.Get(pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName())
	if !ok {
		return false
	}
	cur, ok := obj.(*api.Pod)
	return ok && cur.GetMetadata().GetUid() == pod.GetMetadata().GetUid() && !assigned(cur)
}

// FitError says why a pod fits on no node.
type FitError struct {
	Pod      *api.Pod
	NumNodes int
	// Statuses is each rejected node's status.
	Statuses framework.NodeToStatus
}

// Error returns the per-reason summary, e.g. "0/5 nodes are available:
// 3 Insufficient cpu, 2 node(s) had untolerated taint {dedicated: infra}."
func (e *FitError) Error() string {
	counts := map[string]int{}
	for _, st := range e.Statuses {
		for _, r := range st.Reasons() {
			counts[r]++
		}
	}
	reasons := make([]string, 0, len(counts))
	for r := range counts {
		reasons = append(reasons, r)
	}
	sort.Slice(reasons, func(i, j int) bool {
		if counts[reasons[i]] != counts[reasons[j]] {
			return counts[reasons[i]] > counts[reasons[j]]
		}
		return reasons[i] < reasons[j]
	})
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%d %s", counts[r], r)
	}
	msg := fmt.Sprintf("0/%d nodes are available", e.NumNodes)
	if len(parts) > 0 {
		msg += ": " + strings.Join(parts, ", ")
	}
	return msg + "."

}

// Unwrap makes errors.Is(err, framework.ErrUnschedulable) hold.
func (e *FitError) Unwrap() error { return framework.ErrUnschedulable }

// plugins returns the names of the plugins that rejected nodes.
func (e *FitError) plugins() map[string]bool {
	out := map[string]bool{}
	for _, st := range e.Statuses {
		if p := st.Plugin(); p != "" {
			out[p] = true
		}
	}
	return out
}

func (s *Scheduler) scheduleOne(ctx context.Context, qp *queue.QueuedPod) {
	pi := qp.Info
	pod := pi.Pod
	fwk := s.profiles[schedulerName(pod)]
	if fwk == nil || pod.GetMetadata().GetDeletionTimestamp() != nil || s.cache.IsAssumed(pod) {
		s.queue.Done(qp)
		return
	}
	s.cache.UpdateSnapshot(s.snapshot)
	fwk.SetSnapshot(s.snapshot)
	state := framework.NewCycleState()
	node, err := s.schedulePod(ctx, fwk, state, qp.Info)
	if err != nil {
		s.handleFailure(ctx, fwk, state, qp, err)
		return
	}
	// Assume: count the pod on the node before the binding is written.
	if err := s.cache.AssumePod(qp.Info, node); err != nil {
		s.log.Error("assume pod", "pod", qp.Info.Key(), "err", err)
		s.queue.Requeue(qp, false)
		return
	}
	if st := fwk.RunReservePlugins(ctx, state, qp.Info, node); !st.IsSuccess() {
		s.cache.ForgetPod(pod)
		s.handleFailure(ctx, fwk, state, qp, st.AsError())
		return
	}
	s.queue.Done(qp)
	s.bindSem <- struct{}{}
	s.binds.Add(1)
	go func() {
		defer func() { <-s.bindSem; s.binds.Done() }()
		s.bind(ctx, fwk, state, qp, pi, node)
	}()
}

func (s *Scheduler) bind(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, qp *queue.QueuedPod, pi *framework.PodInfo, node string) {
	pod := pi.Pod
	st := fwk.RunBindPlugins(ctx, state, pi, node)
	if st.IsSuccess() {
		s.scheduled.Add(1)
		if hasUnscheduledCondition(pod) {
			_, _ = store.For[*api.Pod](s.store).MutateStatus(ctx, pod.GetMetadata().GetNamespace(), pod.GetMetadata().GetName(), func(p *api.Pod) error {
				if p.Status == nil {
					p.Status = &api.PodStatus{}
				}
				if !setCondition(p.Status, ConditionPodScheduled, "True", "", "", s.cfg.Now()) {
					return errUnchanged
				}
				return nil
			})
		}
		if s.cfg.RecordScheduledEvents {
			msg := fmt.Sprintf("Successfully assigned %s to %s", framework.PodKey(pod), node)
			if err := s.events.emit(ctx, pod, "Normal", ReasonScheduled, msg); err != nil && ctx.Err() == nil {
				s.log.Warn("write event", "pod", framework.PodKey(pod), "err", err)
			}
		}
		return
	}
	fwk.RunUnreservePlugins(ctx, state, pi, node)
	s.cache.ForgetPod(pod)
	s.queue.MoveOnEvent(framework.ClusterEvent{Resource: framework.ResourceAssignedPod, Action: framework.ActionDelete})
	err := st.AsError()
	if store.IsNotFound(err) || ctx.Err() != nil {
		return
	}
	if !store.IsConflict(err) {
		s.log.Warn("bind failed", "pod", framework.PodKey(pod), "node", node, "err", err)
	}
	if !s.stillPending(pod) {
		return // deleted or bound meanwhile: the watch has the last word
	}
	s.queue.Requeue(qp, false)
}

func (s *Scheduler) handleFailure(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, qp *queue.QueuedPod, err error) {
	pod := qp.Info.Pod
	var fitErr *FitError
	if !errors.As(err, &fitErr) {
		s.log.Warn("scheduling failed", "pod", qp.Info.Key(), "err", err)
		s.queue.Requeue(qp, false)
		return
	}
	nominated := ""
	if fwk.HasPostFilterPlugins() {
		res, st := fwk.RunPostFilterPlugins(ctx, state, qp.Info, fitErr.Statuses)
		switch {
		case st.IsSuccess() && res != nil:
			nominated = res.NominatedNodeName
			s.preempt(ctx, pod, res)
		case st.Code() == framework.Error:
			s.log.Warn("preemption failed", "pod", qp.Info.Key(), "err", st.AsError())
		default:
			s.log.Debug("preemption did not help", "pod", qp.Info.Key(), "reason", st.Message())
		}
	}
	qp.UnschedulablePlugins = fitErr.plugins()
	msg := fitErr.Error()
	wrote, werr := setUnschedulable(ctx, s.store, pod, msg, nominated, s.cfg.Now())
	switch {
	case werr != nil && !store.IsNotFound(werr) && ctx.Err() == nil:
		s.log.Warn("update pod status", "pod", qp.Info.Key(), "err", werr)
	case wrote:
		if err := s.events.emit(ctx, pod, "Warning", ReasonFailedScheduling, msg); err != nil && ctx.Err() == nil {
			s.log.Warn("write event", "pod", qp.Info.Key(), "err", err)
		}
	}
	s.queue.Requeue(qp, true)
}

// preempt deletes the victims of a preemption decision.
func (s *Scheduler) preempt(ctx context.Context, pod *api.Pod, res *framework.PostFilterResult) {
	for _, v := range res.Victims {
		m := v.GetMetadata()
		_, err := s.store.Delete(ctx, api.KindPod, m.GetNamespace(), m.GetName(), store.DeleteOptions{UID: m.GetUid()})
		if err != nil && !store.IsNotFound(err) && !store.IsConflict(err) {
			s.log.Warn("delete preemption victim", "victim", framework.PodKey(v), "err", err)
			continue
		}
		msg := fmt.Sprintf("Preempted by %s on node %s", framework.PodKey(pod), res.NominatedNodeName)
		if err := s.events.emit(ctx, v, "Normal", ReasonPreempted, msg); err != nil && ctx.Err() == nil {
			s.log.Warn("write event", "pod", framework.PodKey(v), "err", err)
		}
	}
}

// schedulePod runs filters and scores and returns the chosen node.
func (s *Scheduler) schedulePod(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, pi *framework.PodInfo) (string, error) {
	nodes := s.snapshot.NodeList
	if len(nodes) == 0 {
		return "", &FitError{Pod: pi.Pod, Statuses: framework.NodeToStatus{}}
	}
	if st := fwk.RunPreFilterPlugins(ctx, state, pi); !st.IsSuccess() {
		if !st.IsRejected() {
			return "", st.AsError()
		}
		statuses := make(framework.NodeToStatus, len(nodes))
		for _, n := range nodes {
			statuses[n.Name()] = st
		}
		return "", &FitError{Pod: pi.Pod, NumNodes: len(nodes), Statuses: statuses}
	}
	candidates := nodes
	restricted, others, isRestricted := state.NodeRestriction()
	if isRestricted {
		candidates = restricted
	}
	feasible, statuses, err := s.findFeasible(ctx, fwk, state, pi, candidates, len(nodes))
	if err != nil {
		return "", err
	}
	if len(feasible) == 0 {
		if isRestricted {
			in := make(map[*framework.NodeInfo]bool, len(restricted))
			for _, n := range restricted {
				in[n] = true
			}
			for _, n := range nodes {
				if !in[n] {
					statuses[n.Name()] = others
				}
			}
		}
		return "", &FitError{Pod: pi.Pod, NumNodes: len(nodes), Statuses: statuses}
	}
	if len(feasible) == 1 || !fwk.HasScorePlugins() {
		return feasible[0].Name(), nil
	}
	scores, st := fwk.ScoreNodes(ctx, state, pi, feasible, s.scoreBuf)
	s.scoreBuf = scores
	if !st.IsSuccess() {
		return "", st.AsError()
	}
	return selectHost(scores, s.rng), nil
}

// selectHost returns a node with the highest score, breaking ties uniformly
// at random.
func selectHost(scores []framework.NodeScore, rng *rand.Rand) string {
	best, ties := 0, 1
	for i := 1; i < len(scores); i++ {
		switch {
		case scores[i].Score > scores[best].Score:
			best, ties = i, 1
		case scores[i].Score == scores[best].Score:
			ties++
			if rng.IntN(ties) == 0 {
				best = i
			}
		}
	}
	return scores[best].Name
}

// findFeasible filters nodes in parallel, starting where the previous cycle
// stopped, until enough feasible nodes are found (or every node was tried).
func (s *Scheduler) findFeasible(ctx context.Context, fwk *framework.Framework, state *framework.CycleState, pi *framework.PodInfo, nodes []*framework.NodeInfo, total int) ([]*framework.NodeInfo, framework.NodeToStatus, error) {
	n := len(nodes)
	if n == 0 {
		return nil, framework.NodeToStatus{}, nil
	}
	want := min(n, framework.NumFeasibleNodesToFind(fwk.Profile().PercentageOfNodesToScore, total))
	if cap(s.feasibleBuf) < want {
		s.feasibleBuf = make([]*framework.NodeInfo, want)
	}
	feasible := s.feasibleBuf[:want]
	const chunk = 16
	var (
		found    atomic.Int32
		next     atomic.Int64
		stop     atomic.Bool
		mu       sync.Mutex
		statuses = framework.NodeToStatus{}
		firstErr error
	)
	start := s.nextStart % n
	noms := s.noms.forPod(pi)
	work := func() {
		for !stop.Load() && ctx.Err() == nil {
			lo := int(next.Add(chunk)) - chunk
			if lo >= n {
				return
			}
			for i := lo; i < min(lo+chunk, n); i++ {
				ni := nodes[(start+i)%n]
				var st *framework.Status
				if len(noms[ni.Name()]) > 0 {
					st = filterWithNominated(ctx, fwk, state, pi, ni, noms[ni.Name()])
				} else {
					st = fwk.RunFilterPlugins(ctx, state, pi, ni)
				}
				if st.IsSuccess() {
					k := int(found.Add(1))
					if k > want {
						stop.Store(true)
						continue
					}
					feasible[k-1] = ni
					if k == want {
						stop.Store(true)
					}
					continue
				}
				mu.Lock()
				if st.Code() == framework.Error && firstErr == nil {
					firstErr = st.AsError()
					stop.Store(true)
				}
				statuses[ni.Name()] = st
				mu.Unlock()
			}
		}
	}
	workers := min(fwk.Parallelism(), (n+chunk-1)/chunk)
	var wg sync.WaitGroup
	for range workers - 1 {
		wg.Go(work)
	}
	work()
	wg.Wait()
	if firstErr != nil {
		return nil, nil, firstErr
	}
	s.nextStart = (start + min(int(next.Load()), n)) % n
	k := min(int(found.Load()), want)
	return feasible[:k], statuses, nil
}

// NodeCount returns how many Nodes the scheduler's cache holds.
func (s *Scheduler) NodeCount() int { return s.cache.NodeCount() }
