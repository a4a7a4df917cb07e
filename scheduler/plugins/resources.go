package plugins

import (
	"context"
	"math"
	"sort"

	"github.com/coxswain-io/coxswain/api/resource"
	"github.com/coxswain-io/coxswain/scheduler/framework"
)

// ReasonTooManyPods is the rejection when a node's pod slots are used up.
const ReasonTooManyPods = "Too many pods"

// NodeResourcesFit rejects nodes whose allocatable resources (cpu, memory,
// ephemeral-storage, pods and extended resources such as example.com/gpu)
// minus what their pods request cannot hold the pod's requests, and scores
// the least allocated nodes highest (cpu and memory, weighted equally).
//
// A node that reports no "pods" allocatable has no pod-count limit; any
// other resource it does not report counts as zero.
type NodeResourcesFit struct{}

// Name returns NodeResourcesFit.
func (NodeResourcesFit) Name() string { return NameNodeResourcesFit }

// InsufficientResources returns one "Insufficient NAME" reason per resource
// the node lacks for the pod (and "Too many pods"), in a stable order.
func InsufficientResources(pod *framework.PodInfo, node *framework.NodeInfo) []string {
	var out []string
	alloc, used, req := &node.Allocatable, &node.Requested, &pod.Requests
	if alloc.AllowedPodNumber > 0 && int64(len(node.Pods))+1 > alloc.AllowedPodNumber {
		out = append(out, ReasonTooManyPods)
	}
	if req.MilliCPU > 0 && req.MilliCPU > alloc.MilliCPU-used.MilliCPU {
		out = append(out, "Insufficient "+resource.CPU)
	}
	if req.Memory > 0 && req.Memory > alloc.Memory-used.Memory {
		out = append(out, "Insufficient "+resource.Memory)
	}
	if req.EphemeralStorage > 0 && req.EphemeralStorage > alloc.EphemeralStorage-used.EphemeralStorage {
		out = append(out, "Insufficient "+resource.EphemeralStorage)
	}
	if len(req.Scalar) > 0 {
		names := make([]string, 0, len(req.Scalar))
		for name, v := range req.Scalar {
			if v > 0 && v > alloc.Scalar[name]-used.Scalar[name] {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		for _, n := range names {
			out = append(out, "Insufficient "+n)
		}
	}
	return out
}

// Filter implements framework.FilterPlugin.
func (NodeResourcesFit) Filter(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) *framework.Status {
	if reasons := InsufficientResources(pod, node); len(reasons) > 0 {
		return framework.NewStatus(framework.Unschedulable, reasons...)
	}
	return nil
}

// Score is the least-allocated score: the mean over cpu and memory of the
// share left free after placing the pod, times MaxNodeScore.
func (NodeResourcesFit) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	free := func(alloc, used int64) int64 {
		if alloc <= 0 || used > alloc {
			return 0
		}
		return (alloc - used) * framework.MaxNodeScore / alloc
	}
	cpu := free(node.Allocatable.MilliCPU, node.NonZeroRequested.MilliCPU+pod.NonZeroRequests.MilliCPU)
	mem := free(node.Allocatable.Memory, node.NonZeroRequested.Memory+pod.NonZeroRequests.Memory)
	return (cpu + mem) / 2, nil
}

// ScoreExtensions implements framework.ScorePlugin: scores are already in range.
func (NodeResourcesFit) ScoreExtensions() framework.ScoreExtensions { return nil }

// EventsToRegister implements framework.EnqueueExtensions.
func (NodeResourcesFit) EventsToRegister() []framework.ClusterEvent {
	return []framework.ClusterEvent{podFreed, {Resource: framework.ResourceNode, Action: framework.ActionAdd | framework.ActionUpdate}}
}

// NodeResourcesBalancedAllocation prefers nodes whose cpu and memory would
// be used in similar proportions after placing the pod.
type NodeResourcesBalancedAllocation struct{}

// Name returns NodeResourcesBalancedAllocation.
func (NodeResourcesBalancedAllocation) Name() string { return NameNodeResourcesBalanced }

// Score is (1 - |cpuFraction - memFraction| / 2) * MaxNodeScore, the
// two-resource form of one minus the standard deviation.
func (NodeResourcesBalancedAllocation) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	frac := func(alloc, used int64) float64 {
		if alloc <= 0 {
			return 1
		}
		return math.Min(1, float64(used)/float64(alloc))
	}
	cpu := frac(node.Allocatable.MilliCPU, node.NonZeroRequested.MilliCPU+pod.NonZeroRequests.MilliCPU)
	mem := frac(node.Allocatable.Memory, node.NonZeroRequested.Memory+pod.NonZeroRequests.Memory)
	std := math.Abs(cpu-mem) / 2
	return int64((1 - std) * float64(framework.MaxNodeScore)), nil
}

// ScoreExtensions implements framework.ScorePlugin: scores are already in range.
func (NodeResourcesBalancedAllocation) ScoreExtensions() framework.ScoreExtensions { return nil }

var (
	_ framework.FilterPlugin = NodeResourcesFit{}
	_ framework.ScorePlugin  = NodeResourcesFit{}
	_ framework.ScorePlugin  = NodeResourcesBalancedAllocation{}
)
