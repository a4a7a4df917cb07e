package testenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/deployment"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/endpoints"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/gc"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/namespace"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/nodelifecycle"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podcidr"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/replicaset"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/serviceip"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/wiring"
	"github.com/coxswain-io/coxswain/orchestrator/handler"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/metrics"
	"github.com/coxswain-io/coxswain/scheduler"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// Options configure an Env. The zero value is a control plane with no
// nodes.
type Options struct {
	// Nodes is the number of fake nodes, named node-0 ... node-(N-1).
	Nodes int
	// NodeCapacity is each fake node's capacity and allocatable (default
	// cpu 8, memory 32Gi, pods 110).
	NodeCapacity map[string]string
	// Agent, if set, runs the node agent of each fake node instead of the
	// built-in simulation (for example the real agent on the fake runtime).
	// The Node and its Lease are still created up front; the agent's
	// Start(ctx) runs until the Env stops.
	Agent func(nodeName string) (manager.Runnable, error)
	// NoScheduler leaves pods unbound (a test that binds pods itself).
	NoScheduler bool
	// Controllers, if non-nil, names the built-in controllers to run (see
	// the Controller* constants); nil runs them all.
	Controllers []string
	// Workers is the number of concurrent reconciles of each controller
	// (default 4).
	Workers int
	// Clock drives heartbeats, node lifecycle and availability (default the
	// wall clock). With a clock.Fake the test steps time itself.
	Clock clock.Clock
	// HeartbeatInterval is how often fake nodes renew their Lease (default
	// 10s); LeaseDuration the duration they write in it (default 40s).
	HeartbeatInterval, LeaseDuration time.Duration
	// NodeMonitorGracePeriod is how old a node's Lease may get before the
	// node lifecycle controller marks it NotReady (default 40s);
	// PodEvictionTimeout how long after that its pods are deleted (default
	// 5m); NodeMonitorPeriod how often nodes are checked (default 5s).
	NodeMonitorGracePeriod, PodEvictionTimeout, NodeMonitorPeriod time.Duration
	// ServiceCIDR is where Services' cluster IPs come from (default
	// 10.96.0.0/12); ClusterCIDR where the podcidr controller takes node
	// subnets from (default 10.244.0.0/16).
	ServiceCIDR, ClusterCIDR string
	// Store, if set, is used instead of a new memstore.
	Store store.Store
	// Logger receives every component's logs (default: discarded).
	Logger *slog.Logger
	// Metrics receives the controllers' metrics (default: the manager's
	// default, metrics.Discard); pass a Provider to read them in a test,
	// e.g. a vmmetrics.Provider and its WritePrometheus output.
	Metrics metrics.Provider
}

// Names of the built-in controllers, for Options.Controllers.
const (
	ControllerReplicaSet    = "replicaset"
	ControllerGC            = "gc"
	ControllerDeployment    = "deployment"
	ControllerEndpoints     = "endpoints"
	ControllerNamespace     = "namespace"
	ControllerNodeLifecycle = "nodelifecycle"
	ControllerServiceIP     = "serviceip"
	// ControllerPodCIDR is not in AllControllers: the fake nodes come with
	// a podCIDR each. Name it for Nodes you create without one.
	ControllerPodCIDR = "podcidr"
)

// AllControllers lists every built-in controller testenv can run.
var AllControllers = []string{
	ControllerReplicaSet,
	ControllerGC,
	ControllerDeployment,
	ControllerEndpoints,
	ControllerNamespace,
	ControllerNodeLifecycle,
	ControllerServiceIP,
}

