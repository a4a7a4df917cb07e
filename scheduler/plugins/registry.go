package plugins

import "github.com/coxswain-io/coxswain/scheduler/framework"

// NewRegistry returns a registry with every default plugin.
func NewRegistry() *framework.Registry {
	r := framework.NewRegistry()
	stateless := func(p framework.Plugin) framework.PluginFactory {
		return func(framework.Handle) (framework.Plugin, error) { return p, nil }
	}
	must := func(err error) {
		if err != nil {
			panic(err) // the names below are distinct constants
		}
	}
	must(r.Register(NameNodeName, stateless(NodeName{})))
	must(r.Register(NameNodeUnschedulable, stateless(NodeUnschedulable{})))
	must(r.Register(NameNodePorts, stateless(NodePorts{})))
	must(r.Register(NameNodeAffinity, stateless(NodeAffinity{})))
	must(r.Register(NameTaintToleration, stateless(TaintToleration{})))
	must(r.Register(NameNodeResourcesFit, stateless(NodeResourcesFit{})))
	must(r.Register(NameNodeResourcesBalanced, stateless(NodeResourcesBalancedAllocation{})))
	must(r.Register(NameInterPodAffinity, func(h framework.Handle) (framework.Plugin, error) { return NewInterPodAffinity(h), nil }))
	must(r.Register(NamePodTopologySpread, func(h framework.Handle) (framework.Plugin, error) { return NewPodTopologySpread(h), nil }))
	must(r.Register(NameDefaultPreemption, func(h framework.Handle) (framework.Plugin, error) { return NewDefaultPreemption(h), nil }))
	return r
}

// DefaultPlugins lists the default plugins in the order they run, with the
// score weights kube-scheduler uses (binding is added by package scheduler).
func DefaultPlugins() []framework.PluginRef {
	return []framework.PluginRef{
		{Name: NameNodeUnschedulable},
		{Name: NameNodeName},
		{Name: NameTaintToleration, Weight: 3},
		{Name: NameNodeAffinity, Weight: 2},
		{Name: NameNodePorts},
		{Name: NameNodeResourcesFit, Weight: 1},
		{Name: NamePodTopologySpread, Weight: 2},
		{Name: NameInterPodAffinity, Weight: 2},
		{Name: NameNodeResourcesBalanced, Weight: 1},
		{Name: NameDefaultPreemption},
	}
}
