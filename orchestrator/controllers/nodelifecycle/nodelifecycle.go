package nodelifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/events"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// LeaseNamespace holds the nodes' heartbeat Leases.
const LeaseNamespace = "coxswain-node-lease"

// TaintUnreachable marks a node whose heartbeat stopped.
const TaintUnreachable = "node.kubernetes.io/unreachable"

// FinalizerNodeAgent is the finalizer the scheduler adds at binding and the
// node agent removes once a deleted pod's containers are stopped.
const FinalizerNodeAgent = "coxswain.io/node-agent"

// IndexNodeName indexes pods by spec.nodeName in the shared pod informer.
const IndexNodeName = "nodelifecycle-node-name"

// Options tune the controller.
type Options struct {
	// MonitorPeriod is how often nodes are checked (default 5s).
	MonitorPeriod time.Duration
	// GracePeriod is how old a heartbeat may get before the node is marked
	// NotReady (default 40s).
	GracePeriod time.Duration
	// PodEvictionTimeout is how long a node stays NotReady before its pods
	// are deleted (default 5m).
	PodEvictionTimeout time.Duration
	// Clock (default the wall clock).
	Clock clock.Clock
	// Logger (default the manager's).
	Logger *slog.Logger
}

// Controller is the node lifecycle controller, a leader-only runnable.
type Controller struct {
	store    store.Store
	opts     Options
	log      *slog.Logger
	nodes    informer.Lister[*api.Node]
	leases   informer.Lister[*api.Lease]
	pods     informer.Lister[*api.Pod]
	recorder *events.Recorder
}

// Add creates the controller and adds it to mgr.
func Add(mgr *manager.Manager, opts Options) (*Controller, error) {
	c, err := New(mgr, opts)
	if err != nil {
		return nil, err
	}
	return c, mgr.Add(c)
}

