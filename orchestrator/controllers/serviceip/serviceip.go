// Package serviceip allocates Services' cluster IPs (from the service
// CIDR) and node ports (from the node port range), as the API server's
// allocators do in Kubernetes. The allocation is network/alloc's
// (AssignServices), rebuilt from all Services on every pass, so an address
// or port is free again once its Service is deleted; this package runs it
// level-triggered whenever Services change. Services of type ExternalName,
// and headless ones (clusterIP "None"), get no address.
package serviceip

import (
	"context"
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network/alloc"
	"github.com/coxswain-io/coxswain/orchestrator/controller"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/wiring"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
)

// Options configure the ranges.
type Options struct {
	// ServiceCIDR is the cluster IP range (default "10.96.0.0/12").
	ServiceCIDR string
	// NodePortRange is "first-last" (default alloc.DefaultNodePortRange).
	NodePortRange string
}

// Add registers the service IP controller with mgr.
func Add(mgr *manager.Manager, opts Options) error {
	c, err := New(mgr, opts)
	if err != nil {
		return err
	}
	return mgr.Add(c)
}

// New returns the service IP controller without adding it to mgr.
func New(mgr *manager.Manager, opts Options) (*controller.Controller, error) {
	if opts.ServiceCIDR == "" {
		opts.ServiceCIDR = "10.96.0.0/12"
	}
	if _, err := alloc.NewIPAllocator(opts.ServiceCIDR); err != nil {
		return nil, fmt.Errorf("serviceip: %w", err)
	}
	ranges := alloc.ServiceRanges{ServiceCIDR: opts.ServiceCIDR, NodePortRange: opts.NodePortRange}
	s := mgr.Store()
	r := reconcile.Func(func(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
		changed, err := alloc.AssignServices(ctx, s, ranges)
		if len(changed) > 0 {
			reconcile.Logger(ctx).Debug("allocated service addresses", "services", changed)
		}
		return reconcile.Result{}, err
	})
	return wiring.NewSingleton(mgr, "serviceip", api.KindService, r)
}
