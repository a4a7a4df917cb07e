package plugins

import (
	"context"
	"maps"
	"math"
	"slices"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
)

// PodTopologySpread rejection reasons.
const (
	ReasonTopologySpread        = "node(s) didn't match pod topology spread constraints"
	ReasonTopologySpreadMissing = "node(s) didn't match pod topology spread constraints (missing required label)"
)

// PodTopologySpread enforces topologySpreadConstraints with
// whenUnsatisfiable DoNotSchedule (the default) in Filter and prefers
// smaller skew for ScheduleAnyway constraints in Score. Only nodes that
// satisfy the pod's nodeSelector and required node affinity and carry every
// constraint's topology key count as domains, as in Kubernetes' default
// node inclusion policy.
type PodTopologySpread struct {
	h framework.Handle
}

// NewPodTopologySpread returns the plugin reading nodes through h.
func NewPodTopologySpread(h framework.Handle) *PodTopologySpread { return &PodTopologySpread{h: h} }

// Name returns PodTopologySpread.
func (*PodTopologySpread) Name() string { return NamePodTopologySpread }

type spreadConstraint struct {
	maxSkew     int64
	key         string
	minDomains  int
	selector    framework.PodSelector
	selfMatches bool
}

func parseConstraints(pod *api.Pod, hard bool) ([]spreadConstraint, error) {
	var out []spreadConstraint
	for _, c := range pod.GetSpec().GetTopologySpreadConstraints() {
		isHard := c.GetWhenUnsatisfiable() == "" || c.GetWhenUnsatisfiable() == "DoNotSchedule"
		if isHard != hard {
			continue
		}
		sel, err := framework.CompileSelector(c.GetLabelSelector())
		if err != nil {
			return nil, err
		}
		md := 1
		if c.MinDomains != nil {
			md = int(c.GetMinDomains())
		}
		out = append(out, spreadConstraint{
			maxSkew:     max(1, int64(c.GetMaxSkew())),
			key:         c.GetTopologyKey(),
			minDomains:  md,
			selector:    sel,
			selfMatches: sel.Matches(pod.GetMetadata().GetLabels()),
		})
	}
	return out, nil
}

func eligible(pod *api.Pod, n *framework.NodeInfo, cs []spreadConstraint) bool {
	if n.Node() == nil || !PodMatchesNodeSelectorAndAffinity(pod, n.Node()) {
		return false
	}
	nl := n.NodeLabels
	for _, c := range cs {
		if _, ok := nl[c.key]; !ok {
			return false
		}
	}
	return true
}

// counts reports whether existing pod e counts for pod under the
// constraint: same namespace, selected by the constraint's selector.
// Terminating pods count until they are gone.
func (c *spreadConstraint) counts(pod *api.Pod, e *api.Pod) bool {
	return e.GetMetadata().GetNamespace() == pod.GetMetadata().GetNamespace() &&
		c.selector.Matches(e.GetMetadata().GetLabels())
}

type spreadState struct {
	constraints []spreadConstraint
	counts      []map[string]int64 // per constraint: domain value -> matching pods
	mins        []int64            // per constraint: the global minimum
}

func (s *spreadState) Clone() framework.StateData {
	out := &spreadState{constraints: s.constraints, counts: make([]map[string]int64, len(s.counts)), mins: slices.Clone(s.mins)}
	for i, m := range s.counts {
		out.counts[i] = maps.Clone(m)
	}
	return out
}

func (s *spreadState) refreshMins() {
	s.mins = s.mins[:0]
	for i := range s.constraints {
		s.mins = append(s.mins, s.computeMin(i))
	}
}

func (s *spreadState) computeMin(i int) int64 {
	m := s.counts[i]
	if len(m) < s.constraints[i].minDomains {
		return 0
	}
	lo := int64(math.MaxInt64)
	for _, v := range m {
		lo = min(lo, v)
	}
	if lo == math.MaxInt64 {
		return 0
	}
	return lo
}

