package validation

import (
	"strings"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
)

// Default values, as Kubernetes fills them.
const (
	// DefaultSchedulerName is the scheduler pods use unless they name another.
	DefaultSchedulerName = "default-scheduler"
	// DefaultTerminationGracePeriodSeconds is a pod's grace period on deletion.
	DefaultTerminationGracePeriodSeconds = 30
	// DefaultTerminationMessagePath is where a container may write why it ended.
	DefaultTerminationMessagePath = "/dev/termination-log"
	// DefaultVolumeMode is the file mode of projected files (0644).
	DefaultVolumeMode = 0o644
)

// Default fills obj's unset fields with their defaults, in place. It is
// idempotent, never overwrites a value that is set, and leaves kinds it does
// not know alone.
func Default(obj api.Object) {
	switch o := obj.(type) {
	case *api.Pod:
		if o.Spec == nil {
			o.Spec = &api.PodSpec{}
		}
		defaultPodSpec(o.Spec)
	case *api.Service:
		if o.Spec == nil {
			o.Spec = &api.ServiceSpec{}
		}
		defaultService(o.Spec)
	case *api.Endpoints:
		for _, s := range o.GetSubsets() {
			if s == nil {
				continue
			}
			for _, p := range s.GetPorts() {
				if p == nil {
					continue
				}
				if p.Protocol == "" {
					p.Protocol = "TCP"
				}
			}
		}
	case *api.Secret:
		if o.Type == "" {
			o.Type = "Opaque"
		}
		// Like the API server, fold stringData into data.
		if len(o.StringData) > 0 {
			if o.Data == nil {
				o.Data = map[string][]byte{}
			}
			for k, v := range o.StringData {
				o.Data[k] = []byte(v)
			}
			o.StringData = nil
		}
	case *api.PersistentVolume:
		if o.Spec == nil {
			o.Spec = &api.PersistentVolumeSpec{}
		}
		if o.Spec.PersistentVolumeReclaimPolicy == "" {
			o.Spec.PersistentVolumeReclaimPolicy = "Retain"
		}
		if o.Spec.VolumeMode == "" {
			o.Spec.VolumeMode = "Filesystem"
		}
	case *api.PersistentVolumeClaim:
		if o.Spec == nil {
			o.Spec = &api.PersistentVolumeClaimSpec{}
		}
		if o.Spec.VolumeMode == "" {
			o.Spec.VolumeMode = "Filesystem"
		}
	case *api.ReplicationController:
		if o.Spec == nil {
			o.Spec = &api.ReplicationControllerSpec{}
		}
		s := o.Spec
		if s.Replicas == nil {
			s.Replicas = proto.Int32(1)
		}
		defaultTemplate(s.Template)
		if tl := s.GetTemplate().GetMetadata().GetLabels(); len(tl) > 0 {
			if len(s.Selector) == 0 {
				s.Selector = copyMap(tl)
			}
			if md := api.Meta(o); len(md.Labels) == 0 {
				md.Labels = copyMap(tl)
			}
		}
	case *api.ReplicaSet:
		if o.Spec == nil {
			o.Spec = &api.ReplicaSetSpec{}
		}
		if o.Spec.Replicas == nil {
			o.Spec.Replicas = proto.Int32(1)
		}
		defaultTemplate(o.Spec.Template)
	case *api.Deployment:
		if o.Spec == nil {
			o.Spec = &api.DeploymentSpec{}
		}
		defaultDeployment(o.Spec)
	case *api.DaemonSet:
		if o.Spec == nil {
			o.Spec = &api.DaemonSetSpec{}
		}
		s := o.Spec
		if s.UpdateStrategy == nil {
			s.UpdateStrategy = &api.DaemonSetUpdateStrategy{}
		}
		if s.UpdateStrategy.Type == "" {
			s.UpdateStrategy.Type = "RollingUpdate"
		}
		if s.UpdateStrategy.Type == "RollingUpdate" {
			if s.UpdateStrategy.RollingUpdate == nil {
				s.UpdateStrategy.RollingUpdate = &api.RollingUpdateDaemonSet{}
			}
			ru := s.UpdateStrategy.RollingUpdate
			if ru.MaxUnavailable == nil {
				ru.MaxUnavailable = intVal(1)
			}
			if ru.MaxSurge == nil {
				ru.MaxSurge = intVal(0)
			}
		}
		if s.RevisionHistoryLimit == nil {
			s.RevisionHistoryLimit = proto.Int32(10)
		}
		defaultTemplate(s.Template)
	case *api.Job:
		if o.Spec == nil {
			o.Spec = &api.JobSpec{}
		}
		defaultJob(o.Spec)
	case *api.CronJob:
		if o.Spec == nil {
			o.Spec = &api.CronJobSpec{}
		}
		s := o.Spec
		if s.ConcurrencyPolicy == "" {
			s.ConcurrencyPolicy = "Allow"
		}
		if s.Suspend == nil {
			s.Suspend = proto.Bool(false)
		}
		if s.SuccessfulJobsHistoryLimit == nil {
			s.SuccessfulJobsHistoryLimit = proto.Int32(3)
		}
		if s.FailedJobsHistoryLimit == nil {
			s.FailedJobsHistoryLimit = proto.Int32(1)
		}
		if s.JobTemplate != nil {
			if s.JobTemplate.Spec == nil {
				s.JobTemplate.Spec = &api.JobSpec{}
			}
			defaultJob(s.JobTemplate.Spec)
		}
	case *api.HorizontalPodAutoscaler:
		if o.Spec == nil {
			o.Spec = &api.HorizontalPodAutoscalerSpec{}
		}
		s := o.Spec
		if s.MinReplicas == nil {
			s.MinReplicas = proto.Int32(1)
		}
		if len(s.Metrics) == 0 && s.TargetCpuUtilizationPercentage == nil {
			s.Metrics = []*api.MetricSpec{{
				Type: "Resource",
				Resource: &api.ResourceMetricSource{
					Name:   "cpu",
					Target: &api.MetricTarget{Type: "Utilization", AverageUtilization: proto.Int32(80)},
				},
			}}
		}
		for _, r := range []*api.HPAScalingRules{s.GetBehavior().GetScaleUp(), s.GetBehavior().GetScaleDown()} {
			if r == nil {
				continue
			}
			if r != nil && r.SelectPolicy == "" {
				r.SelectPolicy = "Max"
			}
		}
	case *api.StorageClass:
		if o.ReclaimPolicy == nil {
			o.ReclaimPolicy = proto.String("Delete")
		}
		if o.VolumeBindingMode == nil {
			o.VolumeBindingMode = proto.String("Immediate")
		}
	case *api.PriorityClass:
		if o.PreemptionPolicy == nil {
			o.PreemptionPolicy = proto.String("PreemptLowerPriority")
		}
	case *api.ControllerRevision:
		defaultTemplate(o.Template)
	case *api.RoleBinding:
		defaultSubjects(o.Subjects)
	case *api.ClusterRoleBinding:
		defaultSubjects(o.Subjects)
	}
}

