// Package podcidr gives every Node a pod CIDR: a distinct subnet of the
// cluster CIDR, written to spec.podCIDR, from which the node's pods get
// their addresses. The allocation itself is network/alloc's
// (AssignPodCIDRs), rebuilt from all Nodes on every pass, so a deleted
// node's subnet is free again and a restarted controller carries on; this
// package runs it level-triggered whenever Nodes change.
package podcidr

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

// Options configure the allocation.
type Options struct {
	// ClusterCIDR is the range node subnets come from (default
	// "10.244.0.0/16").
	ClusterCIDR string
	// MaskSize is the prefix length of each node's subnet (default 24).
	MaskSize int
}

// Add registers the pod CIDR controller with mgr.
func Add(mgr *manager.Manager, opts Options) error {
	c, err := New(mgr, opts)
	if err != nil {
		return err
	}
	return mgr.Add(c)
}

// New returns the pod CIDR controller without adding it to mgr.
func New(mgr *manager.Manager, opts Options) (*controller.Controller, error) {
	if opts.ClusterCIDR == "" {
		opts.ClusterCIDR = "10.244.0.0/16"
	}
	if opts.MaskSize == 0 {
		opts.MaskSize = 24
	}
	if _, err := alloc.NewCIDRAllocator(opts.ClusterCIDR, opts.MaskSize); err != nil {
		return nil, fmt.Errorf("podcidr: %w", err)
	}
	s := mgr.Store()
	r := reconcile.Func(func(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
		assigned, err := alloc.AssignPodCIDRs(ctx, s, opts.ClusterCIDR, opts.MaskSize)
		for node, prefix := range assigned {
			reconcile.Logger(ctx).Info("assigned pod CIDR", "node", node, "podCIDR", prefix.String())
		}
		return reconcile.Result{}, err
	})
	return wiring.NewSingleton(mgr, "podcidr", api.KindNode, r)
}
