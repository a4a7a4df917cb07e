package framework

import (
	"context"

	"github.com/coxswain-io/coxswain/api"
)

// MaxNodeScore is the highest score a Score plugin returns after
// normalization; MinNodeScore the lowest.
const (
	MaxNodeScore int64 = 100
	MinNodeScore int64 = 0
)

// Plugin is the base of every plugin: a unique name.
type Plugin interface {
	Name() string
}

// PreFilterPlugin runs once per cycle before filtering: it checks the pod
// itself and precomputes what Filter needs into the CycleState. Returning
// Skip skips the plugin's Filter for this pod; a rejection makes every node
// fail with that status.
type PreFilterPlugin interface {
	Plugin
	PreFilter(ctx context.Context, state *CycleState, pod *PodInfo) *Status
}

// PreFilterExtensions lets the preemption simulation keep a PreFilter
// plugin's precomputed state right when it adds or removes a pod from a node.
// A PreFilter plugin whose state depends on other pods implements it.
type PreFilterExtensions interface {
	AddPod(ctx context.Context, state *CycleState, pod *PodInfo, toAdd *PodInfo, node *NodeInfo) *Status
	RemovePod(ctx context.Context, state *CycleState, pod *PodInfo, toRemove *PodInfo, node *NodeInfo) *Status
}

// FilterPlugin decides whether the pod fits a node. It is called
// concurrently for different nodes and must only read state and node.
// A rejection carries reasons such as "Insufficient cpu".
type FilterPlugin interface {
	Plugin
	Filter(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status
}

// NodeToStatus holds the rejecting status of each node that failed Filter.
type NodeToStatus map[string]*Status

// PostFilterResult is what a PostFilter plugin proposes: a node that the pod
// will fit on once Victims are gone.
type PostFilterResult struct {
	NominatedNodeName string
	Victims           []*api.Pod
}

// PostFilterPlugin runs when no node passed Filter, typically to preempt.
// It only decides: the scheduler deletes the victims and records the
// nomination. Success with a result means the pod may fit after that.
type PostFilterPlugin interface {
	Plugin
	PostFilter(ctx context.Context, state *CycleState, pod *PodInfo, filtered NodeToStatus) (*PostFilterResult, *Status)
}

// PreScorePlugin runs once before scoring with the nodes that passed Filter.
// Returning Skip skips the plugin's Score for this pod.
type PreScorePlugin interface {
	Plugin
	PreScore(ctx context.Context, state *CycleState, pod *PodInfo, nodes []*NodeInfo) *Status
}

// NodeScore is one node's score.
type NodeScore struct {
	Name  string
	Score int64
}

// ScorePlugin ranks a feasible node. It is called concurrently for
// different nodes. Scores must end within [MinNodeScore, MaxNodeScore],
// directly or after ScoreExtensions' NormalizeScore; the framework then
// multiplies them by the plugin's weight in the profile.
type ScorePlugin interface {
	Plugin
	Score(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) (int64, *Status)
	// ScoreExtensions returns the normalization step, or nil.
	ScoreExtensions() ScoreExtensions
}

// ScoreExtensions normalizes all nodes' scores of one plugin in place.
type ScoreExtensions interface {
	NormalizeScore(ctx context.Context, state *CycleState, pod *PodInfo, scores []NodeScore) *Status
}

// ReservePlugin is told that the pod was assumed on a node (Reserve) and,
// if binding later fails, that it was not (Unreserve). Unreserve must be
// idempotent.
type ReservePlugin interface {
	Plugin
	Reserve(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) *Status
	Unreserve(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string)
}

// BindPlugin writes the placement. Binders run in order until one returns
// something other than Skip. Bind runs outside the scheduling cycle,
// concurrently with other pods' cycles.
type BindPlugin interface {
	Plugin
	Bind(ctx context.Context, state *CycleState, pod *PodInfo, nodeName string) *Status
}

// ActionType is what happened to an object in a ClusterEvent.
type ActionType int

// Actions, combinable as a bit set.
const (
	ActionAdd ActionType = 1 << iota
	ActionUpdate
	ActionDelete
	ActionAll = ActionAdd | ActionUpdate | ActionDelete
)

// ClusterEvent is a change that may make unschedulable pods schedulable:
// Resource is "Node" or "AssignedPod" (a pod with a node).
type ClusterEvent struct {
	Resource string
	Action   ActionType
}

// Cluster event resources.
const (
	ResourceNode        = "Node"
	ResourceAssignedPod = "AssignedPod"
)

// Match reports whether e (a concrete event) is covered by interest.
func (interest ClusterEvent) Match(e ClusterEvent) bool {
	return interest.Resource == e.Resource && interest.Action&e.Action != 0
}

// EnqueueExtensions is implemented by a rejecting plugin to say which
// cluster events may change its verdict; a pod it rejected is retried when
// such an event happens. Plugins that don't implement it are assumed to
// care about every event.
type EnqueueExtensions interface {
	EventsToRegister() []ClusterEvent
}

// Handle is what the framework offers plugins: the node snapshot of the
// current cycle and the ability to rerun filters (for preemption).
type Handle interface {
	// SnapshotLister returns the node snapshot of the current cycle.
	SnapshotLister() NodeInfoLister
	// RunFilterPlugins runs every Filter plugin of the profile on one node.
	RunFilterPlugins(ctx context.Context, state *CycleState, pod *PodInfo, node *NodeInfo) *Status
	// RunPreFilterExtensionAddPod and RunPreFilterExtensionRemovePod tell
	// every PreFilterExtensions plugin about a simulated change.
	RunPreFilterExtensionAddPod(ctx context.Context, state *CycleState, pod *PodInfo, toAdd *PodInfo, node *NodeInfo) *Status
	RunPreFilterExtensionRemovePod(ctx context.Context, state *CycleState, pod *PodInfo, toRemove *PodInfo, node *NodeInfo) *Status
	// Parallelism is how many goroutines a plugin may use.
	Parallelism() int
}

// NodeInfoLister reads a snapshot of node state.
type NodeInfoLister interface {
	// List returns every node, in a stable order.
	List() []*NodeInfo
	// Get returns one node, or nil.
	Get(name string) *NodeInfo
	// HavePodsWithAffinity returns the nodes with at least one pod that has
	// a pod (anti-)affinity term.
	HavePodsWithAffinity() []*NodeInfo
	// HavePodsWithRequiredAntiAffinity returns the nodes with at least one
	// pod that has a required anti-affinity term.
	HavePodsWithRequiredAntiAffinity() []*NodeInfo
}
