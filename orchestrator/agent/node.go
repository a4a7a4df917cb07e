package agent

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/resource"
	"github.com/coxswain-io/coxswain/store"
)

// NodeLeaseNamespace is the namespace of the nodes' heartbeat Leases; each
// Lease is named after its node.
const NodeLeaseNamespace = "coxswain-node-lease"

// Well-known node labels the agent sets.
const (
	LabelHostname = "kubernetes.io/hostname"
	LabelOS       = "kubernetes.io/os"
	LabelArch     = "kubernetes.io/arch"
)

// NodeReady is the Node condition the agent reports.
const NodeReady = "Ready"

// machineCapacity measures cpu, memory and pods of this machine, then
// applies the configured overrides and extended resources.
func (a *Agent) machineCapacity() (map[string]string, error) {
	capacity := map[string]string{
		resource.CPU:  strconv.Itoa(goruntime.NumCPU()),
		resource.Pods: strconv.Itoa(a.cfg.MaxPods),
	}
	if mem, err := memTotal(); err == nil {
		capacity[resource.Memory] = strconv.FormatInt(mem, 10)
	} else {
		a.log.Warn("cannot read memory capacity", "err", err)
	}
	for k, v := range a.cfg.Capacity {
		capacity[k] = v
	}
	if _, err := resource.ParseList(capacity); err != nil {
		return nil, fmt.Errorf("capacity: %w: %w", err, ErrInvalidConfig)
	}
	return capacity, nil
}

// allocatable is capacity minus Reserved, floored at zero.
func (a *Agent) allocatable(capacity map[string]string) (map[string]string, error) {
	c, err := resource.ParseList(capacity)
	if err != nil {
		return nil, err
	}
	r, err := resource.ParseList(a.cfg.Reserved)
	if err != nil {
		return nil, fmt.Errorf("reserved: %w: %w", err, ErrInvalidConfig)
	}
	out := map[string]string{}
	for name, q := range c {
		if rq, ok := r[name]; ok {
			q = q.Sub(rq)
			if q.Sign() < 0 {
				q = resource.NewQuantity(0)
			}
		}
		out[name] = q.String()
	}
	return out, nil
}

// memTotal reads MemTotal from /proc/meminfo, in bytes.
func memTotal() (int64, error) {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "MemTotal:" {
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("meminfo: %w", err)
			}
			return kb * 1024, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("meminfo: no MemTotal")
}

// detectNodeIP returns the first global unicast IPv4 address of the host,
// or 127.0.0.1.
func detectNodeIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && ipn.IP.IsGlobalUnicast() {
				return ipn.IP.String()
			}
		}
	}
	return "127.0.0.1"
}

// desiredNode is the Node as this agent registers it.
func (a *Agent) desiredNode() (*api.Node, error) {
	capacity, err := a.machineCapacity()
	if err != nil {
		return nil, err
	}
	alloc, err := a.allocatable(capacity)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{
		LabelHostname: a.cfg.NodeName,
		LabelOS:       goruntime.GOOS,
		LabelArch:     goruntime.GOARCH,
	}
	for k, v := range a.cfg.Labels {
		labels[k] = v
	}
	n := &api.Node{
		Metadata: &api.ObjectMeta{Name: a.cfg.NodeName, Labels: labels},
		Spec:     &api.NodeSpec{},
		Status: &api.NodeStatus{
			Capacity:    capacity,
			Allocatable: alloc,
			Addresses: []*api.NodeAddress{
				{Type: "InternalIP", Address: a.nodeIP},
				{Type: "Hostname", Address: a.cfg.NodeName},
			},
			NodeInfo: &api.NodeSystemInfo{
				OperatingSystem: goruntime.GOOS,
				Architecture:    goruntime.GOARCH,
				AgentVersion:    "coxswain-agent",
			},
		},
	}
	for _, t := range a.cfg.Taints {
		n.Spec.Taints = append(n.Spec.Taints, &api.Taint{Key: t.Key, Value: t.Value, Effect: t.Effect})
	}
	return n, nil
}

