package volume_test

import (
	"fmt"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
)

func TestReferences(t *testing.T) {
	pod := &api.Pod{
		Metadata: &api.ObjectMeta{Name: "p", Namespace: "ns"},
		Spec: &api.PodSpec{
			Volumes: []*api.Volume{
				{Name: "a", ConfigMap: &api.ConfigMapVolumeSource{Name: "cm1"}},
				{Name: "b", Secret: &api.SecretVolumeSource{SecretName: "s1"}},
				{Name: "c", PersistentVolumeClaim: &api.PersistentVolumeClaimVolumeSource{ClaimName: "data"}},
				{Name: "d", Projected: &api.ProjectedVolumeSource{Sources: []*api.VolumeProjection{{ConfigMap: &api.ConfigMapVolumeSource{Name: "cm2"}}, {Secret: &api.SecretVolumeSource{SecretName: "s1"}}}}},
				{Name: "e", FlexVolume: &api.FlexVolumeSource{Driver: "x", SecretRef: &api.LocalObjectReference{Name: "flex"}}},
				{Name: "f", EmptyDir: &api.EmptyDirVolumeSource{}},
			},
			InitContainers: []*api.Container{{Name: "init", EnvFrom: []*api.EnvFromSource{{SecretRef: &api.SecretEnvSource{Name: "init-s"}}}}},
			Containers: []*api.Container{{
				Name:    "main",
				Env:     []*api.EnvVar{{Name: "X", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{Name: "cm3", Key: "k"}}}},
				EnvFrom: []*api.EnvFromSource{{ConfigMapRef: &api.ConfigMapEnvSource{Name: "cm1"}}},
			}},
			ImagePullSecrets: []*api.LocalObjectReference{{Name: "pull"}},
		},
	}
	got := fmt.Sprint(volume.References(pod))
	want := "[{ConfigMap ns cm1} {ConfigMap ns cm2} {ConfigMap ns cm3} {PersistentVolumeClaim ns data} {Secret ns flex} {Secret ns init-s} {Secret ns pull} {Secret ns s1}]"
	if got != want {
		t.Fatalf("References =\n%s\nwant\n%s", got, want)
	}
	tests := []struct {
		kind, ns, name string
		want           bool
	}{
		{api.KindConfigMap, "ns", "cm2", true},
		{api.KindSecret, "ns", "s1", true},
		{api.KindSecret, "other", "s1", false},
		{api.KindConfigMap, "ns", "s1", false},
	}
	for _, tt := range tests {
		if got := volume.Uses(pod, tt.kind, tt.ns, tt.name); got != tt.want {
			t.Errorf("Uses(%s %s/%s) = %v", tt.kind, tt.ns, tt.name, got)
		}
	}
}
