package plugins

import (
	"context"
	"maps"
	"slices"

	"github.com/coxswain-io/coxswain/scheduler/framework"
)

// InterPodAffinity rejection reasons.
const (
	ReasonExistingAntiAffinity = "node(s) didn't satisfy existing pods anti-affinity rules"
	ReasonAffinity             = "node(s) didn't match pod affinity rules"
	ReasonAntiAffinity         = "node(s) didn't match pod anti-affinity rules"
)

// InterPodAffinity enforces required pod affinity and anti-affinity (the
// incoming pod's terms and existing pods' anti-affinity terms against it)
// per topology domain, and scores preferred terms (the incoming pod's and,
// symmetrically, existing pods').
type InterPodAffinity struct {
	h framework.Handle
}

// NewInterPodAffinity returns the plugin reading nodes through h.
func NewInterPodAffinity(h framework.Handle) *InterPodAffinity { return &InterPodAffinity{h: h} }

// Name returns InterPodAffinity.
func (*InterPodAffinity) Name() string { return NameInterPodAffinity }

type topologyPair struct{ key, value string }

type topologyCounts map[topologyPair]int64

// keys returns the distinct topology keys with a count (few: typically
// hostname and zone).
func (c topologyCounts) keys() []string {
	var out []string
	for p := range c {
		if !slices.Contains(out, p.key) {
			out = append(out, p.key)
		}
	}
	return out
}

func (c topologyCounts) add(n *framework.NodeInfo, key string, delta int64) {
	if v, ok := n.NodeLabels[key]; ok {
		p := topologyPair{key, v}
		c[p] += delta
		if c[p] == 0 {
			delete(c, p)
		}
	}
}

type affinityState struct {
	existingAnti topologyCounts // existing pods' anti-affinity matching the pod
	affinity     topologyCounts // pods matching all the pod's affinity terms
	anti         topologyCounts // pods matching the pod's anti-affinity terms
	affinityAny  int64          // pods matching every affinity term anywhere
	antiKeys     []string       // distinct topology keys in existingAnti
}

func (s *affinityState) Clone() framework.StateData {
	return &affinityState{existingAnti: maps.Clone(s.existingAnti), affinity: maps.Clone(s.affinity), anti: maps.Clone(s.anti), affinityAny: s.affinityAny, antiKeys: s.antiKeys}
}

const affinityKey framework.StateKey = "PreFilter" + NameInterPodAffinity

func matchesAll(terms []framework.AffinityTerm, pi *framework.PodInfo) bool {
	for i := range terms {
		if !terms[i].Matches(pi.Pod) {
			return false
		}
	}
	return len(terms) > 0
}

// update counts existing pod e on node n (delta +1 or -1) into s for pod.
func (s *affinityState) update(pod, e *framework.PodInfo, n *framework.NodeInfo, delta int64) {
	if n.Node() == nil {
		return
	}
	for i := range e.RequiredAntiAffinityTerms {
		t := &e.RequiredAntiAffinityTerms[i]
		if t.Matches(pod.Pod) {
			s.existingAnti.add(n, t.TopologyKey, delta)
		}
	}
	if matchesAll(pod.RequiredAffinityTerms, e) {
		s.affinityAny += delta
		for i := range pod.RequiredAffinityTerms {
			s.affinity.add(n, pod.RequiredAffinityTerms[i].TopologyKey, delta)
		}
	}
	for i := range pod.RequiredAntiAffinityTerms {
		t := &pod.RequiredAntiAffinityTerms[i]
		if t.Matches(e.Pod) {
			s.anti.add(n, t.TopologyKey, delta)
		}
	}
	s.antiKeys = s.existingAnti.keys()
}