func defaultSubjects(subjects []*api.Subject) {
	for _, s := range subjects {
		if s == nil {
			continue
		}
		if (s.Kind == "User" || s.Kind == "Group") && s.ApiGroup == "" {
			s.ApiGroup = "rbac.authorization.k8s.io"
		}
	}
}

func intVal(v int32) *api.IntOrString {
	return &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: v}}
}

func strVal(s string) *api.IntOrString {
	return &api.IntOrString{Value: &api.IntOrString_StrVal{StrVal: s}}
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func defaultDeployment(s *api.DeploymentSpec) {
	if s.Replicas == nil {
		s.Replicas = proto.Int32(1)
	}
	if s.Strategy == nil {
		s.Strategy = &api.DeploymentStrategy{}
	}
	if s.Strategy.Type == "" {
		s.Strategy.Type = "RollingUpdate"
	}
	if s.Strategy.Type == "RollingUpdate" {
		if s.Strategy.RollingUpdate == nil {
			s.Strategy.RollingUpdate = &api.RollingUpdateDeployment{}
		}
		ru := s.Strategy.RollingUpdate
		if ru.MaxUnavailable == nil {
			ru.MaxUnavailable = strVal("25%")
		}
		if ru.MaxSurge == nil {
			ru.MaxSurge = strVal("25%")
		}
	}
	if s.RevisionHistoryLimit == nil {
		s.RevisionHistoryLimit = proto.Int32(10)
	}
	if s.ProgressDeadlineSeconds == nil {
		s.ProgressDeadlineSeconds = proto.Int32(600)
	}
	defaultTemplate(s.Template)
}

func defaultJob(s *api.JobSpec) {
	if s.Completions == nil && s.Parallelism == nil {
		s.Completions = proto.Int32(1)
		s.Parallelism = proto.Int32(1)
	}
	if s.Parallelism == nil {
		s.Parallelism = proto.Int32(1)
	}
	if s.BackoffLimit == nil {
		s.BackoffLimit = proto.Int32(6)
	}
	if s.CompletionMode == "" {
		s.CompletionMode = "NonIndexed"
	}
	if s.Suspend == nil {
		s.Suspend = proto.Bool(false)
	}
	// A Job's pods need restartPolicy OnFailure or Never; like Kubernetes,
	// no default is chosen for them and validation asks for one.
	if t := s.Template; t != nil {
		if t.Spec == nil {
			t.Spec = &api.PodSpec{}
		}
		rp := t.Spec.RestartPolicy
		t.Spec.RestartPolicy = "Never" // keep defaultPodSpec from choosing Always
		defaultPodSpec(t.Spec)
		t.Spec.RestartPolicy = rp
	}
}

func defaultTemplate(t *api.PodTemplateSpec) {
	if t == nil {
		return
	}
	if t.Spec == nil {
		t.Spec = &api.PodSpec{}
	}
	defaultPodSpec(t.Spec)
}

func defaultPodSpec(s *api.PodSpec) {
	if s.RestartPolicy == "" {
		s.RestartPolicy = "Always"
	}
	if s.DnsPolicy == "" {
		s.DnsPolicy = "ClusterFirst"
	}
	if s.TerminationGracePeriodSeconds == 0 {
		s.TerminationGracePeriodSeconds = DefaultTerminationGracePeriodSeconds
	}
	if s.SchedulerName == "" {
		s.SchedulerName = DefaultSchedulerName
	}
	for _, c := range s.InitContainers {
		if c == nil {
			continue
		}
		defaultContainer(c)
	}
	for _, c := range s.Containers {
		if c == nil {
			continue
		}
		defaultContainer(c)
	}
	for _, v := range s.Volumes {
		if v == nil {
			continue
		}
		if cm := v.ConfigMap; cm != nil && cm.DefaultMode == nil {
			cm.DefaultMode = proto.Int32(DefaultVolumeMode)
		}
		if sec := v.Secret; sec != nil && sec.DefaultMode == nil {
			sec.DefaultMode = proto.Int32(DefaultVolumeMode)
		}
		if d := v.DownwardApi; d != nil && d.DefaultMode == nil {
			d.DefaultMode = proto.Int32(DefaultVolumeMode)
		}
		if p := v.Projected; p != nil && p.DefaultMode == nil {
			p.DefaultMode = proto.Int32(DefaultVolumeMode)
		}
	}
	for _, t := range s.Tolerations {
		if t == nil {
			continue
		}
		if t.Operator == "" {
			t.Operator = "Equal"
		}
	}
}

func defaultContainer(c *api.Container) {
	if c.ImagePullPolicy == "" {
		c.ImagePullPolicy = pullPolicyFor(c.Image)
	}
	if c.TerminationMessagePath == "" {
		c.TerminationMessagePath = DefaultTerminationMessagePath
	}
	for _, p := range c.Ports {
		if p == nil {
			continue
		}
		if p.Protocol == "" {
			p.Protocol = "TCP"
		}
	}
	for _, p := range []*api.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if p == nil {
			continue
		}
		defaultProbe(p)
	}
	if lc := c.Lifecycle; lc != nil {
		for _, h := range []*api.LifecycleHandler{lc.PostStart, lc.PreStop} {
			if h == nil {
				continue
			}
			if h != nil {
				defaultHTTPGet(h.HttpGet)
			}
		}
	}
	for _, e := range c.Env {
		if e == nil {
			continue
		}
		if f := e.GetValueFrom().GetFieldRef(); f != nil && f.ApiVersion == "" {
			f.ApiVersion = "v1"
		}
	}
}

