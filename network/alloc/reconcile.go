package alloc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// Service types and the headless marker, as in Kubernetes.
const (
	ServiceTypeClusterIP    = "ClusterIP"
	ServiceTypeNodePort     = "NodePort"
	ServiceTypeLoadBalancer = "LoadBalancer"
	ServiceTypeExternalName = "ExternalName"
	ClusterIPNone           = "None"
)

// AssignPodCIDRs gives every Node in s without spec.podCIDR a distinct
// subnet of clusterCIDR of size /maskSize. It rebuilds the allocation from
// the nodes' current podCIDRs on every call (so a deleted node's subnet is
// free again and a restarted controller carries on where it stopped), and is
// level-triggered: call it whenever nodes change. Nodes whose existing
// podCIDR is outside the range or duplicates another's are left alone and
// reported in the joined error; it returns the nodes it assigned.
func AssignPodCIDRs(ctx context.Context, s store.Store, clusterCIDR string, maskSize int) (map[string]netip.Prefix, error) {
	a, err := NewCIDRAllocator(clusterCIDR, maskSize)
	if err != nil {
		return nil, err
	}
	nodes := store.For[*api.Node](s)
	list, _, err := nodes.List(ctx, store.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	var errs []error
	var todo []string
	for _, n := range list {
		c := n.GetSpec().GetPodCidr()
		if c == "" {
			todo = append(todo, n.GetMetadata().GetName())
			continue
		}
		p, err := netip.ParsePrefix(c)
		if err == nil {
			err = a.Occupy(p)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("node %s podCIDR %q: %w", n.GetMetadata().GetName(), c, err))
		}
	}
	assigned := map[string]netip.Prefix{}
	for _, name := range todo {
		p, err := a.Allocate()
		if err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", name, err))
			break
		}
		_, err = nodes.Mutate(ctx, "", name, func(n *api.Node) error {
			if n.Spec == nil {
				n.Spec = &api.NodeSpec{}
			}
			if n.Spec.PodCidr != "" {
				return errAlreadySet
			}
			n.Spec.PodCidr = p.String()
			n.Spec.PodCidrs = []string{p.String()}
			return nil
		})
		switch {
		case err == nil:
			assigned[name] = p
			slog.InfoContext(ctx, "assigned pod CIDR", "node", name, "podCIDR", p)
		case errors.Is(err, errAlreadySet) || store.IsNotFound(err):
			a.Release(p) // someone else did it, or the node went: next pass sees it
		default:
			a.Release(p)
			errs = append(errs, fmt.Errorf("node %s: %w", name, err))
		}
	}
	return assigned, errors.Join(errs...)
}

var errAlreadySet = errors.New("already set")

// ServiceRanges are the ranges AssignServices allocates from.
type ServiceRanges struct {
	// ServiceCIDR is the cluster IP range, e.g. "10.96.0.0/12".
	ServiceCIDR string
	// NodePortRange is "first-last"; empty means DefaultNodePortRange.
	NodePortRange string
}

// AssignServices gives every Service in s that needs one a cluster IP (types
// ClusterIP, NodePort and LoadBalancer, unless clusterIP is "None") and every
// port of a NodePort or LoadBalancer service a node port. Like
// AssignPodCIDRs it rebuilds the allocation from all services on each call,
// so an address or port is free again once its service is deleted, and
// reports conflicting existing values in the joined error. It returns the
// keys ("namespace/name") of the services it changed.
func AssignServices(ctx context.Context, s store.Store, r ServiceRanges) ([]string, error) {
	ips, err := NewIPAllocator(r.ServiceCIDR)
	if err != nil {
		return nil, err
	}
	if r.NodePortRange == "" {
		r.NodePortRange = DefaultNodePortRange
	}
	ports, err := NewPortAllocator(r.NodePortRange)
	if err != nil {
		return nil, err
	}
	svcs := store.For[*api.Service](s)
	list, _, err := svcs.List(ctx, store.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	var errs []error
	var todo []*api.Service
	for _, svc := range list {
		key := svc.GetMetadata().GetNamespace() + "/" + svc.GetMetadata().GetName()
		need := false
		if ip := svc.GetSpec().GetClusterIp(); ip != "" && ip != ClusterIPNone {
			a, err := netip.ParseAddr(ip)
			if err == nil {
				err = ips.Occupy(a)
			}
			if err != nil {
				errs = append(errs, fmt.Errorf("service %s clusterIP %q: %w", key, ip, err))
			}
		} else if needsClusterIP(svc) {
			need = true
		}
		for _, p := range svc.GetSpec().GetPorts() {
			if p.GetNodePort() != 0 {
				if err := ports.Occupy(int(p.GetNodePort())); err != nil {
					errs = append(errs, fmt.Errorf("service %s nodePort %d: %w", key, p.GetNodePort(), err))
				}
			} else if needsNodePorts(svc) {
				need = true
			}
		}
		if need {
			todo = append(todo, svc)
		}
	}
	var changed []string
	for _, svc := range todo {
		key := svc.GetMetadata().GetNamespace() + "/" + svc.GetMetadata().GetName()
		var gotIP netip.Addr
		var gotPorts []int
		release := func() {
			if gotIP.IsValid() {
				ips.Release(gotIP)
			}
			for _, p := range gotPorts {
				ports.Release(p)
			}
		}
		_, err := svcs.Mutate(ctx, svc.GetMetadata().GetNamespace(), svc.GetMetadata().GetName(), func(cur *api.Service) error {
			release()
			gotIP, gotPorts = netip.Addr{}, nil
			if cur.Spec == nil {
				cur.Spec = &api.ServiceSpec{}
			}
			if cur.GetSpec().GetClusterIp() == "" && needsClusterIP(cur) {
				ip, err := ips.Allocate()
				if err != nil {
					return err
				}
				gotIP = ip
				cur.Spec.ClusterIp = ip.String()
				cur.Spec.ClusterIps = []string{ip.String()}
			}
			if needsNodePorts(cur) {
				for _, p := range cur.Spec.Ports {
					if p.NodePort != 0 {
						continue
					}
					n, err := ports.Allocate()
					if err != nil {
						return err
					}
					gotPorts = append(gotPorts, n)
					p.NodePort = int32(n)
				}
			}
			return nil
		})
		switch {
		case err == nil:
			changed = append(changed, key)
			slog.InfoContext(ctx, "allocated service addresses", "service", key, "clusterIP", gotIP, "nodePorts", gotPorts)
		case store.IsNotFound(err):
			release()
		default:
			release()
			errs = append(errs, fmt.Errorf("service %s: %w", key, err))
		}
	}
	return changed, errors.Join(errs...)
}

func needsClusterIP(svc *api.Service) bool {
	t := svc.GetSpec().GetType()
	return svc.GetSpec().GetClusterIp() != ClusterIPNone && t != ServiceTypeExternalName
}

func needsNodePorts(svc *api.Service) bool {
	t := svc.GetSpec().GetType()
	return t == ServiceTypeNodePort || t == ServiceTypeLoadBalancer
}
