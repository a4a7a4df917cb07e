package admission

import (
	"context"
	"fmt"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/builder"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
)

// QuotaControllerOptions tune the quota status controller.
type QuotaControllerOptions struct {
	// ResyncPeriod recounts every quota this often even without a change
	// (default 5m), catching kinds the controller does not watch.
	ResyncPeriod time.Duration
}

// AddQuotaController registers a controller with mgr that keeps every
// ResourceQuota's status.used current between admitted creates: it
// recounts a namespace's quotas when its pods change (a pod that finished
// stops counting), its claims, services, config maps, secrets or
// replication controllers change, and every ResyncPeriod. Admission itself
// does not depend on it: each admitted create recounts anyway.
func AddQuotaController(mgr *manager.Manager, opts QuotaControllerOptions) error {
	if opts.ResyncPeriod <= 0 {
		opts.ResyncPeriod = 5 * time.Minute
	}
	quotaInf, err := mgr.Informer(api.KindResourceQuota)
	if err != nil {
		return err
	}
	quotas := informer.ListerFor[*api.ResourceQuota](quotaInf)
	q := &ResourceQuota{Store: mgr.Store(), Logger: mgr.Logger()}
	inNamespace := func(_ context.Context, obj api.Object) []reconcile.Request {
		ns := obj.GetMetadata().GetNamespace()
		items, err := quotas.ByIndex(informer.IndexNamespace, ns)
		if err != nil {
			return nil
		}
		out := make([]reconcile.Request, len(items))
		for i, rq := range items {
			out[i] = reconcile.Request{Namespace: ns, Name: rq.GetMetadata().GetName()}
		}
		return out
	}
	b := builder.ControllerManagedBy(mgr).Named("resourcequota").For(api.KindResourceQuota)
	for _, kind := range []string{api.KindPod, api.KindPersistentVolumeClaim, api.KindService, api.KindConfigMap,
		api.KindSecret, api.KindReplicationController} {
		b = b.Watches(kind, inNamespace)
	}
	return b.Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		res := reconcile.Result{RequeueAfter: opts.ResyncPeriod}
		rq, ok := quotas.Get(req.Namespace, req.Name)
		if !ok {
			return reconcile.Result{}, nil
		}
		used, err := q.usage(ctx, req.Namespace, rq.GetSpec().GetHard())
		if err != nil {
			return res, err
		}
		st := &api.ResourceQuotaStatus{Hard: cloneStrings(rq.GetSpec().GetHard()), Used: used.StringMap()}
		if equalStrings(st.Hard, rq.GetStatus().GetHard()) && equalStrings(st.Used, rq.GetStatus().GetUsed()) {
			return res, nil
		}
		out := api.Clone(rq)
		out.Status = st
		if _, err := q.Store.UpdateStatus(ctx, out); err != nil && !store.IsNotFound(err) {
			if store.IsConflict(err) {
				// A create was admitted meanwhile: count again.
				return reconcile.Result{Requeue: true}, nil
			}
			return res, fmt.Errorf("quota %s status: %w", req, err)
		}
		return res, nil
	}))
}

func equalStrings(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