const spreadKey framework.StateKey = "PreFilter" + NamePodTopologySpread

func buildCounts(pod *api.Pod, cs []spreadConstraint, lister framework.NodeInfoLister) []map[string]int64 {
	if counts, ok := indexedCounts(pod, cs, lister); ok {
		return counts
	}
	nodes := lister.List()
	counts := make([]map[string]int64, len(cs))
	for i := range counts {
		counts[i] = map[string]int64{}
	}
	for _, n := range nodes {
		if !eligible(pod, n, cs) {
			continue
		}
		nl := n.NodeLabels
		for i := range cs {
			v := nl[cs[i].key]
			counts[i][v] += 0
			for _, e := range n.Pods {
				if cs[i].counts(pod, e.Pod) {
					counts[i][v]++
				}
			}
		}
	}
	return counts
}

// indexedCounts answers buildCounts from a PodLabelIndex when every node is
// eligible (no node selector or required node affinity), there is one
// constraint, and its selector is one matchLabels pair.
func indexedCounts(pod *api.Pod, cs []spreadConstraint, lister framework.NodeInfoLister) ([]map[string]int64, bool) {
	idx, ok := lister.(framework.PodLabelIndex)
	spec := pod.GetSpec()
	if !ok || len(cs) != 1 || len(spec.GetNodeSelector()) > 0 || spec.GetAffinity().GetNodeAffinity().GetRequiredDuringSchedulingIgnoredDuringExecution() != nil {
		return nil, false
	}
	k, v, ok := cs[0].selector.SinglePair()
	if !ok {
		return nil, false
	}
	key := cs[0].key
	counts := make(map[string]int64, 16)
	for d := range idx.TopologyDomains(key) {
		counts[d] = 0
	}
	for n, c := range idx.PodsWithLabel(framework.LabelKey{Namespace: pod.GetMetadata().GetNamespace(), Key: k, Value: v}) {
		if d, ok := n.NodeLabels[key]; ok && n.Node() != nil {
			counts[d] += int64(c)
		}
	}
	return []map[string]int64{counts}, true
}

// PreFilter counts matching pods per domain for hard constraints.
func (p *PodTopologySpread) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	cs, err := parseConstraints(pod.Pod, true)
	if err != nil {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, err.Error())
	}
	if len(cs) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	lister := p.h.SnapshotLister()
	st := &spreadState{constraints: cs, counts: buildCounts(pod.Pod, cs, lister)}
	st.refreshMins()
	state.Write(spreadKey, st)
	p.restrict(state, pod.Pod, st, lister)
	return nil
}

// restrict narrows the cycle to the nodes of the domains that still have
// room under the skew, when a single constraint with an indexed selector
// applies to every node (the case indexedCounts answers).
func (p *PodTopologySpread) restrict(state *framework.CycleState, pod *api.Pod, st *spreadState, lister framework.NodeInfoLister) {
	idx, ok := lister.(framework.PodLabelIndex)
	spec := pod.GetSpec()
	if !ok || len(st.constraints) != 1 || len(spec.GetNodeSelector()) > 0 || spec.GetAffinity().GetNodeAffinity().GetRequiredDuringSchedulingIgnoredDuringExecution() != nil {
		return
	}
	c := &st.constraints[0]
	self := int64(0)
	if c.selfMatches {
		self = 1
	}
	domains := idx.TopologyDomains(c.key)
	values := slices.Sorted(maps.Keys(domains))
	var nodes []*framework.NodeInfo
	allowed := 0
	for _, v := range values {
		if st.counts[0][v]+self-st.mins[0] <= c.maxSkew {
			allowed++
			nodes = append(nodes, domains[v]...)
		}
	}
	if allowed == len(domains) {
		return // nothing to gain
	}
	state.RestrictNodes(nodes, framework.NewStatus(framework.Unschedulable, ReasonTopologySpread))
}

