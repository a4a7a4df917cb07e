package admission

import (
	"context"
	"fmt"
	"strings"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/resource"
	"github.com/coxswain-io/coxswain/store"
)

// LimitRange item types.
const (
	LimitTypeContainer = "Container"
	LimitTypePod       = "Pod"
	LimitTypeClaim     = "PersistentVolumeClaim"
)

// LimitRanger is the built-in plugin that applies the LimitRanges of the
// object's namespace: on a pod it fills each container's missing limits
// from default and missing requests from defaultRequest (or, failing that,
// from its limit); it refuses containers, pods and claims outside min/max.
type LimitRanger struct {
	// Store is where LimitRanges are read from.
	Store store.Store
}

// Name returns "LimitRanger".
func (*LimitRanger) Name() string { return "LimitRanger" }

func (l *LimitRanger) items(ctx context.Context, ns string) ([]*api.LimitRangeItem, error) {
	lrs, _, err := store.For[*api.LimitRange](l.Store).List(ctx, store.ListOptions{Namespace: ns})
	if err != nil {
		return nil, fmt.Errorf("list limit ranges: %w", err)
	}
	var out []*api.LimitRangeItem
	for _, lr := range lrs {
		out = append(out, lr.GetSpec().GetLimits()...)
	}
	return out, nil
}

// Admit fills defaults on pods being created.
func (l *LimitRanger) Admit(ctx context.Context, a *Attributes) error {
	pod, ok := a.Object.(*api.Pod)
	if !ok || a.Operation != Create {
		return nil
	}
	items, err := l.items(ctx, a.Namespace())
	if err != nil {
		return err
	}
	for _, it := range items {
		if it.GetType() != LimitTypeContainer {
			continue
		}
		for _, c := range allContainers(pod.GetSpec()) {
			if c.Resources == nil {
				c.Resources = &api.ResourceRequirements{}
			}
			r := c.Resources
			for name, v := range it.GetDefault() {
				if _, set := r.Limits[name]; !set {
					if r.Limits == nil {
						r.Limits = map[string]string{}
					}
					r.Limits[name] = v
				}
			}
			for name, v := range it.GetDefaultRequest() {
				if _, set := r.Requests[name]; !set {
					if r.Requests == nil {
						r.Requests = map[string]string{}
					}
					r.Requests[name] = v
				}
			}
			for name, v := range r.Limits {
				if _, set := r.Requests[name]; !set {
					if r.Requests == nil {
						r.Requests = map[string]string{}
					}
					r.Requests[name] = v
				}
			}
		}
	}
	return nil
}

// Validate refuses pods and claims outside the namespace's bounds.
func (l *LimitRanger) Validate(ctx context.Context, a *Attributes) error {
	if a.Operation != Create {
		return nil
	}
	switch a.Object.(type) {
	case *api.Pod, *api.PersistentVolumeClaim:
	default:
		return nil
	}
	items, err := l.items(ctx, a.Namespace())
	if err != nil {
		return err
	}
	var problems []string
	check := func(what string, it *api.LimitRangeItem, requests, limits map[string]string) error {
		req, err := resource.ParseList(requests)
		if err != nil {
			return fmt.Errorf("%s: %w: %w", what, store.ErrInvalid, err)
		}
		lim, err := resource.ParseList(limits)
		if err != nil {
			return fmt.Errorf("%s: %w: %w", what, store.ErrInvalid, err)
		}
		mins, err := resource.ParseList(it.GetMin())
		if err != nil {
			return fmt.Errorf("limit range min: %w: %w", store.ErrInvalid, err)
		}
		maxs, err := resource.ParseList(it.GetMax())
		if err != nil {
			return fmt.Errorf("limit range max: %w: %w", store.ErrInvalid, err)
		}
		for _, name := range mins.Names() {
			q, ok := req[name]
			if !ok {
				problems = append(problems, fmt.Sprintf("minimum %s usage per %s is %s, but no request is specified", name, it.GetType(), mins[name]))
				continue
			}
			if q.Cmp(mins[name]) < 0 {
				problems = append(problems, fmt.Sprintf("minimum %s usage per %s is %s, but %s requests %s", name, it.GetType(), mins[name], what, q))
			}
		}
		for _, name := range maxs.Names() {
			q, ok := lim[name]
			if it.GetType() == LimitTypeClaim {
				q, ok = req[name]
			}
			if !ok {
				problems = append(problems, fmt.Sprintf("maximum %s usage per %s is %s, but no limit is specified", name, it.GetType(), maxs[name]))
				continue
			}
			if q.Cmp(maxs[name]) > 0 {
				problems = append(problems, fmt.Sprintf("maximum %s usage per %s is %s, but %s asks for %s", name, it.GetType(), maxs[name], what, q))
			}
		}
		return nil
	}
	for _, it := range items {
		switch o := a.Object.(type) {
		case *api.Pod:
			switch it.GetType() {
			case LimitTypeContainer:
				for _, c := range allContainers(o.GetSpec()) {
					if err := check("container "+c.GetName(), it, c.GetResources().GetRequests(), c.GetResources().GetLimits()); err != nil {
						return err
					}
				}
			case LimitTypePod:
				req, lim, err := podTotals(o)
				if err != nil {
					return fmt.Errorf("%w: %w", store.ErrInvalid, err)
				}
				if err := check("the pod", it, req.StringMap(), lim.StringMap()); err != nil {
					return err
				}
			}
		case *api.PersistentVolumeClaim:
			if it.GetType() == LimitTypeClaim {
				req := o.GetSpec().GetResources().GetRequests()
				if err := check("the claim", it, req, req); err != nil {
					return err
				}
			}
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", store.ErrForbidden, strings.Join(problems, "; "))
	}
	return nil
}

func allContainers(spec *api.PodSpec) []*api.Container {
	out := make([]*api.Container, 0, len(spec.GetInitContainers())+len(spec.GetContainers()))
	out = append(out, spec.GetInitContainers()...)
	return append(out, spec.GetContainers()...)
}

// podTotals returns a pod's effective requests and limits: the larger of
// the sum over its containers and the largest init container, per
// resource.
func podTotals(p *api.Pod) (requests, limits resource.List, err error) {
	sum := func(get func(*api.Container) map[string]string) (resource.List, error) {
		total := resource.List{}
		for _, c := range p.GetSpec().GetContainers() {
			l, err := resource.ParseList(get(c))
			if err != nil {
				return nil, fmt.Errorf("container %s: %w", c.GetName(), err)
			}
			total = total.Add(l)
		}
		for _, c := range p.GetSpec().GetInitContainers() {
			l, err := resource.ParseList(get(c))
			if err != nil {
				return nil, fmt.Errorf("init container %s: %w", c.GetName(), err)
			}
			for name, q := range l {
				if cur, ok := total[name]; !ok || q.Cmp(cur) > 0 {
					total[name] = q
				}
			}
		}
		return total, nil
	}
	requests, err = sum(func(c *api.Container) map[string]string { return c.GetResources().GetRequests() })
	if err != nil {
		return nil, nil, err
	}
	limits, err = sum(func(c *api.Container) map[string]string { return c.GetResources().GetLimits() })
	if err != nil {
		return nil, nil, err
	}
	return requests, limits, nil
}
