package validation

import (
	"fmt"
	"sync"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/resource"
)

// Func validates one object of a kind and returns its field errors.
type Func func(obj api.Object) ErrorList

var (
	customMu sync.RWMutex
	custom   = map[string]Func{}
)

// Register adds rules for a custom kind, identified by its protobuf message
// full name, run by ValidateObject after the metadata rules. It refuses a
// second registration for the same message and any built-in kind.
func Register(obj api.Object, fn Func) error {
	name := string(obj.ProtoReflect().Descriptor().FullName())
	if _, err := api.Builtin().KindOf(obj); err == nil {
		return fmt.Errorf("validation: %s is a built-in kind", name)
	}
	customMu.Lock()
	defer customMu.Unlock()
	if custom[name] != nil {
		return fmt.Errorf("validation: rules for %s already registered", name)
	}
	custom[name] = fn
	return nil
}

// ValidateObject checks obj against the rules of its kind and returns nil or
// an ErrorList holding every problem found. Cluster-scoped built-in kinds
// must have no namespace; namespaced ones may leave it empty (the caller's
// default namespace applies).
func ValidateObject(obj api.Object) error {
	if l := validate(obj); len(l) > 0 {
		return l
	}
	return nil
}

func validate(obj api.Object) ErrorList {
	e := &errs{}
	// The rules below assume lists hold no nil entries (protobuf cannot
	// encode them anyway); report any first, and stop there.
	if hasNilEntry(obj.ProtoReflect()) {
		e.nilEntries(obj.ProtoReflect(), "")
		return e.list
	}
	scope, nameKind := api.Namespaced, subdomainName
	if info, err := api.Builtin().KindOf(obj); err == nil {
		scope = info.Scope
	}
	switch obj.(type) {
	case *api.Namespace, *api.Service:
		nameKind = labelName
	case *api.Role, *api.RoleBinding, *api.ClusterRole, *api.ClusterRoleBinding:
		nameKind = segmentName
	}
	e.meta(obj.GetMetadata(), "metadata", scope, nameKind)

	switch o := obj.(type) {
	case *api.Pod:
		e.podSpec(o.GetSpec(), "spec")
	case *api.Node:
		e.node(o)
	case *api.Namespace:
	case *api.Service:
		e.service(o.GetSpec(), "spec")
	case *api.Endpoints:
		e.endpoints(o)
	case *api.ConfigMap:
		e.configMap(o)
	case *api.Secret:
		e.secret(o)
	case *api.Event:
		e.event(o)
	case *api.PersistentVolume:
		e.persistentVolume(o.GetSpec(), "spec")
	case *api.PersistentVolumeClaim:
		e.pvcSpec(o.GetSpec(), "spec")
	case *api.ResourceQuota:
		e.resourceQuota(o.GetSpec(), "spec")
	case *api.LimitRange:
		e.limitRange(o.GetSpec(), "spec")
	case *api.ReplicationController:
		e.replicationController(o.GetSpec(), "spec")
	case *api.ReplicaSet:
		s := o.GetSpec()
		e.nonNegative("spec.replicas", int64(s.GetReplicas()))
		e.replicated(s.GetSelector(), s.GetTemplate(), "spec")
		e.nonNegative("spec.minReadySeconds", int64(s.GetMinReadySeconds()))
	case *api.Deployment:
		e.deployment(o.GetSpec(), "spec")
	case *api.DaemonSet:
		e.daemonSet(o.GetSpec(), "spec")
	case *api.ControllerRevision:
		e.nonNegative("revision", o.GetRevision())
		if o.GetTemplate() != nil {
			e.podSpec(o.GetTemplate().GetSpec(), "template.spec")
		}
	case *api.Job:
		e.jobSpec(o.GetSpec(), "spec")
	case *api.CronJob:
		e.cronJob(o.GetSpec(), "spec")
	case *api.HorizontalPodAutoscaler:
		e.hpa(o.GetSpec(), "spec")
	case *api.PodDisruptionBudget:
		e.pdb(o.GetSpec(), "spec")
	case *api.StorageClass:
		e.storageClass(o)
	case *api.VolumeAttachment:
		e.volumeAttachment(o.GetSpec(), "spec")
	case *api.Ingress:
		e.ingress(o.GetSpec(), "spec")
	case *api.Lease:
		s := o.GetSpec()
		e.nonNegative("spec.leaseDurationSeconds", int64(s.GetLeaseDurationSeconds()))
		e.nonNegative("spec.leaseTransitions", int64(s.GetLeaseTransitions()))
	case *api.PriorityClass:
		e.priorityClass(o)
	case *api.Role:
		e.policyRules(o.GetRules(), "rules")
	case *api.ClusterRole:
		e.policyRules(o.GetRules(), "rules")
	case *api.RoleBinding:
		e.roleBinding(o.GetSubjects(), o.GetRoleRef(), false)
	case *api.ClusterRoleBinding:
		e.roleBinding(o.GetSubjects(), o.GetRoleRef(), true)
	default:
		customMu.RLock()
		fn := custom[string(obj.ProtoReflect().Descriptor().FullName())]
		customMu.RUnlock()
		if fn != nil {
			e.list = append(e.list, fn(obj)...)
		}
	}
	return e.list
}