// PreFilter counts, per topology domain, the pods the incoming pod's
// required terms match and the existing pods whose anti-affinity rejects it.
// With a PodLabelIndex (the scheduler's snapshots) terms that name one
// namespace and one label are answered from the index; others walk pods.
func (p *InterPodAffinity) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	s := &affinityState{existingAnti: topologyCounts{}, affinity: topologyCounts{}, anti: topologyCounts{}}
	lister := p.h.SnapshotLister()
	hasOwn := len(pod.RequiredAffinityTerms)+len(pod.RequiredAntiAffinityTerms) > 0
	antiNodes := lister.HavePodsWithRequiredAntiAffinity()
	if !hasOwn && len(antiNodes) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	idx, hasIdx := lister.(framework.PodLabelIndex)
	if !hasIdx {
		if hasOwn {
			for _, n := range lister.List() {
				for _, e := range n.Pods {
					s.update(pod, e, n, 1)
				}
			}
		} else {
			for _, n := range antiNodes {
				for _, e := range n.PodsWithRequiredAntiAffinity {
					s.update(pod, e, n, 1)
				}
			}
		}
		state.Write(affinityKey, s)
		return nil
	}
	// Existing pods' anti-affinity against the incoming pod.
	m := pod.Pod.GetMetadata()
	for k, v := range m.GetLabels() {
		for topo, nodes := range idx.AntiAffinitySelecting(framework.LabelKey{Namespace: m.GetNamespace(), Key: k, Value: v}) {
			for n, c := range nodes {
				s.existingAnti.add(n, topo, int64(c))
			}
		}
	}
	for n := range idx.NodesWithUnindexedAntiAffinity() {
		if n.Node() == nil {
			continue
		}
		for _, e := range n.PodsWithRequiredAntiAffinity {
			for i := range e.RequiredAntiAffinityTerms {
				t := &e.RequiredAntiAffinityTerms[i]
				if _, ok := t.IndexKey(); !ok && t.Matches(pod.Pod) {
					s.existingAnti.add(n, t.TopologyKey, 1)
				}
			}
		}
	}
	// The incoming pod's own terms.
	slowAffinity := false
	if len(pod.RequiredAffinityTerms) == 1 {
		t := &pod.RequiredAffinityTerms[0]
		if lk, ok := t.IndexKey(); ok {
			for n, c := range idx.PodsWithLabel(lk) {
				if n.Node() != nil {
					s.affinityAny += int64(c)
					s.affinity.add(n, t.TopologyKey, int64(c))
				}
			}
		} else {
			slowAffinity = true
		}
	} else if len(pod.RequiredAffinityTerms) > 1 {
		slowAffinity = true
	}
	var slowAnti []*framework.AffinityTerm
	for i := range pod.RequiredAntiAffinityTerms {
		t := &pod.RequiredAntiAffinityTerms[i]
		lk, ok := t.IndexKey()
		if !ok {
			slowAnti = append(slowAnti, t)
			continue
		}
		for n, c := range idx.PodsWithLabel(lk) {
			if n.Node() != nil {
				s.anti.add(n, t.TopologyKey, int64(c))
			}
		}
	}
	if slowAffinity || len(slowAnti) > 0 {
		for _, n := range lister.List() {
			for _, e := range n.Pods {
				if slowAffinity && matchesAll(pod.RequiredAffinityTerms, e) {
					s.affinityAny++
					for i := range pod.RequiredAffinityTerms {
						s.affinity.add(n, pod.RequiredAffinityTerms[i].TopologyKey, 1)
					}
				}
				for _, t := range slowAnti {
					if t.Matches(e.Pod) {
						s.anti.add(n, t.TopologyKey, 1)
					}
				}
			}
		}
	}
	s.antiKeys = s.existingAnti.keys()
	state.Write(affinityKey, s)
	return nil
}

// AddPod implements framework.PreFilterExtensions.
func (p *InterPodAffinity) AddPod(_ context.Context, state *framework.CycleState, pod, toAdd *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadAs[*affinityState](state, affinityKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	s.update(pod, toAdd, node, 1)
	return nil
}

// RemovePod implements framework.PreFilterExtensions.
func (p *InterPodAffinity) RemovePod(_ context.Context, state *framework.CycleState, pod, toRemove *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadAs[*affinityState](state, affinityKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	s.update(pod, toRemove, node, -1)
	return nil
}

// Filter implements framework.FilterPlugin.
func (p *InterPodAffinity) Filter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	s, err := framework.ReadAs[*affinityState](state, affinityKey)
	if err != nil {
		return framework.AsStatus(err)
	}
	nl := node.NodeLabels
	if len(s.existingAnti) > 0 {
		for _, key := range s.antiKeys {
			if v, ok := nl[key]; ok && s.existingAnti[topologyPair{key, v}] > 0 {
				return framework.NewStatus(framework.Unschedulable, ReasonExistingAntiAffinity)
			}
		}
	}
	for i := range pod.RequiredAntiAffinityTerms {
		key := pod.RequiredAntiAffinityTerms[i].TopologyKey
		if v, ok := nl[key]; ok && s.anti[topologyPair{key, v}] > 0 {
			return framework.NewStatus(framework.Unschedulable, ReasonAntiAffinity)
		}
	}
	if len(pod.RequiredAffinityTerms) > 0 {
		for i := range pod.RequiredAffinityTerms {
			key := pod.RequiredAffinityTerms[i].TopologyKey
			v, ok := nl[key]
			if !ok {
				return framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonAffinity)
			}
			if s.affinity[topologyPair{key, v}] > 0 {
				continue
			}
			// The first pod of a group that selects itself may go anywhere
			// the topology key exists.
			if s.affinityAny == 0 && matchesAll(pod.RequiredAffinityTerms, pod) {
				continue
			}
			return framework.NewStatus(framework.Unschedulable, ReasonAffinity)
		}
	}
	return nil
}

