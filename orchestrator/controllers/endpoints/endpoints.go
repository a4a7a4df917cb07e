package endpoints

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/orchestrator/controller"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/wiring"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"google.golang.org/protobuf/proto"
)

// Options tune the controller.
type Options struct {
	// Workers is the number of Services reconciled at once (default 4).
	Workers int
}

// Add registers the Endpoints controller with mgr.
func Add(mgr *manager.Manager, opts Options) error {
	c, err := New(mgr, opts)
	if err != nil {
		return err
	}
	return mgr.Add(c)
}

// New returns the Endpoints controller over mgr's shared informers,
// without adding it to mgr.
func New(mgr *manager.Manager, opts Options) (*controller.Controller, error) {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	services, err := manager.ListerFor[*api.Service](mgr)
	if err != nil {
		return nil, err
	}
	pods, err := manager.ListerFor[*api.Pod](mgr)
	if err != nil {
		return nil, err
	}
	eps, err := manager.ListerFor[*api.Endpoints](mgr)
	if err != nil {
		return nil, err
	}
	r := &Reconciler{store: mgr.Store(), services: services, pods: pods, endpoints: eps}
	return wiring.New(mgr, "endpoints", api.KindService, opts.Workers, r,
		wiring.Watch{Kind: api.KindPod, Map: r.servicesOfPod},
		wiring.Watch{Kind: api.KindEndpoints, Map: func(_ context.Context, obj api.Object) []reconcile.Request {
			m := obj.GetMetadata()
			return []reconcile.Request{{Namespace: m.GetNamespace(), Name: m.GetName()}}
		}})
}

// Reconciler keeps Endpoints in step with Services and pods.
type Reconciler struct {
	store     store.Store
	services  informer.Lister[*api.Service]
	pods      informer.Lister[*api.Pod]
	endpoints informer.Lister[*api.Endpoints]
}

var _ reconcile.Reconciler = (*Reconciler)(nil)

// servicesOfPod maps a pod to the Services in its namespace that select it.
func (r *Reconciler) servicesOfPod(_ context.Context, obj api.Object) []reconcile.Request {
	m := obj.GetMetadata()
	svcs, err := r.services.ByIndex(informer.IndexNamespace, m.GetNamespace())
	if err != nil {
		return nil
	}
	var out []reconcile.Request
	set := labels.Set(m.GetLabels())
	for _, svc := range svcs {
		sel := svc.GetSpec().GetSelector()
		if len(sel) > 0 && labels.SelectorFromSet(labels.Set(sel)).Matches(set) {
			out = append(out, reconcile.Request{Namespace: m.GetNamespace(), Name: svc.GetMetadata().GetName()})
		}
	}
	return out
}

// Reconcile writes one Service's Endpoints.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	svc, ok := r.services.Get(req.Namespace, req.Name)
	if !ok || podutil.IsTerminating(svc) {
		if _, ok := r.endpoints.Get(req.Namespace, req.Name); ok {
			// Confirm with the store: the cache may not show a new
			// Service yet.
			if live, err := r.store.Get(ctx, api.KindService, req.Namespace, req.Name); err == nil && !podutil.IsTerminating(live) {
				return reconcile.Result{}, nil
			} else if err != nil && !store.IsNotFound(err) {
				return reconcile.Result{}, err
			}
			if _, err := r.store.Delete(ctx, api.KindEndpoints, req.Namespace, req.Name, store.DeleteOptions{}); err != nil && !store.IsNotFound(err) {
				return reconcile.Result{}, fmt.Errorf("delete endpoints: %w", err)
			}
		}
		return reconcile.Result{}, nil
	}
	if len(svc.GetSpec().GetSelector()) == 0 {
		return reconcile.Result{}, nil
	}
	subsets := Subsets(svc, r.pods.Select(req.Namespace, labels.SelectorFromSet(labels.Set(svc.GetSpec().GetSelector()))))
	cur, ok := r.endpoints.Get(req.Namespace, req.Name)
	if !ok {
		_, err := r.store.Create(ctx, &api.Endpoints{
			Metadata: &api.ObjectMeta{Namespace: req.Namespace, Name: req.Name, Labels: svc.GetMetadata().GetLabels()},
			Subsets:  subsets,
		})
		if store.IsAlreadyExists(err) {
			return reconcile.Result{Requeue: true}, nil // the cache is behind
		}
		return reconcile.Result{}, err
	}
	if equalSubsets(cur.GetSubsets(), subsets) {
		return reconcile.Result{}, nil
	}
	out := api.Clone(cur)
	out.Subsets = subsets
	if _, err := r.store.Update(ctx, out); err != nil {
		if store.IsConflict(err) {
			return reconcile.Result{Requeue: true}, nil
		}
		return reconcile.Result{}, fmt.Errorf("update endpoints: %w", err)
	}
	return reconcile.Result{}, nil
}

