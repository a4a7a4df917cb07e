package validation

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
)

// ValidateUpdate checks obj as ValidateObject does and also that the update
// from old keeps what may not change: the name, namespace and uid; the
// selectors of controllers; a Job's pod template; a Service's clusterIP; a
// claim's spec other than a larger storage request; the data of an
// immutable ConfigMap or Secret; a StorageClass's provisioner and
// parameters; a binding's roleRef. obj and old must be the same kind.
func ValidateUpdate(obj, old api.Object) error {
	if obj.ProtoReflect().Descriptor().FullName() != old.ProtoReflect().Descriptor().FullName() {
		return ErrorList{{Type: TypeInvalid, Path: "kind", Value: string(obj.ProtoReflect().Descriptor().Name()),
			Detail: fmt.Sprintf("may not change from %s", old.ProtoReflect().Descriptor().Name())}}
	}
	e := &errs{}
	nm, om := obj.GetMetadata(), old.GetMetadata()
	e.immutable("metadata.name", nm.GetName(), om.GetName())
	e.immutable("metadata.namespace", nm.GetNamespace(), om.GetNamespace())
	if om.GetUid() != "" {
		e.immutable("metadata.uid", nm.GetUid(), om.GetUid())
	}
	switch o := obj.(type) {
	case *api.Deployment:
		e.immutableMsg("spec.selector", o.GetSpec().GetSelector(), old.(*api.Deployment).GetSpec().GetSelector())
	case *api.ReplicaSet:
		e.immutableMsg("spec.selector", o.GetSpec().GetSelector(), old.(*api.ReplicaSet).GetSpec().GetSelector())
	case *api.DaemonSet:
		e.immutableMsg("spec.selector", o.GetSpec().GetSelector(), old.(*api.DaemonSet).GetSpec().GetSelector())
	case *api.Job:
		os := old.(*api.Job).GetSpec()
		e.immutableMsg("spec.selector", o.GetSpec().GetSelector(), os.GetSelector())
		e.immutableMsg("spec.template", o.GetSpec().GetTemplate(), os.GetTemplate())
		if (o.GetSpec() != nil && o.GetSpec().Completions != nil) || (os != nil && os.Completions != nil) {
			e.immutable("spec.completions", o.GetSpec().GetCompletions(), os.GetCompletions())
		}
		e.immutable("spec.completionMode", o.GetSpec().GetCompletionMode(), os.GetCompletionMode())
	case *api.Service:
		ns, os := o.GetSpec(), old.(*api.Service).GetSpec()
		if os.GetClusterIp() != "" && ns.GetType() != "ExternalName" && os.GetType() != "ExternalName" {
			e.immutable("spec.clusterIP", ns.GetClusterIp(), os.GetClusterIp())
		}
	case *api.PersistentVolumeClaim:
		ns, os := &api.PersistentVolumeClaimSpec{}, &api.PersistentVolumeClaimSpec{}
		proto.Merge(ns, o.GetSpec())
		proto.Merge(os, old.(*api.PersistentVolumeClaim).GetSpec())
		nr, or := ns.GetResources().GetRequests()["storage"], os.GetResources().GetRequests()["storage"]
		if nq, oq, ok := parseBoth(nr, or); ok && nq.Cmp(oq) < 0 {
			e.invalid("spec.resources.requests[storage]", nr, "may not be less than the previous request %s", or)
		}
		// Everything but the requests, and a volumeName binding an unbound claim, is fixed.
		ns.Resources, os.Resources = nil, nil
		if os.GetVolumeName() == "" {
			ns.VolumeName = ""
		}
		if !proto.Equal(ns, os) {
			e.forbidden("spec", "is immutable after creation except resources.requests and volumeName")
		}
	case *api.PersistentVolume:
		ns, os := o.GetSpec(), old.(*api.PersistentVolume).GetSpec()
		e.immutableMsg("spec.hostPath", ns.GetHostPath(), os.GetHostPath())
		e.immutableMsg("spec.local", ns.GetLocal(), os.GetLocal())
		e.immutableMsg("spec.flexVolume", ns.GetFlexVolume(), os.GetFlexVolume())
	case *api.ConfigMap:
		oc := old.(*api.ConfigMap)
		if oc.GetImmutable() {
			if !o.GetImmutable() {
				e.forbidden("immutable", "may not be unset once true")
			}
			if !proto.Equal(&api.ConfigMap{Data: o.GetData(), BinaryData: o.GetBinaryData()}, &api.ConfigMap{Data: oc.GetData(), BinaryData: oc.GetBinaryData()}) {
				e.forbidden("data", "may not change when immutable is true")
			}
		}
	case *api.Secret:
		oc := old.(*api.Secret)
		e.immutable("type", o.GetType(), oc.GetType())
		if oc.GetImmutable() {
			if !o.GetImmutable() {
				e.forbidden("immutable", "may not be unset once true")
			}
			if !proto.Equal(&api.Secret{Data: o.GetData(), StringData: o.GetStringData()}, &api.Secret{Data: oc.GetData(), StringData: oc.GetStringData()}) {
				e.forbidden("data", "may not change when immutable is true")
			}
		}
	case *api.StorageClass:
		oc := old.(*api.StorageClass)
		e.immutable("provisioner", o.GetProvisioner(), oc.GetProvisioner())
		if !proto.Equal(&api.StorageClass{Parameters: o.GetParameters()}, &api.StorageClass{Parameters: oc.GetParameters()}) {
			e.forbidden("parameters", "may not change after creation")
		}
		if oc.ReclaimPolicy != nil {
			e.immutable("reclaimPolicy", o.GetReclaimPolicy(), oc.GetReclaimPolicy())
		}
	case *api.RoleBinding:
		e.immutableMsg("roleRef", o.GetRoleRef(), old.(*api.RoleBinding).GetRoleRef())
	case *api.ClusterRoleBinding:
		e.immutableMsg("roleRef", o.GetRoleRef(), old.(*api.ClusterRoleBinding).GetRoleRef())
	case *api.PriorityClass:
		e.immutable("value", o.GetValue(), old.(*api.PriorityClass).GetValue())
	}
	e.list = append(e.list, validate(obj)...)
	if len(e.list) > 0 {
		return e.list
	}
	return nil
}

func (e *errs) immutable(p path, now, was any) {
	if now != was {
		e.invalid(p, now, "field is immutable (was %v)", was)
	}
}

func (e *errs) immutableMsg(p path, now, was proto.Message) {
	if !proto.Equal(now, was) {
		e.forbidden(p, "field is immutable")
	}
}
