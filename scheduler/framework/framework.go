package framework

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// Framework runs the plugins of one Profile. Run* methods follow the
// scheduling pipeline; the scheduler (or any other caller, such as a test
// or a custom scheduler) drives the cycle and sets the snapshot before it.
//
// Concurrency: one scheduling cycle runs at a time per Framework (the
// snapshot is shared by the cycle's calls); within a cycle, Filter and Score
// run on several goroutines, and Bind may run concurrently with the next
// cycles. SetSnapshot is called between cycles.
type Framework struct {
	profile     Profile
	parallelism int
	snapshot    atomic.Pointer[Snapshot]

	plugins       map[string]Plugin
	preFilter     []PreFilterPlugin
	filter        []FilterPlugin
	postFilter    []PostFilterPlugin
	preScore      []PreScorePlugin
	score         []ScorePlugin
	scoreWeights  []int64
	reserve       []ReservePlugin
	bind          []BindPlugin
	events        map[string][]ClusterEvent
	totalMaxScore int64
}

// Option tunes a Framework.
type Option func(*Framework)

// WithParallelism sets how many goroutines filter and score nodes
// (default GOMAXPROCS).
func WithParallelism(n int) Option { return func(f *Framework) { f.parallelism = n } }

// New builds the plugins a profile names from reg. A profile naming an
// unknown plugin fails with ErrUnknownPlugin; naming one twice with
// ErrDuplicate.
func New(reg *Registry, profile Profile, opts ...Option) (*Framework, error) {
	if profile.SchedulerName == "" {
		return nil, errors.New("framework: profile has no schedulerName")
	}
	f := &Framework{
		profile:     profile,
		parallelism: runtime.GOMAXPROCS(0),
		plugins:     make(map[string]Plugin),
		events:      make(map[string][]ClusterEvent),
	}
	for _, o := range opts {
		o(f)
	}
	f.snapshot.Store(NewSnapshot())
	for _, ref := range profile.Plugins {
		if _, dup := f.plugins[ref.Name]; dup {
			return nil, fmt.Errorf("profile %s: plugin %q: %w", profile.SchedulerName, ref.Name, ErrDuplicate)
		}
		factory, ok := reg.Factory(ref.Name)
		if !ok {
			return nil, fmt.Errorf("profile %s: plugin %q: %w", profile.SchedulerName, ref.Name, ErrUnknownPlugin)
		}
		p, err := factory(f)
		if err != nil {
			return nil, fmt.Errorf("profile %s: plugin %q: %w", profile.SchedulerName, ref.Name, err)
		}
		if p.Name() != ref.Name {
			return nil, fmt.Errorf("profile %s: factory for %q built a plugin named %q", profile.SchedulerName, ref.Name, p.Name())
		}
		f.plugins[ref.Name] = p
		points := ref.Points
		if points == 0 {
			points = PointAll
		}
		if x, ok := p.(PreFilterPlugin); ok && points&PointPreFilter != 0 {
			f.preFilter = append(f.preFilter, x)
		}
		if x, ok := p.(FilterPlugin); ok && points&PointFilter != 0 {
			f.filter = append(f.filter, x)
		}
		if x, ok := p.(PostFilterPlugin); ok && points&PointPostFilter != 0 {
			f.postFilter = append(f.postFilter, x)
		}
		if x, ok := p.(PreScorePlugin); ok && points&PointPreScore != 0 {
			f.preScore = append(f.preScore, x)
		}
		if x, ok := p.(ScorePlugin); ok && points&PointScore != 0 {
			w := ref.Weight
			if w <= 0 {
				w = 1
			}
			f.score = append(f.score, x)
			f.scoreWeights = append(f.scoreWeights, w)
			f.totalMaxScore += w * MaxNodeScore
		}
		if x, ok := p.(ReservePlugin); ok && points&PointReserve != 0 {
			f.reserve = append(f.reserve, x)
		}
		if x, ok := p.(BindPlugin); ok && points&PointBind != 0 {
			f.bind = append(f.bind, x)
		}
		if x, ok := p.(EnqueueExtensions); ok {
			f.events[ref.Name] = x.EventsToRegister()
		} else {
			f.events[ref.Name] = []ClusterEvent{{Resource: ResourceNode, Action: ActionAll}, {Resource: ResourceAssignedPod, Action: ActionAll}}
		}
	}
	if len(f.bind) == 0 {
		return nil, fmt.Errorf("profile %s: no Bind plugin", profile.SchedulerName)
	}
	return f, nil
}

// SchedulerName returns the profile's schedulerName.
func (f *Framework) SchedulerName() string { return f.profile.SchedulerName }

