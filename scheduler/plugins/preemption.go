package plugins

import (
	"context"
	"sort"

	"github.com/coxswain-io/coxswain/scheduler/framework"
)

// DefaultPreemption is a PostFilter plugin: when a pod fits nowhere, it looks
// for the node where evicting the fewest and least important lower-priority
// pods (by spec.priority) makes it fit, and proposes those victims. The
// scheduler deletes them and sets the pod's status.nominatedNodeName.
//
// A pod with spec.preemptionPolicy "Never" never preempts. A pod already
// nominated to a node where lower-priority pods are still terminating waits
// for them instead of preempting again.
type DefaultPreemption struct {
	h framework.Handle
	// MaxCandidates bounds how many nodes are simulated (default 100).
	MaxCandidates int
}

// NewDefaultPreemption returns the plugin reading nodes through h.
func NewDefaultPreemption(h framework.Handle) *DefaultPreemption {
	return &DefaultPreemption{h: h, MaxCandidates: 100}
}

// Name returns DefaultPreemption.
func (*DefaultPreemption) Name() string { return NameDefaultPreemption }

type candidate struct {
	node    string
	victims []*framework.PodInfo
}

// PostFilter implements framework.PostFilterPlugin.
func (p *DefaultPreemption) PostFilter(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, filtered framework.NodeToStatus) (*framework.PostFilterResult, *framework.Status) {
	spec := pod.Pod.GetSpec()
	if spec.GetPreemptionPolicy() == "Never" {
		return nil, framework.NewStatus(framework.Unschedulable, "preemption is disabled for the pod")
	}
	lister := p.h.SnapshotLister()
	prio := PodPriority(pod.Pod)
	if nn := pod.Pod.GetStatus().GetNominatedNodeName(); nn != "" {
		if n := lister.Get(nn); n != nil {
			for _, e := range n.Pods {
				if e.Pod.GetMetadata().GetDeletionTimestamp() != nil && PodPriority(e.Pod) < prio {
					return nil, framework.NewStatus(framework.Unschedulable, "waiting for preempted pods to terminate")
				}
			}
		}
	}
	var cands []candidate
	for _, n := range lister.List() {
		if len(cands) >= p.MaxCandidates {
			break
		}
		if st, ok := filtered[n.Name()]; ok && st.Code() != framework.Unschedulable {
			continue
		}
		if c, ok := p.simulate(ctx, state, pod, n); ok {
			cands = append(cands, c)
		}
	}
	if len(cands) == 0 {
		return nil, framework.NewStatus(framework.Unschedulable, "preemption: no node fits the pod even after evicting lower-priority pods")
	}
	best := pickCandidate(cands)
	res := &framework.PostFilterResult{NominatedNodeName: best.node}
	for _, v := range best.victims {
		res.Victims = append(res.Victims, v.Pod)
	}
	return res, nil
}

// simulate evicts every lower-priority pod on a copy of n, checks the pod
// fits, then puts back as many victims as possible, most important first.
func (p *DefaultPreemption) simulate(ctx context.Context, state *framework.CycleState, pod *framework.PodInfo, n *framework.NodeInfo) (candidate, bool) {
	prio := PodPriority(pod.Pod)
	var lower []*framework.PodInfo
	for _, e := range n.Pods {
		if PodPriority(e.Pod) < prio && e.Pod.GetMetadata().GetDeletionTimestamp() == nil {
			lower = append(lower, e)
		}
	}
	if len(lower) == 0 {
		return candidate{}, false
	}
	st := state.Clone()
	ni := n.Clone()
	for _, v := range lower {
		ni.RemovePod(v.Pod)
		if s := p.h.RunPreFilterExtensionRemovePod(ctx, st, pod, v, ni); !s.IsSuccess() {
			return candidate{}, false
		}
	}
	if s := p.h.RunFilterPlugins(ctx, st, pod, ni); !s.IsSuccess() {
		return candidate{}, false
	}
	sort.SliceStable(lower, func(i, j int) bool { return PodPriority(lower[i].Pod) > PodPriority(lower[j].Pod) })
	var victims []*framework.PodInfo
	for _, v := range lower {
		ni.AddPod(v)
		if s := p.h.RunPreFilterExtensionAddPod(ctx, st, pod, v, ni); !s.IsSuccess() {
			return candidate{}, false
		}
		if s := p.h.RunFilterPlugins(ctx, st, pod, ni); !s.IsSuccess() {
			ni.RemovePod(v.Pod)
			if s := p.h.RunPreFilterExtensionRemovePod(ctx, st, pod, v, ni); !s.IsSuccess() {
				return candidate{}, false
			}
			victims = append(victims, v)
		}
	}
	return candidate{node: n.Name(), victims: victims}, true
}

// pickCandidate prefers the lowest highest-victim priority, then the lowest
// sum of victim priorities, then the fewest victims, then the node name.
func pickCandidate(cs []candidate) candidate {
	key := func(c candidate) (int64, int64, int) {
		hi, sum := int64(-1<<31), int64(0)
		for _, v := range c.victims {
			pr := int64(PodPriority(v.Pod))
			hi = max(hi, pr)
			sum += pr + 1<<31 // shift so that negative priorities still add up sensibly
		}
		return hi, sum, len(c.victims)
	}
	sort.Slice(cs, func(i, j int) bool {
		hi1, s1, n1 := key(cs[i])
		hi2, s2, n2 := key(cs[j])
		if hi1 != hi2 {
			return hi1 < hi2
		}
		if s1 != s2 {
			return s1 < s2
		}
		if n1 != n2 {
			return n1 < n2
		}
		return cs[i].node < cs[j].node
	})
	return cs[0]
}

var _ framework.PostFilterPlugin = (*DefaultPreemption)(nil)
