package plugins

import (
	"context"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
)

// Plugin names.
const (
	NameNodeName              = "NodeName"
	NameNodeUnschedulable     = "NodeUnschedulable"
	NameNodePorts             = "NodePorts"
	NameNodeAffinity          = "NodeAffinity"
	NameTaintToleration       = "TaintToleration"
	NameNodeResourcesFit      = "NodeResourcesFit"
	NameNodeResourcesBalanced = "NodeResourcesBalancedAllocation"
	NameInterPodAffinity      = "InterPodAffinity"
	NamePodTopologySpread     = "PodTopologySpread"
	NameDefaultPreemption     = "DefaultPreemption"
)

// Rejection reasons (counted per node in unschedulable messages).
const (
	ReasonNodeName          = "node(s) didn't match the requested node name"
	ReasonNodeUnschedulable = "node(s) were unschedulable"
	ReasonNodePorts         = "node(s) didn't have free ports for the requested pod ports"
	ReasonNodeAffinity      = "node(s) didn't match Pod's node affinity/selector"
)

var (
	nodeEvents = []framework.ClusterEvent{{Resource: framework.ResourceNode, Action: framework.ActionAdd | framework.ActionUpdate}}
	podFreed   = framework.ClusterEvent{Resource: framework.ResourceAssignedPod, Action: framework.ActionDelete}
)

// NodeName rejects nodes other than the pod's spec.nodeName, when set.
type NodeName struct{}

// Name returns NodeName.
func (NodeName) Name() string { return NameNodeName }

// PreFilter skips pods without spec.nodeName.
func (NodeName) PreFilter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	if pod.Pod.GetSpec().GetNodeName() == "" {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Filter implements framework.FilterPlugin.
func (NodeName) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if want := pod.Pod.GetSpec().GetNodeName(); want != "" && want != node.Name() {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonNodeName)
	}
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (NodeName) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{{Resource: framework.ResourceNode, Action: framework.ActionAdd}}
}

// NodeUnschedulable rejects cordoned nodes (spec.unschedulable) unless the
// pod tolerates the node.kubernetes.io/unschedulable:NoSchedule taint.
type NodeUnschedulable struct{}

// Name returns NodeUnschedulable.
func (NodeUnschedulable) Name() string { return NameNodeUnschedulable }

// Filter implements framework.FilterPlugin.
func (NodeUnschedulable) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if !node.Unschedulable {
		return nil
	}
	taint := &api.Taint{Key: TaintNodeUnschedulable, Effect: EffectNoSchedule}
	if TaintTolerated(pod.Pod.GetSpec().GetTolerations(), taint) {
		return nil
	}
	return framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonNodeUnschedulable)
}

// EventsToRegister implements framework.EnqueueExtensions.
func (NodeUnschedulable) EventsToRegister() []framework.ClusterEvent { return nodeEvents }

// NodePorts rejects nodes where a host port the pod asks for is in use.
type NodePorts struct{}

// Name returns NodePorts.
func (NodePorts) Name() string { return NameNodePorts }

type portsState []framework.HostPort

func (s portsState) Clone() framework.StateData { return s }

const portsKey framework.StateKey = "PreFilter" + NameNodePorts

// PreFilter records the pod's host ports, or skips pods without any.
func (NodePorts) PreFilter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	ports := framework.PodHostPorts(pod.Pod)
	if len(ports) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	state.Write(portsKey, portsState(ports))
	return nil
}

// Filter implements framework.FilterPlugin.
func (NodePorts) Filter(_ context.Context, state *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	ports, err := framework.ReadAs[portsState](state, portsKey)
	if err != nil {
		ports = framework.PodHostPorts(pod.Pod)
	}
	for _, want := range ports {
		for _, used := range node.UsedPorts {
			if want.Conflicts(used) {
				return framework.NewStatus(framework.Unschedulable, ReasonNodePorts)
			}
		}
	}
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (NodePorts) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{podFreed, {Resource: framework.ResourceNode, Action: framework.ActionAdd}}
}

// NodeAffinity filters on spec.nodeSelector and required node affinity and
// scores preferred node affinity terms by their weights.
type NodeAffinity struct{}

// Name returns NodeAffinity.
func (NodeAffinity) Name() string { return NameNodeAffinity }

