package admission

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/resource"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/store"
)

// Names of quota resources beyond the compute ones ("requests.cpu",
// "limits.memory", plain "cpu" meaning requests.cpu, ...) and the generic
// "count/<resource>" (for example count/jobs.batch or count/deployments.apps).
const (
	QuotaPods                   = "pods"
	QuotaServices               = "services"
	QuotaConfigMaps             = "configmaps"
	QuotaSecrets                = "secrets"
	QuotaPersistentVolumeClaims = "persistentvolumeclaims"
	QuotaReplicationControllers = "replicationcontrollers"
	QuotaResourceQuotas         = "resourcequotas"
	QuotaRequestsStorage        = "requests.storage"
)

// ResourceQuota is the built-in plugin that enforces the ResourceQuotas of
// a namespace: object counts and the sums of pods' requests and limits
// (pods that finished do not count) and of claims' storage requests.
//
// On every admitted create it recounts the namespace's usage, refuses the
// create if it would take any quota past its hard limit, and otherwise
// writes the new usage into each affected quota's status in the same
// transaction as the create, conditioned on the quota's resourceVersion.
type ResourceQuota struct {
	// Store is where quotas and the counted objects are read from.
	Store store.Store
	// Logger receives recount failures after deletes (default discarded).
	Logger *slog.Logger
	// Incremental charges a create against the usage in the quota's
	// status instead of recounting the namespace, when that status counts
	// the quota's current hard resources. A create then costs the same
	// however many objects the namespace holds. The status only ever
	// over-counts (a pod that finished, an object deleted around the
	// chain), so no create exceeds a quota, but released usage comes back
	// only when something recounts: run AddQuotaController with it.
	Incremental bool
}

// Name returns "ResourceQuota".
func (*ResourceQuota) Name() string { return "ResourceQuota" }

// QuotaExceededError is the refusal of a create that would exceed a quota.
// It matches store.ErrForbidden with errors.Is.
type QuotaExceededError struct {
	// Quota is the name of the quota that would be exceeded.
	Quota string
	// Exceeded lists, per resource, what was requested, used and allowed.
	Exceeded []Excess
}

// Excess is one resource over its quota.
type Excess struct {
	Resource                    string
	Requested, Used, Hard, Over resource.Quantity
}

// Error names the quota and says by how much each resource is over.
func (e *QuotaExceededError) Error() string {
	parts := make([]string, len(e.Exceeded))
	for i, x := range e.Exceeded {
		parts[i] = fmt.Sprintf("%s: requested %s, used %s, limited %s (over by %s)", x.Resource, x.Requested, x.Used, x.Hard, x.Over)
	}
	return fmt.Sprintf("exceeded quota %q: %s", e.Quota, strings.Join(parts, "; "))
}

// Is makes the error match store.ErrForbidden.
func (e *QuotaExceededError) Is(target error) bool { return target == store.ErrForbidden }

// Admit fills the status of a ResourceQuota being created with its hard
// limits and the namespace's current usage.
func (q *ResourceQuota) Admit(ctx context.Context, a *Attributes) error {
	rq, ok := a.Object.(*api.ResourceQuota)
	if !ok || a.Operation != Create {
		return nil
	}
	used, err := q.usage(ctx, a.Namespace(), rq.GetSpec().GetHard())
	if err != nil {
		return err
	}
	if _, counted := rq.GetSpec().GetHard()[QuotaResourceQuotas]; counted {
		used[QuotaResourceQuotas] = used[QuotaResourceQuotas].Add(resource.NewQuantity(1))
	}
	rq.Status = &api.ResourceQuotaStatus{Hard: cloneStrings(rq.GetSpec().GetHard()), Used: used.StringMap()}
	return nil
}

