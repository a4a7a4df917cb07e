// Package framework is the plugin-facing half of the Coxswain scheduler: the
// extension-point interfaces (PreFilter, Filter, PostFilter, PreScore, Score,
// Reserve, Bind), the per-cycle state passed to them, the node-state types
// they read (NodeInfo, PodInfo, Snapshot), an explicit plugin Registry that
// refuses duplicate names, Profiles that pick plugins and score weights, and
// Framework, which runs a profile's plugins for one pod.
//
// The package imports only the object model (api, api/labels, api/resource),
// so a plugin can live in any module: implement Name plus the extension
// points it needs, register a factory under a unique name, and list that name
// in a Profile.
//
// Pipeline for one pod (one scheduling cycle):
//
//	PreFilter -> Filter (each node, in parallel, sampled) -> PostFilter (only when no node fits)
//	          -> PreScore -> Score + NormalizeScore (x weight) -> pick the best node
//	          -> Reserve -> Bind (asynchronously; Unreserve on failure)
//
// Plugins keep no per-pod state on themselves: PreFilter and PreScore write
// what later points need into the CycleState, which is passed to every call
// of the cycle. Filter and Score are called concurrently for different nodes
// and must only read the CycleState.
package framework