type affinityScoreState struct {
	scores map[string]map[string]int64 // topology key -> value -> score
}

func (s *affinityScoreState) Clone() framework.StateData { return s }

const affinityScoreKey framework.StateKey = "PreScore" + NameInterPodAffinity

// PreScore sums preferred-term weights per topology domain.
func (p *InterPodAffinity) PreScore(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	lister := p.h.SnapshotLister()
	hasOwn := len(pod.PreferredAffinityTerms)+len(pod.PreferredAntiAffinityTerms) > 0
	if idx, ok := lister.(framework.PodLabelIndex); ok && !hasOwn && idx.PodsWithPreferredAffinity() == 0 {
		return framework.NewStatus(framework.Skip)
	}
	nodes := lister.HavePodsWithAffinity()
	if hasOwn {
		nodes = lister.List()
	}
	if len(nodes) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	s := &affinityScoreState{scores: map[string]map[string]int64{}}
	add := func(n *framework.NodeInfo, key string, w int64) {
		v, ok := n.NodeLabels[key]
		if !ok {
			return
		}
		m := s.scores[key]
		if m == nil {
			m = map[string]int64{}
			s.scores[key] = m
		}
		m[v] += w
	}
	for _, n := range nodes {
		if n.Node() == nil {
			continue
		}
		pods := n.PodsWithAffinity
		if hasOwn {
			pods = n.Pods
		}
		for _, e := range pods {
			for _, t := range pod.PreferredAffinityTerms {
				if t.Matches(e.Pod) {
					add(n, t.TopologyKey, int64(t.Weight))
				}
			}
			for _, t := range pod.PreferredAntiAffinityTerms {
				if t.Matches(e.Pod) {
					add(n, t.TopologyKey, -int64(t.Weight))
				}
			}
			for _, t := range e.PreferredAffinityTerms {
				if t.Matches(pod.Pod) {
					add(n, t.TopologyKey, int64(t.Weight))
				}
			}
			for _, t := range e.PreferredAntiAffinityTerms {
				if t.Matches(pod.Pod) {
					add(n, t.TopologyKey, -int64(t.Weight))
				}
			}
		}
	}
	if len(s.scores) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(affinityScoreKey, s)
	return nil
}

// Score returns the node's domains' summed weights (normalized later).
func (p *InterPodAffinity) Score(_ context.Context, state *framework.CycleState, _ *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	s, err := framework.ReadAs[*affinityScoreState](state, affinityScoreKey)
	if err != nil {
		return 0, framework.AsStatus(err)
	}
	var total int64
	nl := node.NodeLabels
	for key, m := range s.scores {
		if v, ok := nl[key]; ok {
			total += m[v]
		}
	}
	return total, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (p *InterPodAffinity) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore maps scores onto [0, MaxNodeScore], highest best.
func (p *InterPodAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	normalize(scores, false)
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (p *InterPodAffinity) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.ResourceAssignedPod, Action: framework.ActionAll}, {Resource: framework.ResourceNode, Action: framework.ActionAdd | framework.ActionUpdate}}
}

var (
	_ framework.PreFilterPlugin     = (*InterPodAffinity)(nil)
	_ framework.PreFilterExtensions = (*InterPodAffinity)(nil)
	_ framework.FilterPlugin        = (*InterPodAffinity)(nil)
	_ framework.PreScorePlugin      = (*InterPodAffinity)(nil)
	_ framework.ScorePlugin         = (*InterPodAffinity)(nil)
)