// Profile returns the profile the framework was built from.
func (f *Framework) Profile() Profile { return f.profile }

// Plugin returns the named plugin instance, or nil.
func (f *Framework) Plugin(name string) Plugin { return f.plugins[name] }

// SetSnapshot makes s the snapshot plugins see from now on.
func (f *Framework) SetSnapshot(s *Snapshot) { f.snapshot.Store(s) }

// SnapshotLister returns the current snapshot.
func (f *Framework) SnapshotLister() NodeInfoLister { return f.snapshot.Load() }

// Parallelism returns the number of goroutines used per cycle.
func (f *Framework) Parallelism() int { return f.parallelism }

// HasScorePlugins reports whether any Score plugin is enabled.
func (f *Framework) HasScorePlugins() bool { return len(f.score) > 0 }

// HasPostFilterPlugins reports whether any PostFilter plugin is enabled.
func (f *Framework) HasPostFilterPlugins() bool { return len(f.postFilter) > 0 }

// Interested reports whether a pod rejected by the named plugins may become
// schedulable after event. With no plugins recorded it is always true.
func (f *Framework) Interested(rejectors map[string]bool, event ClusterEvent) bool {
	if len(rejectors) == 0 {
		return true
	}
	for name := range rejectors {
		evs, ok := f.events[name]
		if !ok {
			return true
		}
		for _, e := range evs {
			if e.Match(event) {
				return true
			}
		}
	}
	return false
}

// RunPreFilterPlugins runs every PreFilter plugin; the first rejection or
// error is returned, with the plugin's name.
func (f *Framework) RunPreFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo) *Status {
	if pod.ParseError != nil {
		return NewStatus(UnschedulableAndUnresolvable, pod.ParseError.Error()).WithPlugin("PodInfo")
	}
	var skip map[string]bool
	for _, p := range f.preFilter {
		st := p.PreFilter(ctx, state, pod)
		if rs := state.restrictStatus; rs != nil && rs.Plugin() == "" {
			rs.WithPlugin(p.Name())
		}
		switch {
		case st.IsSkip():
			if skip == nil {
				skip = make(map[string]bool)
			}
			skip[p.Name()] = true
		case !st.IsSuccess():
			return st.WithPlugin(p.Name())
		}
	}
	state.skipFilter = skip
	state.filters = make([]FilterPlugin, 0, len(f.filter))
	for _, p := range f.filter {
		if !skip[p.Name()] {
			state.filters = append(state.filters, p)
		}
	}
	state.filtersSet = true
	return nil
}

