package downwardapi_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/downwardapi"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

func testPod() *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{
			Name: "web-1", Namespace: "shop", Uid: "u-123",
			Labels:      map[string]string{"app": "web", "tier": "front"},
			Annotations: map[string]string{"note": `say "hi"`},
		},
		Spec: &api.PodSpec{
			NodeName:           "node-a",
			ServiceAccountName: "sa",
			Containers: []*api.Container{{
				Name: "main",
				Resources: &api.ResourceRequirements{
					Limits:   map[string]string{"cpu": "1500m", "memory": "1Gi"},
					Requests: map[string]string{"cpu": "250m"},
				},
			}, {Name: "side"}},
		},
		Status: &api.PodStatus{PodIp: "10.0.0.7", HostIp: "192.168.1.2", PodIps: []*api.PodIP{{Ip: "10.0.0.7"}, {Ip: "fd00::7"}}},
	}
}

func TestFieldValue(t *testing.T) {
	pod := testPod()
	tests := []struct {
		path, want string
		err        bool
	}{
		{"metadata.name", "web-1", false},
		{"metadata.namespace", "shop", false},
		{"metadata.uid", "u-123", false},
		{"metadata.labels", "app=\"web\"\ntier=\"front\"", false},
		{"metadata.annotations", `note="say \"hi\""`, false},
		{"metadata.labels['app']", "web", false},
		{`metadata.labels["tier"]`, "front", false},
		{"metadata.labels['missing']", "", false},
		{"metadata.annotations['note']", `say "hi"`, false},
		{"spec.nodeName", "node-a", false},
		{"spec.serviceAccountName", "sa", false},
		{"status.podIP", "10.0.0.7", false},
		{"status.hostIP", "192.168.1.2", false},
		{"status.podIPs", "10.0.0.7,fd00::7", false},
		{"spec.containers", "", true},
		{"metadata.labels['app'", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, err := downwardapi.FieldValue(pod, tt.path)
			if tt.err {
				if !errors.Is(err, volume.ErrInvalidSpec) {
					t.Fatalf("err = %v, want ErrInvalidSpec", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("FieldValue = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestResourceValue(t *testing.T) {
	pod := testPod()
	alloc := map[string]string{"cpu": "4", "memory": "8Gi"}
	tests := []struct {
		name      string
		container string
		sel       *api.ResourceFieldSelector
		want      string
		err       bool
	}{
		{"cpu limit rounds up to cores", "main", &api.ResourceFieldSelector{Resource: "limits.cpu"}, "2", false},
		{"cpu limit millicores", "main", &api.ResourceFieldSelector{Resource: "limits.cpu", Divisor: "1m"}, "1500", false},
		{"memory limit bytes", "main", &api.ResourceFieldSelector{Resource: "limits.memory"}, "1073741824", false},
		{"memory limit Mi", "main", &api.ResourceFieldSelector{Resource: "limits.memory", Divisor: "1Mi"}, "1024", false},
		{"cpu request", "main", &api.ResourceFieldSelector{Resource: "requests.cpu", Divisor: "1m"}, "250", false},
		{"memory request falls back to limit", "main", &api.ResourceFieldSelector{Resource: "requests.memory", Divisor: "1Mi"}, "1024", false},
		{"unset limit is node allocatable", "side", &api.ResourceFieldSelector{Resource: "limits.cpu"}, "4", false},
		{"unset request is zero", "side", &api.ResourceFieldSelector{Resource: "requests.memory"}, "0", false},
		{"explicit container", "", &api.ResourceFieldSelector{ContainerName: "main", Resource: "limits.memory", Divisor: "1Gi"}, "1", false},
		{"unknown container", "nope", &api.ResourceFieldSelector{Resource: "limits.cpu"}, "", true},
		{"unknown resource", "main", &api.ResourceFieldSelector{Resource: "limits.gpu"}, "", true},
		{"bad divisor", "main", &api.ResourceFieldSelector{Resource: "limits.cpu", Divisor: "0"}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := downwardapi.ResourceValue(pod, tt.container, tt.sel, alloc)
			if tt.err {
				if !errors.Is(err, volume.ErrInvalidSpec) {
					t.Fatalf("err = %v, want ErrInvalidSpec", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ResourceValue = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestConformance(t *testing.T) {
	pod := testPod()
	vol := &api.Volume{Name: "info", DownwardApi: &api.DownwardAPIVolumeSource{Items: []*api.DownwardAPIVolumeFile{
		{Path: "name", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}},
		{Path: "labels", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.labels"}},
		{Path: "limits/mem", ResourceFieldRef: &api.ResourceFieldSelector{ContainerName: "main", Resource: "limits.memory", Divisor: "1Mi"}},
	}}}
	pod.Spec.Volumes = []*api.Volume{vol}
	read := func(t *testing.T, p string) string {
		t.Helper()
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	volumetest.Run(t, volumetest.Case{
		Plugin: downwardapi.New(nil),
		Pod:    pod,
		Volume: vol,
		Reset:  func(t *testing.T) { pod.Metadata.Labels = map[string]string{"app": "web"} },
		Check: func(t *testing.T, path string) {
			if got := read(t, filepath.Join(path, "name")); got != "web-1" {
				t.Errorf("name = %q", got)
			}
			if got := read(t, filepath.Join(path, "limits/mem")); got != "1024" {
				t.Errorf("limits/mem = %q", got)
			}
			if got := read(t, filepath.Join(path, "labels")); got != `app="web"` {
				t.Errorf("labels = %q", got)
			}
		},
		Change: func(t *testing.T) { pod.Metadata.Labels["version"] = "2" },
		CheckUpdated: func(t *testing.T, path string) {
			if got := read(t, filepath.Join(path, "labels")); got != "app=\"web\"\nversion=\"2\"" {
				t.Errorf("labels after update = %q", got)
			}
		},
	})
}

func TestInvalidItems(t *testing.T) {
	tests := map[string]*api.DownwardAPIVolumeFile{
		"neither":              {Path: "x"},
		"both":                 {Path: "x", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}, ResourceFieldRef: &api.ResourceFieldSelector{ContainerName: "main", Resource: "limits.cpu"}},
		"no container in file": {Path: "x", ResourceFieldRef: &api.ResourceFieldSelector{Resource: "limits.cpu"}},
		"bad path":             {Path: "../x", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}},
		"bad field":            {Path: "x", FieldRef: &api.ObjectFieldSelector{FieldPath: "spec"}},
	}
	for name, item := range tests {
		t.Run(name, func(t *testing.T) {
			vol := &api.Volume{Name: "v", DownwardApi: &api.DownwardAPIVolumeSource{Items: []*api.DownwardAPIVolumeFile{item}}}
			_, err := downwardapi.New(nil).SetUp(t.Context(), volume.MountRequest{Pod: testPod(), Spec: volume.SpecFromVolume(vol), Dir: filepath.Join(t.TempDir(), "v")})
			if !errors.Is(err, volume.ErrInvalidSpec) {
				t.Fatalf("SetUp = %v, want ErrInvalidSpec", err)
			}
		})
	}
}