// hasNilEntry reports whether any message list or map in m holds nil; it
// is nilEntries without the paths, for the common case of none.
func hasNilEntry(m protoreflect.Message) bool {
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if fd.Kind() != protoreflect.MessageKind {
			return true
		}
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len() && !found; i++ {
				em := l.Get(i).Message()
				found = !em.IsValid() || hasNilEntry(em)
			}
		case fd.IsMap():
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					em := mv.Message()
					found = !em.IsValid() || hasNilEntry(em)
					return !found
				})
			}
		default:
			found = hasNilEntry(v.Message())
		}
		return !found
	})
	return found
}

// nilEntries reports nil elements of message lists and maps, anywhere in m.
func (e *errs) nilEntries(m protoreflect.Message, p path) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		fp := p.child(fd.JSONName())
		switch {
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				if em := l.Get(i).Message(); em.IsValid() {
					e.nilEntries(em, fp.index(i))
				} else {
					e.required(fp.index(i), "list entries may not be null")
				}
			}
		case fd.IsMap() && fd.MapValue().Kind() == protoreflect.MessageKind:
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				if em := mv.Message(); em.IsValid() {
					e.nilEntries(em, fp.key(k.String()))
				} else {
					e.required(fp.key(k.String()), "map values may not be null")
				}
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Kind() == protoreflect.MessageKind:
			e.nilEntries(v.Message(), fp)
		}
		return true
	})
}

// meta checks ObjectMeta.
func (e *errs) meta(m *api.ObjectMeta, p path, scope api.Scope, rule nameRule) {
	name := m.GetName()
	switch {
	case name == "" && m.GetGenerateName() == "":
		e.required(p.child("name"), "name or generateName is required")
	case name != "":
		if ok, detail := rule.check(name); !ok {
			e.invalid(p.child("name"), name, "%s", detail)
		}
	}
	if g := m.GetGenerateName(); g != "" && name == "" {
		// The store appends a suffix of letters and digits.
		if ok, detail := rule.check(g + "x"); !ok {
			e.invalid(p.child("generateName"), g, "%s", detail)
		}
	}
	if ns := m.GetNamespace(); ns != "" {
		if scope == api.ClusterScoped {
			e.forbidden(p.child("namespace"), "not allowed on a cluster-scoped kind")
		} else {
			e.dnsLabel(p.child("namespace"), ns)
		}
	}
	e.labelMap(p.child("labels"), m.GetLabels())
	total := 0
	for _, k := range sortedKeys(m.GetAnnotations()) {
		e.qualifiedName(p.child("annotations"), k)
		total += len(k) + len(m.GetAnnotations()[k])
	}
	if total > 256*1024 {
		e.invalid(p.child("annotations"), "", "may not be more than 256 KiB in total, got %d bytes", total)
	}
	e.nonNegative(p.child("resourceVersion"), m.GetResourceVersion())
	e.nonNegative(p.child("generation"), m.GetGeneration())
	e.nonNegative(p.child("deletionGracePeriodSeconds"), m.GetDeletionGracePeriodSeconds())
	controllers := 0
	for i, ref := range m.GetOwnerReferences() {
		rp := p.child("ownerReferences").index(i)
		if ref.GetApiVersion() == "" {
			e.required(rp.child("apiVersion"), "")
		}
		if ref.GetKind() == "" {
			e.required(rp.child("kind"), "")
		}
		if ref.GetName() == "" {
			e.required(rp.child("name"), "")
		}
		if ref.GetUid() == "" {
			e.required(rp.child("uid"), "")
		}
		if ref.GetController() {
			controllers++
			if controllers > 1 {
				e.invalid(rp.child("controller"), true, "only one owner reference may be the controller")
			}
		}
	}
	seen := map[string]bool{}
	for i, f := range m.GetFinalizers() {
		fp := p.child("finalizers").index(i)
		e.qualifiedName(fp, f)
		if seen[f] {
			e.duplicate(fp, f)
		}
		seen[f] = true
	}
}

// quantities checks a map of resource name to quantity.
func (e *errs) quantities(p path, m map[string]string, allowNegative bool) resource.List {
	out := resource.List{}
	for _, k := range sortedKeys(m) {
		e.resourceName(p, k)
		q, err := resource.ParseQuantity(m[k])
		if err != nil {
			e.invalid(p.key(k), m[k], "must be a quantity such as 500m, 1.5, 128Mi or 1G")
			continue
		}
		if !allowNegative && q.Sign() < 0 {
			e.invalid(p.key(k), m[k], "must be greater than or equal to 0")
			continue
		}
		out[k] = q
	}
	return out
}

// resourceName checks a resource name: a standard name or a qualified
// (prefixed) name such as example.com/gpu.
func (e *errs) resourceName(p path, name string) {
	e.qualifiedName(p, name)
}
