package scheduler

import (
	"context"
	"slices"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
	"github.com/coxswain-io/coxswain/store"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
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
	// A shallow copy shares the pod's sub-messages, which neither this
	// function nor the store (which never modifies what it is given)
	// changes; Update ignores status.
	p := &api.Pod{Metadata: shallowCopy(pod.Pod.GetMetadata()), Spec: shallowCopy(pod.Pod.GetSpec())}
	p.Spec.NodeName = nodeName
	if !slices.Contains(p.Metadata.Finalizers, FinalizerNodeAgent) {
		p.Metadata.Finalizers = append(slices.Clip(p.Metadata.Finalizers), FinalizerNodeAgent)
	}
	if _, err := b.Store.Update(ctx, p); err != nil {
		return framework.AsStatus(err)
	}
	return nil
}

// shallowCopy returns a new message whose fields are m's (sub-messages,
// lists and maps shared).
func shallowCopy[T proto.Message](m T) T {
	src := m.ProtoReflect()
	if !src.IsValid() {
		return src.New().Interface().(T)
	}
	dst := src.New()
	src.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		dst.Set(fd, v)
		return true
	})
	return dst.Interface().(T)
}

var _ framework.BindPlugin = (*DefaultBinder)(nil)