// Ops checks the creates among writes against every quota of their
// namespaces and returns the status updates that record the new usage.
func (q *ResourceQuota) Ops(ctx context.Context, _ store.Store, writes []*Attributes) ([]store.Op, error) {
	deltas := map[string]resource.List{}
	for _, a := range writes {
		if a.Operation != Create || a.Namespace() == "" {
			continue
		}
		d, err := q.usageOf(a.Object)
		if err != nil {
			return nil, err
		}
		if len(d) == 0 {
			continue
		}
		deltas[a.Namespace()] = deltas[a.Namespace()].Add(d)
	}
	var ops []store.Op
	for ns, delta := range deltas {
		quotas, _, err := store.For[*api.ResourceQuota](q.Store).List(ctx, store.ListOptions{Namespace: ns})
		if err != nil {
			return nil, fmt.Errorf("list quotas: %w", err)
		}
		for _, rq := range quotas {
			op, err := q.charge(ctx, rq, delta)
			if err != nil {
				return nil, err
			}
			if op != nil {
				ops = append(ops, *op)
			}
		}
	}
	return ops, nil
}

// charge refuses delta if it would exceed rq, and returns the status update
// that records it (nil if rq does not count any of delta's resources).
func (q *ResourceQuota) charge(ctx context.Context, rq *api.ResourceQuota, delta resource.List) (*store.Op, error) {
	hard, err := resource.ParseList(rq.GetSpec().GetHard())
	if err != nil {
		return nil, fmt.Errorf("quota %s: %w: %w", rq.GetMetadata().GetName(), store.ErrInvalid, err)
	}
	relevant := false
	for name := range hard {
		if d, ok := delta[name]; ok && !d.IsZero() {
			relevant = true
		}
	}
	if !relevant {
		return nil, nil
	}
	used, ok := q.statusUsage(rq)
	if !ok {
		if used, err = q.usage(ctx, rq.GetMetadata().GetNamespace(), rq.GetSpec().GetHard()); err != nil {
			return nil, err
		}
	}
	after := used.Clone()
	var excess []Excess
	for _, name := range hard.Names() {
		d, ok := delta[name]
		if !ok || d.IsZero() {
			continue
		}
		after[name] = used[name].Add(d)
		if after[name].Cmp(hard[name]) > 0 {
			excess = append(excess, Excess{Resource: name, Requested: d, Used: used[name], Hard: hard[name], Over: after[name].Sub(hard[name])})
		}
	}
	if len(excess) > 0 {
		return nil, &QuotaExceededError{Quota: rq.GetMetadata().GetName(), Exceeded: excess}
	}
	out := api.Clone(rq)
	out.Status = &api.ResourceQuotaStatus{Hard: cloneStrings(rq.GetSpec().GetHard()), Used: after.StringMap()}
	op := store.UpdateStatusOp(out)
	return &op, nil
}

// statusUsage returns the usage recorded in rq's status, if Incremental is
// set and the status counts exactly the quota's hard resources.
func (q *ResourceQuota) statusUsage(rq *api.ResourceQuota) (resource.List, bool) {
	if !q.Incremental || !equalStrings(rq.GetStatus().GetHard(), rq.GetSpec().GetHard()) {
		return nil, false
	}
	used, err := resource.ParseList(rq.GetStatus().GetUsed())
	if err != nil {
		return nil, false
	}
	for name := range rq.GetSpec().GetHard() {
		if _, ok := used[name]; !ok {
			return nil, false
		}
	}
	return used, true
}

// afterDelete recounts every quota of namespace and stores the usage.
func (q *ResourceQuota) afterDelete(ctx context.Context, namespace string) {
	if namespace == "" {
		return
	}
	if err := q.Recount(ctx, namespace); err != nil && q.Logger != nil {
		q.Logger.Warn("quota recount after delete failed", "namespace", namespace, "err", err)
	}
}

