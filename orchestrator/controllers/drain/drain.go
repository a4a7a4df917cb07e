// Package drain cordons nodes and drains them of their pods, respecting
// PodDisruptionBudgets: a library the CLI (or any program) calls.
//
// Cordon sets a node's spec.unschedulable so the scheduler places nothing
// new on it; Uncordon clears it. Drain cordons the node, then evicts every
// pod bound to it through disruption.Evict, so a pod whose eviction would
// take a budget below its floor stays. Pods of a DaemonSet are skipped
// (their controller would put them right back) unless
// Options.IncludeDaemonSets; pods with no controller are refused unless
// Options.Force, since nothing would recreate them.
//
// Without Options.Wait, Drain evicts what it can and returns a *Error
// listing the pods it could not evict and why (matching
// disruption.ErrBlocked when a budget blocked one). With Wait it retries the
// blocked evictions every RetryInterval until they succeed or ctx ends.
package drain

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/disruption"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/store"
)

// ErrUnmanaged matches a refusal to evict a pod no controller would replace.
var ErrUnmanaged = errors.New("pod is not managed by a controller")

// Cordon marks the node unschedulable.
func Cordon(ctx context.Context, s store.Store, node string) error {
	return setUnschedulable(ctx, s, node, true)
}

// Uncordon marks the node schedulable again.
func Uncordon(ctx context.Context, s store.Store, node string) error {
	return setUnschedulable(ctx, s, node, false)
}

func setUnschedulable(ctx context.Context, s store.Store, node string, v bool) error {
	_, err := store.For[*api.Node](s).Mutate(ctx, "", node, func(n *api.Node) error {
		if n.Spec == nil {
			n.Spec = &api.NodeSpec{}
		}
		n.Spec.Unschedulable = v
		return nil
	})
	if err != nil {
		return fmt.Errorf("drain: set node %s unschedulable=%v: %w", node, v, err)
	}
	return nil
}

// Options tune Drain. The zero value drains without waiting.
type Options struct {
	// Force evicts pods that no controller manages.
	Force bool
	// IncludeDaemonSets evicts DaemonSet pods too.
	IncludeDaemonSets bool
	// Wait retries blocked evictions until they succeed or ctx ends.
	Wait bool
	// RetryInterval is the pause between retries with Wait (default 5s).
	RetryInterval time.Duration
	// Clock times the retries (default the wall clock).
	Clock clock.Clock
}

// Error lists the pods a drain left on the node, each with its reason.
type Error struct {
	// Node is the node being drained.
	Node string
	// Pods maps "namespace/name" to why it was not evicted.
	Pods map[string]error
}

// Error names the node and every pod left, with why.
func (e *Error) Error() string {
	keys := make([]string, 0, len(e.Pods))
	for k := range e.Pods {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = e.Pods[k].Error()
	}
	return fmt.Sprintf("drain node %s: %d pod(s) not evicted: %s", e.Node, len(keys), strings.Join(parts, "; "))
}

// Unwrap returns the reasons, so errors.Is(err, disruption.ErrBlocked)
// holds when a budget blocked a pod.
func (e *Error) Unwrap() []error {
	out := make([]error, 0, len(e.Pods))
	for _, err := range e.Pods {
		out = append(out, err)
	}
	return out
}

// Drain cordons node and evicts its pods (see the package comment). It
// returns the names of the pods it evicted, and a *Error if any remain.
func Drain(ctx context.Context, s store.Store, node string, opts Options) ([]string, error) {
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = 5 * time.Second
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if err := Cordon(ctx, s, node); err != nil {
		return nil, err
	}
	var evicted []string
	for {
		pods, _, err := store.For[*api.Pod](s).List(ctx, store.ListOptions{FieldSelector: "spec.nodeName=" + node})
		if err != nil {
			return evicted, fmt.Errorf("drain: list pods of %s: %w", node, err)
		}
		left := &Error{Node: node, Pods: map[string]error{}}
		onlyBlocked := true
		for _, p := range pods {
			m := p.GetMetadata()
			key := m.GetNamespace() + "/" + m.GetName()
			if podutil.IsTerminating(p) || podutil.IsFinished(p) && !opts.Force {
				continue
			}
			ref := api.ControllerOf(p)
			if ref != nil && ref.GetKind() == api.KindDaemonSet && !opts.IncludeDaemonSets {
				continue
			}
			if ref == nil && !opts.Force {
				left.Pods[key] = fmt.Errorf("pod %s: %w (use Force to evict it anyway)", key, ErrUnmanaged)
				onlyBlocked = false
				continue
			}
			if err := disruption.Evict(ctx, s, m.GetNamespace(), m.GetName()); err != nil {
				if !errors.Is(err, disruption.ErrBlocked) {
					onlyBlocked = false
				}
				left.Pods[key] = err
				continue
			}
			evicted = append(evicted, key)
		}
		if len(left.Pods) == 0 {
			return evicted, nil
		}
		// Only a budget can change its mind: wait for nothing else.
		if !opts.Wait || !onlyBlocked {
			return evicted, left
		}
		select {
		case <-ctx.Done():
			return evicted, fmt.Errorf("%w: %w", left, ctx.Err())
		case <-opts.Clock.After(opts.RetryInterval):
		}
	}
}