// RunFilterPlugins runs every Filter plugin on one node and returns the
// first non-success status, with the plugin's name.
func (f *Framework) RunFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status {
	filters := f.filter
	if state.filtersSet {
		filters = state.filters
	}
	for _, p := range filters {
		if st := p.Filter(ctx, state, pod, node); !st.IsSuccess() {
			if !st.IsRejected() {
				st = NewStatus(Error, st.Message())
			}
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunPreFilterExtensionAddPod tells PreFilterExtensions plugins that toAdd
// was added to node in a simulation.
func (f *Framework) RunPreFilterExtensionAddPod(ctx context.Context, state *CycleState, pod *PodInfo, toAdd *PodInfo, node *NodeInfo) *Status {
	for _, p := range f.preFilter {
		x, ok := p.(PreFilterExtensions)
		if !ok || state.skipFilter[p.Name()] {
			continue
		}
		if st := x.AddPod(ctx, state, pod, toAdd, node); !st.IsSuccess() {
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunPreFilterExtensionRemovePod tells PreFilterExtensions plugins that
// toRemove was removed from node in a simulation.
func (f *Framework) RunPreFilterExtensionRemovePod(ctx context.Context, state *CycleState, pod *PodInfo, toRemove *PodInfo, node *NodeInfo) *Status {
	for _, p := range f.preFilter {
		x, ok := p.(PreFilterExtensions)
		if !ok || state.skipFilter[p.Name()] {
			continue
		}
		if st := x.RemovePod(ctx, state, pod, toRemove, node); !st.IsSuccess() {
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunPostFilterPlugins runs PostFilter plugins until one succeeds.
func (f *Framework) RunPostFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo, filtered NodeToStatus) (*PostFilterResult, *Status) {
	var last *Status = NewStatus(Unschedulable, "no PostFilter plugin")
	for _, p := range f.postFilter {
		res, st := p.PostFilter(ctx, state, pod, filtered)
		if st.IsSuccess() {
			return res, nil
		}
		if st.Code() == Error {
			return nil, st.WithPlugin(p.Name())
		}
		last = st.WithPlugin(p.Name())
	}
	return nil, last
}

// RunScorePlugins runs PreScore, Score, NormalizeScore and weights for the
// feasible nodes and returns each node's total, in the order of nodes.
func (f *Framework) RunScorePlugins(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) ([]NodeScore, *Status) {
	return f.ScoreNodes(ctx, state, pod, nodes, nil)
}

// ScoreNodes is RunScorePlugins writing the totals into out (reused when
// large enough), so a scheduling loop can avoid an allocation per pod.
func (f *Framework) ScoreNodes(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo, out []NodeScore) ([]NodeScore, *Status) {
	var skip map[string]bool
	for _, p := range f.preScore {
		st := p.PreScore(ctx, state, pod, nodes)
		switch {
		case st.IsSkip():
			if skip == nil {
				skip = make(map[string]bool)
			}
			skip[p.Name()] = true
		case !st.IsSuccess():
			return nil, st.WithPlugin(p.Name())
		}
	}
	active := make([]int, 0, len(f.score))
	for i, p := range f.score {
		if !skip[p.Name()] {
			active = append(active, i)
		}
	}
	buf := scoreBufPool.Get().(*scoreBuf)
	defer scoreBufPool.Put(buf)
	perPlugin := buf.get(len(active), len(nodes))
	var firstErr atomic.Pointer[Status]
	Parallelize(ctx, f.parallelism, len(nodes), func(i int) {
		for j, pi := range active {
			p := f.score[pi]
			s, st := p.Score(ctx, state, pod, nodes[i])
			if !st.IsSuccess() {
				firstErr.CompareAndSwap(nil, st.WithPlugin(p.Name()))
				return
			}
			perPlugin[j][i].Score = s
		}
	})
	if st := firstErr.Load(); st != nil {
		return nil, st
	}
	total := out[:0]
	if cap(total) < len(nodes) {
		total = make([]NodeScore, 0, len(nodes))
	}
	for _, n := range nodes {
		total = append(total, NodeScore{Name: n.name})
	}
	for j, pi := range active {
		p := f.score[pi]
		if ext := p.ScoreExtensions(); ext != nil {
			for i, n := range nodes {
				perPlugin[j][i].Name = n.name
			}
			if st := ext.NormalizeScore(ctx, state, pod, perPlugin[j]); !st.IsSuccess() {
				return nil, st.WithPlugin(p.Name())
			}
		}
		w := f.scoreWeights[pi]
		for i, s := range perPlugin[j] {
			if s.Score < MinNodeScore || s.Score > MaxNodeScore {
				return nil, NewStatus(Error, fmt.Sprintf("score %d for node %s out of range", s.Score, s.Name)).WithPlugin(p.Name())
			}
			total[i].Score += s.Score * w
		}
	}
	return total, nil
}

// RunReservePlugins runs Reserve in order; on failure it unreserves the
// plugins that already reserved and returns the status.
func (f *Framework) RunReservePlugins(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) *Status {
	for i, p := range f.reserve {
		if st := p.Reserve(ctx, state, pod, nodeName); !st.IsSuccess() {
			for j := i - 1; j >= 0; j-- {
				f.reserve[j].Unreserve(ctx, state, pod, nodeName)
			}
			return st.WithPlugin(p.Name())
		}
	}
	return nil
}

// RunUnreservePlugins runs Unreserve in reverse order.
func (f *Framework) RunUnreservePlugins(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) {
	for i := len(f.reserve) - 1; i >= 0; i-- {
		f.reserve[i].Unreserve(ctx, state, pod, nodeName)
	}
}

// RunBindPlugins runs binders until one does not Skip.
func (f *Framework) RunBindPlugins(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) *Status {
	for _, p := range f.bind {
		st := p.Bind(ctx, state, pod, nodeName)
		if st.IsSkip() {
			continue
		}
		return st.WithPlugin(p.Name())
	}
	return NewStatus(Error, "every Bind plugin skipped the pod")
}

var _ Handle = (*Framework)(nil)

// scoreBuf holds per-plugin score slices reused across cycles.
type scoreBuf struct{ perPlugin [][]NodeScore }

var scoreBufPool = sync.Pool{New: func() any { return &scoreBuf{} }}

// get returns k slices of n scores (names unset).
func (b *scoreBuf) get(k, n int) [][]NodeScore {
	for len(b.perPlugin) < k {
		b.perPlugin = append(b.perPlugin, nil)
	}
	out := b.perPlugin[:k]
	for j := range out {
		if cap(out[j]) < n {
			out[j] = make([]NodeScore, n)
		}
		out[j] = out[j][:n]
	}
	return out
}