// register creates the Node, or merges this agent's labels and taints into
// an existing one, then writes its status with a Ready condition.
func (a *Agent) register(ctx context.Context) error {
	want, err := a.desiredNode()
	if err != nil {
		return err
	}
	nodes := store.For[*api.Node](a.cfg.Store)
	if _, err := nodes.Create(ctx, want); err != nil {
		if !store.IsAlreadyExists(err) {
			return fmt.Errorf("register node %s: %w", a.cfg.NodeName, err)
		}
		if _, err := nodes.Mutate(ctx, "", a.cfg.NodeName, func(n *api.Node) error {
			m := api.Meta(n)
			if m.Labels == nil {
				m.Labels = map[string]string{}
			}
			for k, v := range want.Metadata.Labels {
				m.Labels[k] = v
			}
			if n.Spec == nil {
				n.Spec = &api.NodeSpec{}
			}
			for _, t := range want.Spec.Taints {
				if !hasTaint(n.Spec.Taints, t) {
					n.Spec.Taints = append(n.Spec.Taints, t)
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("register node %s: %w", a.cfg.NodeName, err)
		}
	}
	a.nodeStatusBase = want.Status
	if _, err := a.cfg.Store.Create(ctx, &api.Namespace{Metadata: &api.ObjectMeta{Name: NodeLeaseNamespace}}); err != nil && !store.IsAlreadyExists(err) {
		return fmt.Errorf("lease namespace: %w", err)
	}
	return a.updateNodeStatus(ctx)
}

func hasTaint(ts []*api.Taint, t *api.Taint) bool {
	for _, x := range ts {
		if x.GetKey() == t.GetKey() && x.GetEffect() == t.GetEffect() {
			return true
		}
	}
	return false
}

// updateNodeStatus writes capacity, addresses and the Ready condition (its
// heartbeat time refreshed).
func (a *Agent) updateNodeStatus(ctx context.Context) error {
	now := timestamppb.New(a.now())
	ready := &api.Condition{
		Type: NodeReady, Status: "True", Reason: "AgentReady",
		Message:            "node agent is posting ready status",
		LastTransitionTime: now, LastProbeTime: now, LastUpdateTime: now,
	}
	if _, err := a.cfg.Runtime.ListPodSandboxes(ctx, a.sandboxFilter("")); err != nil {
		ready.Status, ready.Reason = "False", "RuntimeUnavailable"
		ready.Message = "container runtime: " + err.Error()
	}
	_, err := store.For[*api.Node](a.cfg.Store).MutateStatus(ctx, "", a.cfg.NodeName, func(n *api.Node) error {
		old := n.GetStatus()
		st := proto.Clone(a.nodeStatusBase).(*api.NodeStatus)
		st.Images = old.GetImages()
		ready := proto.Clone(ready).(*api.Condition)
		for _, c := range old.GetConditions() {
			if c.GetType() == NodeReady && c.GetStatus() == ready.Status {
				ready.LastTransitionTime = c.GetLastTransitionTime()
			}
		}
		st.Conditions = []*api.Condition{ready}
		for _, c := range old.GetConditions() {
			if c.GetType() != NodeReady {
				st.Conditions = append(st.Conditions, c)
			}
		}
		n.Status = st
		return nil
	})
	if err != nil {
		return fmt.Errorf("node %s status: %w", a.cfg.NodeName, err)
	}
	return nil
}

// renewLease creates or renews the node's heartbeat Lease.
func (a *Agent) renewLease(ctx context.Context) error {
	leases := store.For[*api.Lease](a.cfg.Store)
	now := timestamppb.New(a.now())
	dur := int32(a.cfg.LeaseDuration / time.Second)
	_, err := leases.Mutate(ctx, NodeLeaseNamespace, a.cfg.NodeName, func(l *api.Lease) error {
		if l.Spec == nil {
			l.Spec = &api.LeaseSpec{}
		}
		if l.Spec.HolderIdentity != a.cfg.NodeName {
			l.Spec.HolderIdentity = a.cfg.NodeName
			l.Spec.AcquireTime = now
			l.Spec.LeaseTransitions++
		}
		l.Spec.LeaseDurationSeconds = dur
		l.Spec.RenewTime = now
		return nil
	})
	if store.IsNotFound(err) {
		_, err = leases.Create(ctx, &api.Lease{
			Metadata: &api.ObjectMeta{Name: a.cfg.NodeName, Namespace: NodeLeaseNamespace},
			Spec: &api.LeaseSpec{
				HolderIdentity: a.cfg.NodeName, LeaseDurationSeconds: dur,
				AcquireTime: now, RenewTime: now,
			},
		})
	}
	if err != nil {
		return fmt.Errorf("node %s lease: %w", a.cfg.NodeName, err)
	}
	return nil
}

// heartbeat renews the Lease every HeartbeatInterval and the Node status
// every NodeStatusInterval until ctx ends.
func (a *Agent) heartbeat(ctx context.Context) {
	lease := time.NewTicker(a.cfg.HeartbeatInterval)
	defer lease.Stop()
	status := time.NewTicker(a.cfg.NodeStatusInterval)
	defer status.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-lease.C:
			if err := a.renewLease(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("heartbeat failed", "err", err)
			}
		case <-status.C:
			if err := a.updateNodeStatus(ctx); err != nil && ctx.Err() == nil {
				a.log.Warn("node status update failed", "err", err)
			}
		}
	}
}