// Recount recomputes the usage of every quota in namespace from the stored
// objects and writes it into their status.
func (q *ResourceQuota) Recount(ctx context.Context, namespace string) error {
	for attempt := 0; attempt < maxCommitRetries; attempt++ {
		quotas, _, err := store.For[*api.ResourceQuota](q.Store).List(ctx, store.ListOptions{Namespace: namespace})
		if err != nil {
			return err
		}
		conflict := false
		for _, rq := range quotas {
			used, err := q.usage(ctx, namespace, rq.GetSpec().GetHard())
			if err != nil {
				return err
			}
			out := api.Clone(rq)
			out.Status = &api.ResourceQuotaStatus{Hard: cloneStrings(rq.GetSpec().GetHard()), Used: used.StringMap()}
			if _, err := q.Store.UpdateStatus(ctx, out); err != nil {
				if store.IsConflict(err) {
					conflict = true
					continue
				}
				if !store.IsNotFound(err) {
					return err
				}
			}
		}
		if !conflict {
			return nil
		}
	}
	return fmt.Errorf("admission: recount quotas of %s: %w", namespace, store.ErrConflict)
}

// usage counts, for each resource named in hard, what namespace uses now.
func (q *ResourceQuota) usage(ctx context.Context, namespace string, hard map[string]string) (resource.List, error) {
	used := resource.List{}
	kinds := map[string]bool{}
	for name := range hard {
		used[name] = resource.Quantity{}
		if k := q.kindCounted(name); k != "" {
			kinds[k] = true
		}
		switch {
		case isComputeQuota(name):
			kinds[api.KindPod] = true
		case name == QuotaRequestsStorage:
			kinds[api.KindPersistentVolumeClaim] = true
		}
	}
	for kind := range kinds {
		list, err := q.Store.List(ctx, kind, store.ListOptions{Namespace: namespace})
		if err != nil {
			return nil, fmt.Errorf("count %s: %w", kind, err)
		}
		for _, obj := range list.Items {
			if podutil.IsTerminating(obj) {
				continue
			}
			d, err := q.usageOf(obj)
			if err != nil {
				continue // an object stored before the quota: count what parses
			}
			for name := range hard {
				if v, ok := d[name]; ok {
					used[name] = used[name].Add(v)
				}
			}
		}
	}
	return used, nil
}

// kindCounted returns the kind a count quota name counts, or "".
func (q *ResourceQuota) kindCounted(name string) string {
	reg := q.Store.Registry()
	switch name {
	case QuotaPods:
		return api.KindPod
	case QuotaServices, QuotaConfigMaps, QuotaSecrets, QuotaPersistentVolumeClaims, QuotaReplicationControllers, QuotaResourceQuotas:
		if info, err := reg.LookupResource("", name); err == nil {
			return info.Kind
		}
	}
	if res, ok := strings.CutPrefix(name, "count/"); ok {
		resName, group, _ := strings.Cut(res, ".")
		if info, err := reg.LookupResource(group, resName); err == nil {
			return info.Kind
		}
	}
	return ""
}

func isComputeQuota(name string) bool {
	switch name {
	case "cpu", "memory", "ephemeral-storage":
		return true
	}
	return strings.HasPrefix(name, "requests.") && name != QuotaRequestsStorage || strings.HasPrefix(name, "limits.")
}

// usageOf returns what one object counts against quotas, under every name a
// quota may use for it.
func (q *ResourceQuota) usageOf(obj api.Object) (resource.List, error) {
	info, err := q.Store.Registry().KindOf(obj)
	if err != nil {
		return nil, err
	}
	one := resource.NewQuantity(1)
	out := resource.List{"count/" + info.Resource: one}
	if group, _, ok := strings.Cut(info.APIVersion, "/"); ok {
		out["count/"+info.Resource+"."+group] = one
	} else {
		out[info.Resource] = one
	}
	switch o := obj.(type) {
	case *api.Pod:
		if podutil.IsFinished(o) {
			return resource.List{}, nil
		}
		req, lim, err := podTotals(o)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", store.ErrInvalid, err)
		}
		for name, v := range req {
			out["requests."+name] = v
			out[name] = v
		}
		for name, v := range lim {
			out["limits."+name] = v
		}
	case *api.PersistentVolumeClaim:
		if s, ok := o.GetSpec().GetResources().GetRequests()["storage"]; ok {
			v, err := resource.ParseQuantity(s)
			if err != nil {
				return nil, fmt.Errorf("%w: claim storage: %w", store.ErrInvalid, err)
			}
			out[QuotaRequestsStorage] = v
		}
	}
	return out, nil
}

func cloneStrings(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