// pullPolicyFor returns Always for an image with no tag or the tag latest
// (and no digest), IfNotPresent otherwise.
func pullPolicyFor(image string) string {
	if strings.Contains(image, "@") {
		return "IfNotPresent"
	}
	name := image
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	tag := ""
	if i := strings.LastIndex(name, ":"); i >= 0 {
		tag = name[i+1:]
	}
	if tag == "" || tag == "latest" {
		return "Always"
	}
	return "IfNotPresent"
}

func defaultProbe(p *api.Probe) {
	if p == nil {
		return
	}
	if p.TimeoutSeconds == 0 {
		p.TimeoutSeconds = 1
	}
	if p.PeriodSeconds == 0 {
		p.PeriodSeconds = 10
	}
	if p.SuccessThreshold == 0 {
		p.SuccessThreshold = 1
	}
	if p.FailureThreshold == 0 {
		p.FailureThreshold = 3
	}
	defaultHTTPGet(p.HttpGet)
}

func defaultHTTPGet(h *api.HTTPGetAction) {
	if h == nil {
		return
	}
	if h.Path == "" {
		h.Path = "/"
	}
	if h.Scheme == "" {
		h.Scheme = "HTTP"
	}
}

func defaultService(s *api.ServiceSpec) {
	if s.Type == "" {
		s.Type = "ClusterIP"
	}
	if s.SessionAffinity == "" {
		s.SessionAffinity = "None"
	}
	if s.SessionAffinity == "ClientIP" {
		if s.SessionAffinityConfig == nil {
			s.SessionAffinityConfig = &api.SessionAffinityConfig{}
		}
		if s.SessionAffinityConfig.ClientIp == nil {
			s.SessionAffinityConfig.ClientIp = &api.ClientIPConfig{}
		}
		if s.SessionAffinityConfig.ClientIp.TimeoutSeconds == 0 {
			s.SessionAffinityConfig.ClientIp.TimeoutSeconds = 10800
		}
	}
	if s.Type != "ExternalName" && s.InternalTrafficPolicy == "" {
		s.InternalTrafficPolicy = "Cluster"
	}
	if (s.Type == "NodePort" || s.Type == "LoadBalancer") && s.ExternalTrafficPolicy == "" {
		s.ExternalTrafficPolicy = "Cluster"
	}
	for _, p := range s.Ports {
		if p == nil {
			continue
		}
		if p.Protocol == "" {
			p.Protocol = "TCP"
		}
		if p.TargetPort == nil || p.TargetPort.Value == nil {
			p.TargetPort = intVal(p.Port)
		}
	}
}
