// Package plugins holds the default scheduling plugins: NodeName,
// NodeUnschedulable, NodePorts, NodeAffinity (nodeSelector and node
// affinity), TaintToleration, NodeResourcesFit (with least-allocated
// scoring), NodeResourcesBalancedAllocation, InterPodAffinity,
// PodTopologySpread and DefaultPreemption.
//
// Like any third-party plugin, they import only the framework and the object
// model. NewRegistry registers all of them; DefaultPlugins lists them with
// their default score weights. Binding needs a store and lives in package
// scheduler (DefaultBinder).
package plugins
