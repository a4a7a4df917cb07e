package validation_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/validation"
)

func TestDefault(t *testing.T) {
	d := deployment()
	d.Spec.Replicas = nil
	d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers,
		&api.Container{Name: "side", Image: "busybox", LivenessProbe: &api.Probe{HttpGet: &api.HTTPGetAction{Port: intOrInt(8080)}}},
		&api.Container{Name: "pinned", Image: "registry:5000/app@sha256:abc"})
	d.Spec.Template.Spec.Volumes = append(d.Spec.Template.Spec.Volumes, &api.Volume{Name: "cfg", ConfigMap: &api.ConfigMapVolumeSource{Name: "cfg"}})
	validation.Default(d)
	s := d.GetSpec()
	ps := s.GetTemplate().GetSpec()
	cs := ps.GetContainers()
	svc := &api.Service{Metadata: &api.ObjectMeta{Name: "web"}, Spec: &api.ServiceSpec{Ports: []*api.ServicePort{{Port: 80}, {Port: 443, TargetPort: intOrStr("https"), Protocol: "UDP"}}}}
	validation.Default(svc)
	job := &api.Job{Spec: &api.JobSpec{Template: &api.PodTemplateSpec{Spec: &api.PodSpec{}}}}
	validation.Default(job)
	cj := &api.CronJob{Spec: &api.CronJobSpec{JobTemplate: &api.JobTemplateSpec{}}}
	validation.Default(cj)
	sec := &api.Secret{StringData: map[string]string{"a": "b"}}
	validation.Default(sec)
	rc := &api.ReplicationController{Spec: &api.ReplicationControllerSpec{Template: &api.PodTemplateSpec{Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "x"}}}}}
	validation.Default(rc)
	ds := &api.DaemonSet{}
	validation.Default(ds)
	hpa := &api.HorizontalPodAutoscaler{}
	validation.Default(hpa)

	checks := []struct {
		name      string
		got, want any
	}{
		{"replicas", s.GetReplicas(), int32(1)},
		{"strategy", s.GetStrategy().GetType(), "RollingUpdate"},
		{"maxSurge", s.GetStrategy().GetRollingUpdate().GetMaxSurge().GetStrVal(), "25%"},
		{"maxUnavailable", s.GetStrategy().GetRollingUpdate().GetMaxUnavailable().GetStrVal(), "25%"},
		{"revisionHistoryLimit", s.GetRevisionHistoryLimit(), int32(10)},
		{"progressDeadlineSeconds", s.GetProgressDeadlineSeconds(), int32(600)},
		{"restartPolicy", ps.GetRestartPolicy(), "Always"},
		{"dnsPolicy", ps.GetDnsPolicy(), "ClusterFirst"},
		{"grace", ps.GetTerminationGracePeriodSeconds(), int64(30)},
		{"schedulerName", ps.GetSchedulerName(), "default-scheduler"},
		{"pull tagged", cs[0].GetImagePullPolicy(), "IfNotPresent"},
		{"pull untagged", cs[1].GetImagePullPolicy(), "Always"},
		{"pull digest", cs[2].GetImagePullPolicy(), "IfNotPresent"},
		{"port protocol", cs[0].GetPorts()[0].GetProtocol(), "TCP"},
		{"probe period", cs[1].GetLivenessProbe().GetPeriodSeconds(), int32(10)},
		{"probe failure", cs[1].GetLivenessProbe().GetFailureThreshold(), int32(3)},
		{"probe path", cs[1].GetLivenessProbe().GetHttpGet().GetPath(), "/"},
		{"termination path", cs[0].GetTerminationMessagePath(), "/dev/termination-log"},
		{"configMap mode", ps.GetVolumes()[1].GetConfigMap().GetDefaultMode(), int32(0o644)},
		{"svc type", svc.GetSpec().GetType(), "ClusterIP"},
		{"svc affinity", svc.GetSpec().GetSessionAffinity(), "None"},
		{"svc targetPort", svc.GetSpec().GetPorts()[0].GetTargetPort().GetIntVal(), int32(80)},
		{"svc protocol", svc.GetSpec().GetPorts()[0].GetProtocol(), "TCP"},
		{"svc named targetPort kept", svc.GetSpec().GetPorts()[1].GetTargetPort().GetStrVal(), "https"},
		{"svc protocol kept", svc.GetSpec().GetPorts()[1].GetProtocol(), "UDP"},
		{"job completions", job.GetSpec().GetCompletions(), int32(1)},
		{"job parallelism", job.GetSpec().GetParallelism(), int32(1)},
		{"job backoff", job.GetSpec().GetBackoffLimit(), int32(6)},
		{"job restartPolicy not defaulted", job.GetSpec().GetTemplate().GetSpec().GetRestartPolicy(), ""},
		{"job dnsPolicy", job.GetSpec().GetTemplate().GetSpec().GetDnsPolicy(), "ClusterFirst"},
		{"cron policy", cj.GetSpec().GetConcurrencyPolicy(), "Allow"},
		{"cron ok history", cj.GetSpec().GetSuccessfulJobsHistoryLimit(), int32(3)},
		{"cron failed history", cj.GetSpec().GetFailedJobsHistoryLimit(), int32(1)},
		{"cron job backoff", cj.GetSpec().GetJobTemplate().GetSpec().GetBackoffLimit(), int32(6)},
		{"secret type", sec.GetType(), "Opaque"},
		{"secret stringData", string(sec.GetData()["a"]), "b"},
		{"rc selector", rc.GetSpec().GetSelector()["app"], "x"},
		{"rc labels", rc.GetMetadata().GetLabels()["app"], "x"},
		{"rc replicas", rc.GetSpec().GetReplicas(), int32(1)},
		{"ds strategy", ds.GetSpec().GetUpdateStrategy().GetRollingUpdate().GetMaxUnavailable().GetIntVal(), int32(1)},
		{"hpa min", hpa.GetSpec().GetMinReplicas(), int32(1)},
		{"hpa metric", hpa.GetSpec().GetMetrics()[0].GetResource().GetTarget().GetAverageUtilization(), int32(80)},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if err := validation.ValidateObject(d); err != nil {
		t.Errorf("defaulted deployment invalid: %v", err)
	}
}

func TestDefaultIsIdempotentAndKeepsValues(t *testing.T) {
	d := deployment()
	d.Spec.Replicas = proto.Int32(0)
	d.Spec.Strategy = &api.DeploymentStrategy{Type: "Recreate"}
	validation.Default(d)
	once := proto.Clone(d)
	validation.Default(d)
	if !proto.Equal(once, d) {
		t.Error("second Default changed the object")
	}
	if d.GetSpec().GetReplicas() != 0 || d.GetSpec().GetStrategy().GetRollingUpdate() != nil {
		t.Errorf("Default overwrote set values: %v", d.GetSpec())
	}
	for _, k := range api.BuiltinKinds() {
		obj := k.New()
		validation.Default(obj) // must not panic on empty objects
		again := proto.Clone(obj)
		validation.Default(obj)
		if !proto.Equal(again, obj) {
			t.Errorf("%s: Default not idempotent", k.Kind)
		}
	}
}
