package volume

import (
	"sort"

	"github.com/coxswain-io/coxswain/api"
)

// ObjectRef names an object a pod depends on.
type ObjectRef struct {
	Kind, Namespace, Name string
}

// References returns the ConfigMaps, Secrets and PersistentVolumeClaims a
// pod's volumes and its containers' environments refer to, sorted and
// without duplicates. The agent uses it to decide which pods to update
// (Registry.UpdatePod) when one of those objects changes.
func References(pod *api.Pod) []ObjectRef {
	ns := pod.GetMetadata().GetNamespace()
	set := map[ObjectRef]bool{}
	add := func(kind, name string) {
		if name != "" {
			set[ObjectRef{Kind: kind, Namespace: ns, Name: name}] = true
		}
	}
	for _, v := range pod.GetSpec().GetVolumes() {
		add(api.KindConfigMap, v.GetConfigMap().GetName())
		add(api.KindSecret, v.GetSecret().GetSecretName())
		add(api.KindPersistentVolumeClaim, v.GetPersistentVolumeClaim().GetClaimName())
		add(api.KindSecret, v.GetFlexVolume().GetSecretRef().GetName())
		for _, s := range v.GetProjected().GetSources() {
			add(api.KindConfigMap, s.GetConfigMap().GetName())
			add(api.KindSecret, s.GetSecret().GetSecretName())
		}
	}
	containers := append(append([]*api.Container(nil), pod.GetSpec().GetInitContainers()...), pod.GetSpec().GetContainers()...)
	for _, c := range containers {
		for _, e := range c.GetEnv() {
			add(api.KindConfigMap, e.GetValueFrom().GetConfigMapKeyRef().GetName())
			add(api.KindSecret, e.GetValueFrom().GetSecretKeyRef().GetName())
		}
		for _, f := range c.GetEnvFrom() {
			add(api.KindConfigMap, f.GetConfigMapRef().GetName())
			add(api.KindSecret, f.GetSecretRef().GetName())
		}
	}
	for _, s := range pod.GetSpec().GetImagePullSecrets() {
		add(api.KindSecret, s.GetName())
	}
	out := make([]ObjectRef, 0, len(set))
	for r := range set {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out
}

// Uses reports whether pod refers to the object kind/namespace/name.
func Uses(pod *api.Pod, kind, namespace, name string) bool {
	want := ObjectRef{Kind: kind, Namespace: namespace, Name: name}
	for _, r := range References(pod) {
		if r == want {
			return true
		}
	}
	return false
}