// New creates the controller over mgr's shared informers without adding it
// to mgr; run it with Start.
func New(mgr *manager.Manager, opts Options) (*Controller, error) {
	if opts.MonitorPeriod <= 0 {
		opts.MonitorPeriod = 5 * time.Second
	}
	if opts.GracePeriod <= 0 {
		opts.GracePeriod = 40 * time.Second
	}
	if opts.PodEvictionTimeout <= 0 {
		opts.PodEvictionTimeout = 5 * time.Minute
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = mgr.Logger()
	}
	c := &Controller{store: mgr.Store(), opts: opts, log: opts.Logger.With("controller", "nodelifecycle"), recorder: mgr.Recorder("node-controller")}
	var err error
	if c.nodes, err = manager.ListerFor[*api.Node](mgr); err != nil {
		return nil, err
	}
	if c.leases, err = manager.ListerFor[*api.Lease](mgr); err != nil {
		return nil, err
	}
	if c.pods, err = manager.ListerFor[*api.Pod](mgr); err != nil {
		return nil, err
	}
	if err := c.pods.Informer().AddIndex(IndexNodeName, func(obj api.Object) []string {
		if n := obj.(*api.Pod).GetSpec().GetNodeName(); n != "" {
			return []string{n}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("nodelifecycle: %w", err)
	}
	return c, nil
}

// Start checks the nodes every MonitorPeriod until ctx ends.
func (c *Controller) Start(ctx context.Context) error {
	for _, inf := range []*informer.Informer{c.nodes.Informer(), c.leases.Informer(), c.pods.Informer()} {
		if err := inf.WaitForSync(ctx); err != nil {
			return nil
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.opts.Clock.After(c.opts.MonitorPeriod):
		}
		if err := c.Check(ctx); err != nil && ctx.Err() == nil {
			c.log.Warn("node check failed", "err", err)
		}
	}
}

// Check examines every node once.
func (c *Controller) Check(ctx context.Context) error {
	now := c.opts.Clock.Now()
	var errs error
	for _, n := range c.nodes.List() {
		errs = errors.Join(errs, c.checkNode(ctx, n, now))
	}
	errs = errors.Join(errs, c.collectOrphans(ctx))
	return errs
}

func (c *Controller) checkNode(ctx context.Context, n *api.Node, now time.Time) error {
	name := n.GetMetadata().GetName()
	last := n.GetMetadata().GetCreationTimestamp().AsTime()
	if l, ok := c.leases.Get(LeaseNamespace, name); ok && l.GetSpec().GetRenewTime() != nil {
		last = l.GetSpec().GetRenewTime().AsTime()
	}
	ready := podutil.Condition(n.GetStatus().GetConditions(), podutil.ConditionReady)
	if now.Sub(last) <= c.opts.GracePeriod {
		if hasTaint(n) {
			return c.setTaints(ctx, name, false, now)
		}
		return nil
	}
	// The heartbeat is late.
	if ready == nil || ready.GetStatus() != podutil.StatusUnknown || !hasTaint(n) {
		c.log.Info("node stopped heartbeating; marking it NotReady", "node", name, "lastHeartbeat", last)
		if err := c.markUnknown(ctx, name, now); err != nil {
			return err
		}
		_, _ = c.recorder.Eventf(ctx, n, "Normal", "NodeNotReady", "Node %s status is now: NodeNotReady", name)
		return c.setTaints(ctx, name, true, now)
	}
	since := ready.GetLastTransitionTime().AsTime()
	if now.Sub(since) < c.opts.PodEvictionTimeout {
		return nil
	}
	return c.evict(ctx, n)
}

func hasTaint(n *api.Node) bool {
	return slices.ContainsFunc(n.GetSpec().GetTaints(), func(t *api.Taint) bool { return t.GetKey() == TaintUnreachable })
}

// markUnknown sets the node's Ready condition to Unknown.
func (c *Controller) markUnknown(ctx context.Context, name string, now time.Time) error {
	ts := timestamppb.New(now)
	_, err := store.For[*api.Node](c.store).MutateStatus(ctx, "", name, func(n *api.Node) error {
		if n.Status == nil {
			n.Status = &api.NodeStatus{}
		}
		cond := podutil.Condition(n.Status.Conditions, podutil.ConditionReady)
		if cond == nil {
			cond = &api.Condition{Type: podutil.ConditionReady}
			n.Status.Conditions = append(n.Status.Conditions, cond)
		}
		if cond.Status != podutil.StatusUnknown {
			cond.LastTransitionTime = ts
		}
		cond.Status, cond.Reason, cond.Message = podutil.StatusUnknown, "NodeStatusUnknown", "Node stopped posting its heartbeat."
		return nil
	})
	if store.IsNotFound(err) {
		return nil
	}
	return err
}

// setTaints adds or removes the unreachable taints.
func (c *Controller) setTaints(ctx context.Context, name string, add bool, now time.Time) error {
	_, err := store.For[*api.Node](c.store).Mutate(ctx, "", name, func(n *api.Node) error {
		if n.Spec == nil {
			n.Spec = &api.NodeSpec{}
		}
		n.Spec.Taints = slices.DeleteFunc(n.Spec.Taints, func(t *api.Taint) bool { return t.GetKey() == TaintUnreachable })
		if add {
			for _, effect := range []string{"NoSchedule", "NoExecute"} {
				n.Spec.Taints = append(n.Spec.Taints, &api.Taint{Key: TaintUnreachable, Effect: effect, TimeAdded: timestamppb.New(now)})
			}
		}
		return nil
	})
	if store.IsNotFound(err) {
		return nil
	}
	return err
}

// evict deletes every pod bound to node n that is not being deleted yet.
func (c *Controller) evict(ctx context.Context, n *api.Node) error {
	pods, err := c.pods.ByIndex(IndexNodeName, n.GetMetadata().GetName())
	if err != nil {
		return err
	}
	var errs error
	evicted := 0
	for _, p := range pods {
		if podutil.IsTerminating(p) {
			continue
		}
		m := p.GetMetadata()
		_, err := c.store.Delete(ctx, api.KindPod, m.GetNamespace(), m.GetName(), store.DeleteOptions{UID: m.GetUid()})
		if err != nil && !store.IsNotFound(err) && !store.IsConflict(err) {
			errs = errors.Join(errs, err)
			continue
		}
		evicted++
	}
	if evicted > 0 {
		c.log.Info("evicted pods of unreachable node", "node", n.GetMetadata().GetName(), "pods", evicted)
		_, _ = c.recorder.Eventf(ctx, n, "Normal", "EvictingPods", "Deleted %d pods of unreachable node %s", evicted, n.GetMetadata().GetName())
	}
	return errs
}

// collectOrphans deletes pods bound to nodes that no longer exist and
// releases them from the node agent's finalizer.
func (c *Controller) collectOrphans(ctx context.Context) error {
	names, err := c.pods.Informer().IndexValues(IndexNodeName)
	if err != nil {
		return err
	}
	var errs error
	for _, node := range names {
		if _, ok := c.nodes.Get("", node); ok {
			continue
		}
		// Confirm with the store: the cache may not show a new node yet.
		if _, err := c.store.Get(ctx, api.KindNode, "", node); !store.IsNotFound(err) {
			continue
		}
		pods, _ := c.pods.ByIndex(IndexNodeName, node)
		for _, p := range pods {
			errs = errors.Join(errs, c.releaseOrphan(ctx, p))
		}
	}
	return errs
}

func (c *Controller) releaseOrphan(ctx context.Context, p *api.Pod) error {
	m := p.GetMetadata()
	if m.GetDeletionTimestamp() == nil {
		if _, err := c.store.Delete(ctx, api.KindPod, m.GetNamespace(), m.GetName(), store.DeleteOptions{UID: m.GetUid()}); err != nil && !store.IsNotFound(err) {
			return err
		}
	}
	_, err := store.For[*api.Pod](c.store).Mutate(ctx, m.GetNamespace(), m.GetName(), func(p *api.Pod) error {
		p.Metadata.Finalizers = slices.DeleteFunc(p.Metadata.Finalizers, func(f string) bool { return f == FinalizerNodeAgent })
		return nil
	})
	if store.IsNotFound(err) {
		return nil
	}
	return err
}
