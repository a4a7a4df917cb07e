package testenv

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/clock"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/scheduler"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// NodeLeaseNamespace holds the nodes' heartbeat Leases (one per node, named
// after it), as the node agent writes them.
const NodeLeaseNamespace = "coxswain-node-lease"

// fakeNodes simulates the node agents of every fake node: it writes the
// Nodes and their heartbeat Leases, moves pods bound to a live fake node to
// Running and Ready, and on deletion removes the node agent's finalizer, all
// through ordinary store writes. It runs no containers.
type fakeNodes struct {
	s             store.Store
	clock         clock.Clock
	leaseDuration time.Duration
	interval      time.Duration
	pods          informer.Lister[*api.Pod]
	nodes         informer.Lister[*api.Node]

	mu    sync.Mutex
	state map[string]*fakeNode // by node name
}

type fakeNode struct {
	index   int
	stopped bool
	nextIP  int
}

func nodeName(i int) string { return fmt.Sprintf("node-%d", i) }

// objects returns the Node and its Lease for fake node i.
func (f *fakeNodes) objects(i int, capacity map[string]string, now time.Time) (*api.Node, *api.Lease) {
	name := nodeName(i)
	ts := timestamppb.New(now)
	node := &api.Node{
		Metadata: &api.ObjectMeta{Name: name, Labels: map[string]string{
			"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
		}},
		Spec: &api.NodeSpec{PodCidr: fmt.Sprintf("10.%d.%d.0/24", 64+i/256, i%256)},
		Status: &api.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			Phase:       "Running",
			Conditions: []*api.Condition{{
				Type: podutil.ConditionReady, Status: podutil.StatusTrue, Reason: "FakeNodeReady",
				LastTransitionTime: ts, LastProbeTime: ts,
			}},
			Addresses: []*api.NodeAddress{
				{Type: "InternalIP", Address: fmt.Sprintf("172.16.%d.%d", i/250, i%250+1)},
				{Type: "Hostname", Address: name},
			},
			NodeInfo: &api.NodeSystemInfo{AgentVersion: "testenv-fake", OperatingSystem: "linux", Architecture: "amd64"},
		},
	}
	lease := &api.Lease{
		Metadata: &api.ObjectMeta{Namespace: NodeLeaseNamespace, Name: name},
		Spec: &api.LeaseSpec{
			HolderIdentity:       name,
			LeaseDurationSeconds: int32(max(f.leaseDuration/time.Second, 1)),
			RenewTime:            ts,
		},
	}
	return node, lease
}

// live reports whether name is a fake node that is running.
func (f *fakeNodes) live(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.state[name]
	return n != nil && !n.stopped
}

// podIP hands out the next pod address of node n.
func (f *fakeNodes) podIP(name string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.state[name]
	n.nextIP++
	return fmt.Sprintf("10.%d.%d.%d", 64+n.index/256, n.index%256, (n.nextIP-1)%253+2)
}

// Reconcile syncs one pod as its node's agent would.
func (f *fakeNodes) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	p, ok := f.pods.Get(req.Namespace, req.Name)
	if !ok || !f.live(p.GetSpec().GetNodeName()) {
		return reconcile.Result{}, nil
	}
	pods := store.For[*api.Pod](f.s)
	if podutil.IsTerminating(p) {
		if !slices.Contains(p.GetMetadata().GetFinalizers(), scheduler.FinalizerNodeAgent) {
			return reconcile.Result{}, nil
		}
		_, err := pods.Mutate(ctx, req.Namespace, req.Name, func(p *api.Pod) error {
			m := api.Meta(p)
			m.Finalizers = slices.DeleteFunc(m.Finalizers, func(s string) bool { return s == scheduler.FinalizerNodeAgent })
			return nil
		})
		if store.IsNotFound(err) {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, err
	}
	if ph := p.GetStatus().GetPhase(); ph != "" && ph != podutil.PhasePending {
		return reconcile.Result{}, nil
	}
	out := api.Clone(p)
	out.Status = runningStatus(p, f.hostIP(p.GetSpec().GetNodeName()), f.podIP(p.GetSpec().GetNodeName()), f.clock.Now())
	_, err := f.s.UpdateStatus(ctx, out)
	if store.IsNotFound(err) || store.IsConflict(err) {
		return reconcile.Result{}, nil // the newer version is queued already
	}
	return reconcile.Result{}, err
}

