package scheduler

import (
	"context"
	"slices"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
	"github.com/coxswain-io/coxswain/store"
)

// FinalizerNodeAgent is added to every pod the scheduler binds; the node
// agent removes it once the pod's containers are gone.
const FinalizerNodeAgent = "coxswain.io/node-agent"

// NameDefaultBinder is the name of the default Bind plugin.
const NameDefaultBinder = "DefaultBinder"

// DefaultBinder binds by updating the pod with a resourceVersion
// precondition: spec.nodeName and the node-agent finalizer in one write.
type DefaultBinder struct {
	Store store.Store
}

// Name returns DefaultBinder.
func (b *DefaultBinder) Name() string { return NameDefaultBinder }

// Bind implements framework.BindPlugin. The status wraps the store error,
// so errors.Is(st.AsError(), store.ErrConflict) tells a lost race.
func (b *DefaultBinder) Bind(ctx context.Context, _ *framework.CycleState, pod *framework.PodInfo, nodeName string) *framework.Status {
	p := api.Clone(pod.Pod)
	p.Spec.NodeName = nodeName
	meta := api.Meta(p)
	if !slices.Contains(meta.Finalizers, FinalizerNodeAgent) {
		meta.Finalizers = append(meta.Finalizers, FinalizerNodeAgent)
	}
	if _, err := b.Store.Update(ctx, p); err != nil {
		return framework.AsStatus(err)
	}
	return nil
}

var _ framework.BindPlugin = (*DefaultBinder)(nil)
