package framework

import (
	"errors"
	"fmt"
	"maps"
	"slices"
)

// PluginFactory builds a plugin for one profile. Configuration is captured
// by the factory (a closure), not passed as untyped arguments.
type PluginFactory func(h Handle) (Plugin, error)

// ErrDuplicate is returned when a name is registered twice.
var ErrDuplicate = errors.New("duplicate plugin name")

// ErrUnknownPlugin is returned when a profile names an unregistered plugin.
var ErrUnknownPlugin = errors.New("unknown plugin")

// Registry maps plugin names to factories. It is not safe for concurrent
// registration; build it before creating schedulers.
type Registry struct {
	factories map[string]PluginFactory
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{factories: make(map[string]PluginFactory)}
}

// Register adds a factory; a name already present is refused with ErrDuplicate.
func (r *Registry) Register(name string, f PluginFactory) error {
	if name == "" || f == nil {
		return fmt.Errorf("register plugin %q: empty name or nil factory", name)
	}
	if _, ok := r.factories[name]; ok {
		return fmt.Errorf("register plugin %q: %w", name, ErrDuplicate)
	}
	r.factories[name] = f
	return nil
}

// Merge registers every factory of o into r, refusing duplicates (r is left
// unchanged on error).
func (r *Registry) Merge(o *Registry) error {
	for name := range o.factories {
		if _, ok := r.factories[name]; ok {
			return fmt.Errorf("merge plugin %q: %w", name, ErrDuplicate)
		}
	}
	maps.Copy(r.factories, o.factories)
	return nil
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	return slices.Sorted(maps.Keys(r.factories))
}

// Factory returns the factory registered under name.
func (r *Registry) Factory(name string) (PluginFactory, bool) {
	f, ok := r.factories[name]
	return f, ok
}

// PluginRef enables one plugin in a profile. Weight applies to its Score
// (0 means 1). The plugin is used at every extension point it implements,
// or only at Points when set (for example a filter-only use of a plugin
// that also scores).
type PluginRef struct {
	Name   string
	Weight int64
	Points ExtensionPoint
}

// ExtensionPoint is a set of extension points.
type ExtensionPoint int

// Extension points, combinable as a bit set.
const (
	PointPreFilter ExtensionPoint = 1 << iota
	PointFilter
	PointPostFilter
	PointPreScore
	PointScore
	PointReserve
	PointBind
	// PointAll is every extension point (the meaning of 0).
	PointAll = PointPreFilter | PointFilter | PointPostFilter | PointPreScore | PointScore | PointReserve | PointBind
)

// Profile is one named scheduler configuration: the schedulerName pods ask
// for and the plugins, in order, that run for them.
type Profile struct {
	SchedulerName string
	Plugins       []PluginRef
	// PercentageOfNodesToScore overrides the scheduler-wide setting when in
	// (0, 100]; see NumFeasibleNodesToFind.
	PercentageOfNodesToScore int32
}

// NumFeasibleNodesToFind returns how many feasible nodes to look for before
// scoring, out of numNodes, given a percentage (0 or less: adaptive, like
// kube-scheduler: 50% minus 1% per 125 nodes, at least 5%, so 10% at 5,000
// nodes). Never fewer than minFeasibleNodes (100) unless there are fewer nodes.
func NumFeasibleNodesToFind(percentage int32, numNodes int) int {
	const (
		minFeasibleNodes           = 100
		minFeasiblePercentage      = 5
		defaultPercentage          = 50
		nodesPerPercentageDecrease = 125
	)
	if numNodes < minFeasibleNodes || percentage >= 100 {
		return numNodes
	}
	pct := int(percentage)
	if pct <= 0 {
		pct = defaultPercentage - numNodes/nodesPerPercentageDecrease
		if pct < minFeasiblePercentage {
			pct = minFeasiblePercentage
		}
	}
	n := numNodes * pct / 100
	if n < minFeasibleNodes {
		return minFeasibleNodes
	}
	return n
}