func (p *PodTopologySpread) update(state *framework.CycleState, pod, e *framework.PodInfo, n *framework.NodeInfo, delta int64) *framework.Status {
	s, err := framework.ReadAs[*spreadState](state, spreadKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	if !eligible(pod.Pod, n, s.constraints) {
		return nil
	}
	nl := n.NodeLabels
	for i := range s.constraints {
		if s.constraints[i].counts(pod.Pod, e.Pod) {
			s.counts[i][nl[s.constraints[i].key]] += delta
		}
	}
	s.refreshMins()
	return nil
}

// AddPod implements framework.PreFilterExtensions.
func (p *PodTopologySpread) AddPod(_ context.Context, state *framework.CycleState, pod, toAdd *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	return p.update(state, pod, toAdd, node, 1)
}

// RemovePod implements framework.PreFilterExtensions.
func (p *PodTopologySpread) RemovePod(_ context.Context, state *framework.CycleState, pod, toRemove *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	return p.update(state, pod, toRemove, node, -1)
}

// Filter rejects a node where placing the pod would make a domain exceed
// maxSkew above the least-populated domain.
func (p *PodTopologySpread) Filter(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadAs[*spreadState](state, spreadKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	nl := node.NodeLabels
	for i, c := range s.constraints {
		v, ok := nl[c.key]
		if !ok {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonTopologySpreadMissing)
		}
		self := int64(0)
		if c.selfMatches {
			self = 1
		}
		if s.counts[i][v]+self-s.mins[i] > c.maxSkew {
			return framework.NewStatus(framework.Unschedulable, ReasonTopologySpread)
		}
	}
	return nil
}

type spreadScoreState struct {
	constraints []spreadConstraint
	counts      []map[string]int64
}

func (s *spreadScoreState) Clone() framework.StateData { return s }

const spreadScoreKey framework.StateKey = "PreScore" + NamePodTopologySpread

// PreScore counts matching pods per domain for soft constraints.
func (p *PodTopologySpread) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	cs, err := parseConstraints(pod.Pod, false)
	if err != nil || len(cs) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(spreadScoreKey, &spreadScoreState{constraints: cs, counts: buildCounts(pod.Pod, cs, p.h.SnapshotLister())})
	return nil
}

// Score is the number of matching pods in the node's domains (fewer is
// better after normalization); nodes missing a key score the worst.
func (p *PodTopologySpread) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	s, err := framework.ReadAs[*spreadScoreState](state, spreadScoreKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	nl := node.NodeLabels
	var total int64
	for i, c := range s.constraints {
		v, ok := nl[c.key]
		if !ok {
			return -1, nil // marked for NormalizeScore: worst score
		}
		total += s.counts[i][v]
	}
	return total, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (p *PodTopologySpread) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore maps the fewest matching pods to MaxNodeScore and nodes
// missing a topology key to 0.
func (p *PodTopologySpread) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	valid := make([]framework.NodeScore, 0, len(scores))
	for _, s := range scores {
		if s.Score >= 0 {
			valid = append(valid, s)
		}
	}
	normalize(valid, true)
	j := 0
	for i := range scores {
		if scores[i].Score < 0 {
			scores[i].Score = 0
			continue
		}
		scores[i].Score = valid[j].Score
		j++
	}
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (p *PodTopologySpread) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.ResourceAssignedPod, Action: framework.ActionAll}, {Resource: framework.ResourceNode, Action: framework.ActionAdd | framework.ActionUpdate}}
}

var (
	_ framework.PreFilterPlugin     = (*PodTopologySpread)(nil)
	_ framework.PreFilterExtensions = (*PodTopologySpread)(nil)
	_ framework.FilterPlugin        = (*PodTopologySpread)(nil)
	_ framework.PreScorePlugin      = (*PodTopologySpread)(nil)
	_ framework.ScorePlugin         = (*PodTopologySpread)(nil)
)
