package projected_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/projected"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

func ptr(v int32) *int32 { return &v }

func objects() *volumetest.Objects {
	return volumetest.NewObjects(
		&api.ConfigMap{Metadata: &api.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"app.yaml": "v1"}},
		&api.Secret{Metadata: &api.ObjectMeta{Name: "tls", Namespace: "default"}, Data: map[string][]byte{"tls.key": []byte("KEY")}},
	)
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s|%o", b, info.Mode().Perm())
}

func TestConformance(t *testing.T) {
	volumetest.RequireRoot(t)
	objs := objects()
	vol := &api.Volume{Name: "all", Projected: &api.ProjectedVolumeSource{DefaultMode: ptr(0o440), Sources: []*api.VolumeProjection{
		{ConfigMap: &api.ConfigMapVolumeSource{Name: "cfg"}},
		{Secret: &api.SecretVolumeSource{SecretName: "tls", Items: []*api.KeyToPath{{Key: "tls.key", Path: "certs/key", Mode: ptr(0o400)}}}},
		{DownwardApi: &api.DownwardAPIVolumeSource{Items: []*api.DownwardAPIVolumeFile{{Path: "podname", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
	}}}
	volumetest.Run(t, volumetest.Case{
		Plugin: projected.New(objs, volume.Linux{}, nil),
		Volume: vol,
		Reset: func(t *testing.T) {
			objs.Set(&api.ConfigMap{Metadata: &api.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"app.yaml": "v1"}})
		},
		Check: func(t *testing.T, path string) {
			if fs, _ := volume.FSType(path); fs != volume.FSTmpfs {
				t.Fatalf("projected volume on %q, want tmpfs", fs)
			}
			for file, want := range map[string]string{"app.yaml": "v1|440", "certs/key": "KEY|400", "podname": "pod|440"} {
				if got := read(t, filepath.Join(path, file)); got != want {
					t.Errorf("%s = %q, want %q", file, got, want)
				}
			}
		},
		Change: func(t *testing.T) {
			objs.Set(&api.ConfigMap{Metadata: &api.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"app.yaml": "v2"}})
		},
		CheckUpdated: func(t *testing.T, path string) {
			if got := read(t, filepath.Join(path, "app.yaml")); got != "v2|440" {
				t.Errorf("app.yaml after update = %q", got)
			}
		},
	})
}

func TestInvalid(t *testing.T) {
	tests := map[string][]*api.VolumeProjection{
		"two sources in one": {{ConfigMap: &api.ConfigMapVolumeSource{Name: "cfg"}, Secret: &api.SecretVolumeSource{SecretName: "tls"}}},
		"empty source":       {{}},
		"same path twice": {
			{ConfigMap: &api.ConfigMapVolumeSource{Name: "cfg", Items: []*api.KeyToPath{{Key: "app.yaml", Path: "x"}}}},
			{Secret: &api.SecretVolumeSource{SecretName: "tls", Items: []*api.KeyToPath{{Key: "tls.key", Path: "x"}}}},
		},
	}
	p := projected.New(objects(), volume.Linux{}, nil)
	for name, sources := range tests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "v")
			_, err := p.SetUp(t.Context(), volume.MountRequest{
				Pod:  &api.Pod{Metadata: &api.ObjectMeta{Name: "p", Namespace: "default"}},
				Spec: volume.SpecFromVolume(&api.Volume{Name: "v", Projected: &api.ProjectedVolumeSource{Sources: sources}}),
				Dir:  dir,
			})
			if !errors.Is(err, volume.ErrInvalidSpec) {
				t.Fatalf("SetUp = %v, want ErrInvalidSpec", err)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("dir created for an invalid volume: %v", err)
			}
		})
	}
}