func (f *fakeNodes) hostIP(name string) string {
	n, ok := f.nodes.Get("", name)
	if !ok {
		return ""
	}
	for _, a := range n.GetStatus().GetAddresses() {
		if a.GetType() == "InternalIP" {
			return a.GetAddress()
		}
	}
	return ""
}

// runningStatus is the status of a pod whose containers all started and
// are ready.
func runningStatus(p *api.Pod, hostIP, podIP string, now time.Time) *api.PodStatus {
	ts := timestamppb.New(now)
	st := &api.PodStatus{
		Phase:     podutil.PhaseRunning,
		HostIp:    hostIP,
		PodIp:     podIP,
		PodIps:    []*api.PodIP{{Ip: podIP}},
		StartTime: ts,
		QosClass:  "BestEffort",
	}
	for _, typ := range []string{"PodScheduled", "Initialized", "ContainersReady", podutil.ConditionReady} {
		st.Conditions = append(st.Conditions, &api.Condition{Type: typ, Status: podutil.StatusTrue, LastTransitionTime: ts})
	}
	started := true
	for _, c := range p.GetSpec().GetContainers() {
		st.ContainerStatuses = append(st.ContainerStatuses, &api.ContainerStatus{
			Name: c.GetName(), Image: c.GetImage(), Ready: true, Started: &started,
			State: &api.ContainerState{Running: &api.ContainerStateRunning{StartedAt: ts}},
		})
	}
	return st
}

// heartbeat renews the Lease of every live fake node every interval, and
// puts a node's Ready condition back to True if something else changed it.
func (f *fakeNodes) heartbeat(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-f.clock.After(f.heartbeatInterval()):
		}
		f.renewAll(ctx)
	}
}

func (f *fakeNodes) heartbeatInterval() time.Duration { return f.interval }

// renewAll renews the leases of every live node once.
func (f *fakeNodes) renewAll(ctx context.Context) {
	f.mu.Lock()
	var names []string
	for name, n := range f.state {
		if !n.stopped {
			names = append(names, name)
		}
	}
	f.mu.Unlock()
	slices.Sort(names)
	for _, name := range names {
		// A failed renewal is retried by the next heartbeat, as an
		// agent's would be.
		_ = f.renew(ctx, name)
	}
}

// renew writes one heartbeat of node name.
func (f *fakeNodes) renew(ctx context.Context, name string) error {
	now := timestamppb.New(f.clock.Now())
	_, err := store.For[*api.Lease](f.s).Mutate(ctx, NodeLeaseNamespace, name, func(l *api.Lease) error {
		if l.Spec == nil {
			l.Spec = &api.LeaseSpec{}
		}
		l.Spec.RenewTime = now
		return nil
	})
	if err != nil {
		return err
	}
	if n, ok := f.nodes.Get("", name); ok {
		c := podutil.Condition(n.GetStatus().GetConditions(), podutil.ConditionReady)
		if c == nil || c.GetStatus() != podutil.StatusTrue {
			return f.setReady(ctx, name, now)
		}
	}
	return nil
}

// setReady writes the node's Ready condition as True.
func (f *fakeNodes) setReady(ctx context.Context, name string, now *timestamppb.Timestamp) error {
	_, err := store.For[*api.Node](f.s).MutateStatus(ctx, "", name, func(n *api.Node) error {
		if n.Status == nil {
			n.Status = &api.NodeStatus{}
		}
		c := podutil.Condition(n.Status.Conditions, podutil.ConditionReady)
		if c == nil {
			c = &api.Condition{Type: podutil.ConditionReady}
			n.Status.Conditions = append(n.Status.Conditions, c)
		}
		if c.Status != podutil.StatusTrue {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message, c.LastProbeTime = podutil.StatusTrue, "FakeNodeReady", "", now
		return nil
	})
	return err
}

// setStopped stops or restarts a fake node's simulated agent.
func (f *fakeNodes) setStopped(name string, stopped bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.state[name]
	if n == nil {
		return fmt.Errorf("testenv: %q is not a fake node: %w", name, store.ErrNotFound)
	}
	n.stopped = stopped
	return nil
}