func (o *Options) defaults() {
	if o.NodeCapacity == nil {
		o.NodeCapacity = map[string]string{"cpu": "8", "memory": "32Gi", "pods": "110"}
	}
	if o.Controllers == nil {
		o.Controllers = AllControllers
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = 10 * time.Second
	}
	if o.LeaseDuration <= 0 {
		o.LeaseDuration = 40 * time.Second
	}
	if o.NodeMonitorGracePeriod <= 0 {
		o.NodeMonitorGracePeriod = 40 * time.Second
	}
	if o.PodEvictionTimeout <= 0 {
		o.PodEvictionTimeout = 5 * time.Minute
	}
	if o.NodeMonitorPeriod <= 0 {
		o.NodeMonitorPeriod = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// Env is a running control plane in memory: a store, a manager with the
// built-in controllers, the default scheduler and fake nodes.
type Env struct {
	// Store is the control plane's store: create objects here.
	Store store.Store
	// Manager runs the controllers; add your own controller to it with
	// builder.ControllerManagedBy(env.Manager) (it starts at once).
	Manager *manager.Manager
	// Scheduler is the default scheduler, nil with Options.NoScheduler.
	Scheduler *scheduler.Scheduler

	opts   Options
	nodes  *fakeNodes
	group  *group
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// New starts a control plane and returns once every component is running
// and its caches are loaded. It runs until ctx ends or Stop is called.
func New(ctx context.Context, opts Options) (*Env, error) {
	opts.defaults()
	s := opts.Store
	if s == nil {
		s = memstore.New()
	}
	s = kindFilter{Store: s}
	mgr, err := manager.New(manager.Options{Store: s, Logger: opts.Logger, Metrics: opts.Metrics})
	if err != nil {
		return nil, fmt.Errorf("testenv: %w", err)
	}
	e := &Env{Store: s, Manager: mgr, opts: opts, done: make(chan struct{}), group: newGroup()}
	if err := e.bootstrap(ctx); err != nil {
		return nil, err
	}
	if err := e.addControllers(); err != nil {
		return nil, err
	}
	if !opts.NoScheduler {
		// The scheduler keeps the wall clock: its queue backoff would stall on
		// a fake clock nobody steps.
		sch, err := scheduler.New(s, scheduler.Config{Logger: opts.Logger})
		if err != nil {
			return nil, fmt.Errorf("testenv: scheduler: %w", err)
		}
		e.Scheduler = sch
		e.group.add(sch)
	}
	if err := e.addNodes(); err != nil {
		return nil, err
	}
	if err := mgr.Add(manager.Everywhere(e.group)); err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	e.cancel = cancel
	go func() {
		defer close(e.done)
		e.err = mgr.Start(runCtx)
	}()
	if err := e.waitForCaches(runCtx); err != nil {
		e.Stop()
		return nil, err
	}
	return e, nil
}

// bootstrap writes the namespaces, and each fake node's Node and Lease, in
// one transaction.
func (e *Env) bootstrap(ctx context.Context) error {
	ops := []store.Op{
		store.CreateOp(&api.Namespace{Metadata: &api.ObjectMeta{Name: "default"}, Status: &api.NamespaceStatus{Phase: "Active"}}),
		store.CreateOp(&api.Namespace{Metadata: &api.ObjectMeta{Name: NodeLeaseNamespace}, Status: &api.NamespaceStatus{Phase: "Active"}}),
	}
	e.nodes = &fakeNodes{
		s: e.Store, clock: e.opts.Clock, leaseDuration: e.opts.LeaseDuration, interval: e.opts.HeartbeatInterval,
		state: make(map[string]*fakeNode, e.opts.Nodes),
	}
	now := e.opts.Clock.Now()
	for i := range e.opts.Nodes {
		node, lease := e.nodes.objects(i, e.opts.NodeCapacity, now)
		ops = append(ops, store.CreateOp(node), store.CreateOp(lease))
		e.nodes.state[node.GetMetadata().GetName()] = &fakeNode{index: i}
	}
	for len(ops) > 0 {
		n := min(len(ops), 1000)
		if _, err := e.Store.Txn(ctx, ops[:n]...); err != nil && !errors.Is(err, store.ErrAlreadyExists) {
			return fmt.Errorf("testenv: bootstrap: %w", err)
		}
		ops = ops[n:]
	}
	return nil
}

// addNodes runs the node agents: the given Agent per node, or the built-in
// simulation of all of them.
func (e *Env) addNodes() error {
	if e.opts.Agent != nil {
		for i := range e.opts.Nodes {
			r, err := e.opts.Agent(nodeName(i))
			if err != nil {
				return fmt.Errorf("testenv: agent for %s: %w", nodeName(i), err)
			}
			e.group.add(r)
		}
		return nil
	}
	pods, err := manager.ListerFor[*api.Pod](e.Manager)
	if err != nil {
		return err
	}
	nodes, err := manager.ListerFor[*api.Node](e.Manager)
	if err != nil {
		return err
	}
	e.nodes.pods, e.nodes.nodes = pods, nodes
	ctrl, err := wiring.New(e.Manager, "fake-nodes", api.KindPod, e.opts.Workers, e.nodes)
	if err != nil {
		return err
	}
	e.group.add(ctrl)
	e.group.add(manager.RunnableFunc(e.nodes.heartbeat))
	return nil
}

func (e *Env) addControllers() error {
	for _, name := range e.opts.Controllers {
		var rs []manager.Runnable
		var err error
		one := func(r manager.Runnable, e error) { rs, err = []manager.Runnable{r}, e }
		switch name {
		case ControllerReplicaSet:
			o := replicaset.Options{Workers: e.opts.Workers, Clock: e.opts.Clock}
			one(replicaset.NewKind(e.Manager, api.KindReplicaSet, o))
			if err == nil {
				var rc manager.Runnable
				rc, err = replicaset.NewKind(e.Manager, api.KindReplicationController, o)
				rs = append(rs, rc)
			}
		case ControllerDeployment:
			one(deployment.New(e.Manager, deployment.Options{Workers: e.opts.Workers, Clock: e.opts.Clock}))
		case ControllerEndpoints:
			one(endpoints.New(e.Manager, endpoints.Options{Workers: e.opts.Workers}))
		case ControllerNamespace:
			one(namespace.New(e.Manager, namespace.Options{Workers: e.opts.Workers}))
		case ControllerNodeLifecycle:
			one(nodelifecycle.New(e.Manager, nodelifecycle.Options{
				MonitorPeriod: e.opts.NodeMonitorPeriod, GracePeriod: e.opts.NodeMonitorGracePeriod,
				PodEvictionTimeout: e.opts.PodEvictionTimeout, Clock: e.opts.Clock, Logger: e.opts.Logger,
			}))
		case ControllerServiceIP:
			one(serviceip.New(e.Manager, serviceip.Options{ServiceCIDR: e.opts.ServiceCIDR}))
		case ControllerPodCIDR:
			one(podcidr.New(e.Manager, podcidr.Options{ClusterCIDR: e.opts.ClusterCIDR}))
		case ControllerGC:
			one(gc.New(e.Manager, gc.Options{Workers: e.opts.Workers}))
		default:
			err = fmt.Errorf("unknown controller %q: %w", name, store.ErrInvalid)
		}
		if err != nil {
			return fmt.Errorf("testenv: controller %s: %w", name, err)
		}
		for _, r := range rs {
			e.group.add(r)
		}
	}
	return nil
}

// waitForCaches blocks until the shared informers of the kinds the
// controllers use have loaded.
func (e *Env) waitForCaches(ctx context.Context) error {
	select {
	case <-e.Manager.Elected():
	case <-ctx.Done():
		return ctx.Err()
	case <-e.done:
		return fmt.Errorf("testenv: manager stopped: %w", e.err)
	}
	for _, kind := range []string{api.KindPod, api.KindNode} {
		inf, err := e.Manager.Informer(kind)
		if err != nil {
			return err
		}
		if err := inf.WaitForSync(ctx); err != nil {
			return err
		}
	}
	return nil
}

// Stop stops every component and waits for them: first the controllers,
// scheduler and nodes, then the shared caches they read. It is safe to
// call more than once.
func (e *Env) Stop() {
	e.group.stop()
	e.cancel()
	<-e.done
}

// Err returns the manager's error once it has stopped, nil before.
func (e *Env) Err() error {
	select {
	case <-e.done:
		return e.err
	default:
		return nil
	}
}

// NodeNames returns the names of the fake nodes.
func (e *Env) NodeNames() []string {
	out := make([]string, e.opts.Nodes)
	for i := range out {
		out[i] = nodeName(i)
	}
	return out
}

// StopNode makes a fake node go silent, as a crashed machine would: it
// stops heartbeating and stops syncing its pods (so their deletion hangs on
// the node agent's finalizer until the node comes back or a controller
// force-removes them). Only the built-in simulation supports it.
func (e *Env) StopNode(name string) error { return e.nodes.setStopped(name, true) }

// StartNode brings a stopped fake node back: it heartbeats at once and
// syncs the pods bound to it.
func (e *Env) StartNode(ctx context.Context, name string) error {
	if err := e.nodes.setStopped(name, false); err != nil {
		return err
	}
	if err := e.nodes.renew(ctx, name); err != nil {
		return err
	}
	for _, p := range e.nodes.pods.List() {
		if p.GetSpec().GetNodeName() == name {
			if _, err := e.nodes.Reconcile(ctx, handler.RequestFor(p)); err != nil {
				return err
			}
		}
	}
	return nil
}

// Heartbeat renews every live fake node's Lease now, without waiting for
// the heartbeat interval (useful with a fake clock).
func (e *Env) Heartbeat(ctx context.Context) { e.nodes.renewAll(ctx) }

// Informer returns the manager's shared informer of kind, for tests that
// read from the same cache as the controllers.
func (e *Env) Informer(kind string) (*informer.Informer, error) { return e.Manager.Informer(kind) }