// PreFilter skips pods without nodeSelector and required node affinity.
func (NodeAffinity) PreFilter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo) *framework.Status {
	spec := pod.Pod.GetSpec()
	if len(spec.GetNodeSelector()) == 0 && spec.GetAffinity().GetNodeAffinity().GetRequiredDuringSchedulingIgnoredDuringExecution() == nil {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Filter implements framework.FilterPlugin.
func (NodeAffinity) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if !PodMatchesNodeSelectorAndAffinity(pod.Pod, node.Node()) {
		return framework.NewStatus(framework.UnschedulableAndUnresolvable, ReasonNodeAffinity)
	}
	return nil
}

// PreScore skips pods without preferred node affinity.
func (NodeAffinity) PreScore(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, _ []*framework.NodeInfo) *framework.Status {
	if len(pod.Pod.GetSpec().GetAffinity().GetNodeAffinity().GetPreferredDuringSchedulingIgnoredDuringExecution()) == 0 {
		return framework.NewStatus(framework.Skip)
	}
	return nil
}

// Score sums the weights of the preferred terms the node matches.
func (NodeAffinity) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var total int64
	for _, t := range pod.Pod.GetSpec().GetAffinity().GetNodeAffinity().GetPreferredDuringSchedulingIgnoredDuringExecution() {
		if t.GetWeight() != 0 && MatchNodeSelectorTerm(t.GetPreference(), node.Node()) {
			total += int64(t.GetWeight())
		}
	}
	return total, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (p NodeAffinity) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore scales the highest sum to MaxNodeScore.
func (NodeAffinity) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	var hi int64
	for _, s := range scores {
		hi = max(hi, s.Score)
	}
	for i := range scores {
		if hi > 0 {
			scores[i].Score = scores[i].Score * framework.MaxNodeScore / hi
		}
	}
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (NodeAffinity) EventsToRegister() []framework.ClusterEvent { return nodeEvents }

// TaintToleration rejects nodes with a NoSchedule or NoExecute taint the pod
// does not tolerate, and prefers nodes with fewer untolerated
// PreferNoSchedule taints.
type TaintToleration struct{}

// Name returns TaintToleration.
func (TaintToleration) Name() string { return NameTaintToleration }

// Filter implements framework.FilterPlugin.
func (TaintToleration) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if len(node.Taints) == 0 {
		return nil
	}
	tols := pod.Pod.GetSpec().GetTolerations()
	for _, taint := range node.Taints {
		if taint.GetEffect() != EffectNoSchedule && taint.GetEffect() != EffectNoExecute {
			continue
		}
		if !TaintTolerated(tols, taint) {
			return framework.NewStatus(framework.UnschedulableAndUnresolvable, "node(s) had untolerated taint "+FormatTaint(taint))
		}
	}
	return nil
}

// PreScore skips scoring when no feasible node has a PreferNoSchedule taint.
func (TaintToleration) PreScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, nodes []*framework.NodeInfo) *framework.Status {
	for _, n := range nodes {
		for _, t := range n.Taints {
			if t.GetEffect() == EffectPreferNoSchedule {
				return nil
			}
		}
	}
	return framework.NewStatus(framework.Skip)
}

// Score counts untolerated PreferNoSchedule taints (normalized so fewer is better).
func (TaintToleration) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	var n int64
	for _, taint := range node.Taints {
		if taint.GetEffect() != EffectPreferNoSchedule {
			continue
		}
		tolerated := false
		for _, t := range pod.Pod.GetSpec().GetTolerations() {
			if (t.GetEffect() == "" || t.GetEffect() == EffectPreferNoSchedule) && ToleratesTaint(t, taint) {
				tolerated = true
				break
			}
		}
		if !tolerated {
			n++
		}
	}
	return n, nil
}

// ScoreExtensions implements framework.ScorePlugin.
func (p TaintToleration) ScoreExtensions() framework.ScoreExtensions { return p }

// NormalizeScore maps the fewest untolerated taints to MaxNodeScore.
func (TaintToleration) NormalizeScore(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, scores []framework.NodeScore) *framework.Status {
	var hi int64
	for _, s := range scores {
		hi = max(hi, s.Score)
	}
	for i := range scores {
		if hi == 0 {
			scores[i].Score = framework.MaxNodeScore
		} else {
			scores[i].Score = framework.MaxNodeScore - scores[i].Score*framework.MaxNodeScore/hi
		}
	}
	return nil
}

// EventsToRegister implements framework.EnqueueExtensions.
func (TaintToleration) EventsToRegister() []framework.ClusterEvent { return nodeEvents }

var (
	_ framework.FilterPlugin    = NodeName{}
	_ framework.FilterPlugin    = NodeUnschedulable{}
	_ framework.PreFilterPlugin = NodePorts{}
	_ framework.FilterPlugin    = NodePorts{}
	_ framework.FilterPlugin    = NodeAffinity{}
	_ framework.ScorePlugin     = NodeAffinity{}
	_ framework.PreScorePlugin  = NodeAffinity{}
	_ framework.FilterPlugin    = TaintToleration{}
	_ framework.ScorePlugin     = TaintToleration{}
	_ framework.PreScorePlugin  = TaintToleration{}
)
