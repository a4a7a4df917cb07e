package api

import "sync"

// Kind names of the built-in kinds.
const (
	KindPod                     = "Pod"
	KindNode                    = "Node"
	KindNamespace               = "Namespace"
	KindService                 = "Service"
	KindEndpoints               = "Endpoints"
	KindConfigMap               = "ConfigMap"
	KindSecret                  = "Secret"
	KindEvent                   = "Event"
	KindPersistentVolume        = "PersistentVolume"
	KindPersistentVolumeClaim   = "PersistentVolumeClaim"
	KindResourceQuota           = "ResourceQuota"
	KindLimitRange              = "LimitRange"
	KindReplicationController   = "ReplicationController"
	KindReplicaSet              = "ReplicaSet"
	KindDeployment              = "Deployment"
	KindDaemonSet               = "DaemonSet"
	KindControllerRevision      = "ControllerRevision"
	KindJob                     = "Job"
	KindCronJob                 = "CronJob"
	KindHorizontalPodAutoscaler = "HorizontalPodAutoscaler"
	KindPodDisruptionBudget     = "PodDisruptionBudget"
	KindStorageClass            = "StorageClass"
	KindVolumeAttachment        = "VolumeAttachment"
	KindIngress                 = "Ingress"
	KindLease                   = "Lease"
	KindPriorityClass           = "PriorityClass"
	KindRole                    = "Role"
	KindRoleBinding             = "RoleBinding"
	KindClusterRole             = "ClusterRole"
	KindClusterRoleBinding      = "ClusterRoleBinding"
)

// BuiltinKinds returns the KindInfo of every built-in kind.
func BuiltinKinds() []KindInfo {
	ns, cl := Namespaced, ClusterScoped
	return []KindInfo{
		{APIVersion: "v1", Kind: KindPod, Scope: ns, New: func() Object { return &Pod{} }},
		{APIVersion: "v1", Kind: KindNode, Scope: cl, New: func() Object { return &Node{} }},
		{APIVersion: "v1", Kind: KindNamespace, Scope: cl, New: func() Object { return &Namespace{} }},
		{APIVersion: "v1", Kind: KindService, Scope: ns, New: func() Object { return &Service{} }},
		{APIVersion: "v1", Kind: KindEndpoints, Resource: "endpoints", Scope: ns, New: func() Object { return &Endpoints{} }},
		{APIVersion: "v1", Kind: KindConfigMap, Scope: ns, New: func() Object { return &ConfigMap{} }},
		{APIVersion: "v1", Kind: KindSecret, Scope: ns, New: func() Object { return &Secret{} }},
		{APIVersion: "v1", Kind: KindEvent, Scope: ns, New: func() Object { return &Event{} }},
		{APIVersion: "v1", Kind: KindPersistentVolume, Scope: cl, New: func() Object { return &PersistentVolume{} }},
		{APIVersion: "v1", Kind: KindPersistentVolumeClaim, Scope: ns, New: func() Object { return &PersistentVolumeClaim{} }},
		{APIVersion: "v1", Kind: KindResourceQuota, Scope: ns, New: func() Object { return &ResourceQuota{} }},
		{APIVersion: "v1", Kind: KindLimitRange, Scope: ns, New: func() Object { return &LimitRange{} }},
		{APIVersion: "v1", Kind: KindReplicationController, Scope: ns, New: func() Object { return &ReplicationController{} }},
		{APIVersion: "apps/v1", Kind: KindReplicaSet, Scope: ns, New: func() Object { return &ReplicaSet{} }},
		{APIVersion: "apps/v1", Kind: KindDeployment, Scope: ns, New: func() Object { return &Deployment{} }},
		{APIVersion: "apps/v1", Kind: KindDaemonSet, Scope: ns, New: func() Object { return &DaemonSet{} }},
		{APIVersion: "apps/v1", Kind: KindControllerRevision, Scope: ns, New: func() Object { return &ControllerRevision{} }},
		{APIVersion: "batch/v1", Kind: KindJob, Scope: ns, New: func() Object { return &Job{} }},
		{APIVersion: "batch/v1", Kind: KindCronJob, Scope: ns, New: func() Object { return &CronJob{} }},
		{APIVersion: "autoscaling/v2", Kind: KindHorizontalPodAutoscaler, Scope: ns, New: func() Object { return &HorizontalPodAutoscaler{} }},
		{APIVersion: "policy/v1", Kind: KindPodDisruptionBudget, Scope: ns, New: func() Object { return &PodDisruptionBudget{} }},
		{APIVersion: "storage.k8s.io/v1", Kind: KindStorageClass, Scope: cl, New: func() Object { return &StorageClass{} }},
		{APIVersion: "storage.k8s.io/v1", Kind: KindVolumeAttachment, Scope: cl, New: func() Object { return &VolumeAttachment{} }},
		{APIVersion: "networking.k8s.io/v1", Kind: KindIngress, Scope: ns, New: func() Object { return &Ingress{} }},
		{APIVersion: "coordination.k8s.io/v1", Kind: KindLease, Scope: ns, New: func() Object { return &Lease{} }},
		{APIVersion: "scheduling.k8s.io/v1", Kind: KindPriorityClass, Scope: cl, New: func() Object { return &PriorityClass{} }},
		{APIVersion: "rbac.authorization.k8s.io/v1", Kind: KindRole, Scope: ns, New: func() Object { return &Role{} }},
		{APIVersion: "rbac.authorization.k8s.io/v1", Kind: KindRoleBinding, Scope: ns, New: func() Object { return &RoleBinding{} }},
		{APIVersion: "rbac.authorization.k8s.io/v1", Kind: KindClusterRole, Scope: cl, New: func() Object { return &ClusterRole{} }},
		{APIVersion: "rbac.authorization.k8s.io/v1", Kind: KindClusterRoleBinding, Scope: cl, New: func() Object { return &ClusterRoleBinding{} }},
	}
}

// NewBuiltinRegistry returns a new registry holding every built-in kind, to
// which a program may add its own kinds.
func NewBuiltinRegistry() *Registry {
	r := NewRegistry()
	for _, k := range BuiltinKinds() {
		r.MustRegister(k)
	}
	return r
}

var builtin = sync.OnceValue(NewBuiltinRegistry)

// Builtin returns a shared, read-only-by-convention registry of the built-in
// kinds. Programs with custom kinds build their own with NewBuiltinRegistry.
func Builtin() *Registry { return builtin() }