func equalSubsets(a, b []*api.EndpointSubset) bool {
	return slices.EqualFunc(a, b, func(x, y *api.EndpointSubset) bool { return proto.Equal(x, y) })
}

// Subsets computes the endpoint subsets of svc from the pods its selector
// matches.
func Subsets(svc *api.Service, pods []*api.Pod) []*api.EndpointSubset {
	type group struct {
		ports           []*api.EndpointPort
		ready, notReady []*api.EndpointAddress
	}
	groups := map[string]*group{}
	publishNotReady := svc.GetSpec().GetPublishNotReadyAddresses()
	for _, p := range pods {
		if podutil.IsTerminating(p) || podutil.IsFinished(p) || p.GetStatus().GetPodIp() == "" {
			continue
		}
		ports := resolvePorts(svc, p)
		if len(ports) == 0 && len(svc.GetSpec().GetPorts()) > 0 {
			continue
		}
		var key strings.Builder
		for _, pt := range ports {
			key.WriteString(pt.GetName() + "/" + pt.GetProtocol() + "/" + strconv.Itoa(int(pt.GetPort())) + ",")
		}
		g := groups[key.String()]
		if g == nil {
			g = &group{ports: ports}
			groups[key.String()] = g
		}
		addr := &api.EndpointAddress{
			Ip:       p.GetStatus().GetPodIp(),
			NodeName: p.GetSpec().GetNodeName(),
			TargetRef: &api.ObjectReference{
				Kind: api.KindPod, Namespace: p.GetMetadata().GetNamespace(), Name: p.GetMetadata().GetName(), Uid: p.GetMetadata().GetUid(),
			},
		}
		if podutil.IsReady(p) || publishNotReady {
			g.ready = append(g.ready, addr)
		} else {
			g.notReady = append(g.notReady, addr)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	byIP := func(a, b *api.EndpointAddress) int {
		if c := cmp.Compare(a.GetIp(), b.GetIp()); c != 0 {
			return c
		}
		return cmp.Compare(a.GetTargetRef().GetName(), b.GetTargetRef().GetName())
	}
	var out []*api.EndpointSubset
	for _, k := range keys {
		g := groups[k]
		slices.SortFunc(g.ready, byIP)
		slices.SortFunc(g.notReady, byIP)
		out = append(out, &api.EndpointSubset{Addresses: g.ready, NotReadyAddresses: g.notReady, Ports: g.ports})
	}
	return out
}

// resolvePorts returns the endpoint ports of svc for pod p.
func resolvePorts(svc *api.Service, p *api.Pod) []*api.EndpointPort {
	var out []*api.EndpointPort
	for _, sp := range svc.GetSpec().GetPorts() {
		proto := sp.GetProtocol()
		if proto == "" {
			proto = "TCP"
		}
		port := sp.GetPort()
		switch tp := sp.GetTargetPort().GetValue().(type) {
		case *api.IntOrString_IntVal:
			if tp.IntVal > 0 {
				port = tp.IntVal
			}
		case *api.IntOrString_StrVal:
			if n, err := strconv.Atoi(tp.StrVal); err == nil {
				port = int32(n)
			} else if n, ok := containerPort(p, tp.StrVal, proto); ok {
				port = n
			} else {
				continue
			}
		}
		out = append(out, &api.EndpointPort{Name: sp.GetName(), Port: port, Protocol: proto, AppProtocol: sp.GetAppProtocol()})
	}
	return out
}

// containerPort finds the pod's container port called name.
func containerPort(p *api.Pod, name, protocol string) (int32, bool) {
	for _, c := range p.GetSpec().GetContainers() {
		for _, cp := range c.GetPorts() {
			pr := cp.GetProtocol()
			if pr == "" {
				pr = "TCP"
			}
			if cp.GetName() == name && pr == protocol {
				return cp.GetContainerPort(), true
			}
		}
	}
	return 0, false
}
