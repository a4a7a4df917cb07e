package volume_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/fake"
)

func TestRegistry(t *testing.T) {
	reg := volume.NewRegistry(nil)
	a, b := fake.New("a"), fake.New("b")
	for _, p := range []volume.Plugin{a, b} {
		if err := reg.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		setup   func() error
		wantErr error
	}{
		{name: "duplicate", setup: func() error { return reg.Register(fake.New("a")) }, wantErr: volume.ErrDuplicate},
		{name: "bad name", setup: func() error { return reg.Register(fake.New("x~y")) }, wantErr: volume.ErrInvalidSpec},
		{name: "dot element", setup: func() error { return reg.Register(fake.New("x/../y")) }, wantErr: volume.ErrInvalidSpec},
		{name: "slash name", setup: func() error { return reg.Register(fake.New("vendor.io/thing")) }},
		{name: "empty name", setup: func() error { return reg.Register(fake.New("")) }, wantErr: volume.ErrInvalidSpec},
		{name: "no plugin", setup: func() error {
			_, err := reg.Find(volume.SpecFromVolume(&api.Volume{Name: "v", FlexVolume: &api.FlexVolumeSource{Driver: "c"}}))
			return err
		}, wantErr: volume.ErrNoPlugin},
		{name: "found", setup: func() error {
			p, err := reg.Find(volume.SpecFromVolume(&api.Volume{Name: "v", FlexVolume: &api.FlexVolumeSource{Driver: "b"}}))
			if err == nil && p != b {
				t.Errorf("Find returned %q, want b", p.Name())
			}
			return err
		}},
		{name: "unknown provisioner", setup: func() error { _, err := reg.FindProvisioner("zzz"); return err }, wantErr: volume.ErrNoPlugin},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.setup()
			if tt.wantErr == nil && err != nil {
				t.Fatalf("err = %v", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestRegistryPodLifecycle(t *testing.T) {
	ctx := t.Context()
	reg := volume.NewRegistry(nil)
	// A name with a slash exercises the escaped directory name.
	p := fake.New("vendor.io/fake")
	if err := reg.Register(p); err != nil {
		t.Fatal(err)
	}
	pod := &api.Pod{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &api.PodSpec{Volumes: []*api.Volume{
			{Name: "one", FlexVolume: &api.FlexVolumeSource{Driver: "vendor.io/fake", Options: map[string]string{"k": "1"}}},
			{Name: "two", FlexVolume: &api.FlexVolumeSource{Driver: "vendor.io/fake"}},
		}},
	}
	podDir := t.TempDir()
	paths, err := reg.SetUpPod(ctx, pod, podDir)
	if err != nil {
		t.Fatal(err)
	}
	if want := volume.VolumeDir(podDir, "vendor.io/fake", "one"); paths["one"] != want {
		t.Fatalf("path of one = %q, want %q", paths["one"], want)
	}
	if _, err := os.Stat(filepath.Join(podDir, "volumes", "vendor.io~fake", "one")); err != nil {
		t.Fatalf("escaped plugin dir: %v", err)
	}
	// An orphan left by a plugin nobody registered is reported, not removed.
	orphan := volume.VolumeDir(podDir, "gone", "x")
	if err := os.MkdirAll(orphan, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := reg.TearDownPod(ctx, podDir); !errors.Is(err, volume.ErrNoPlugin) {
		t.Fatalf("TearDownPod with an unknown plugin dir = %v, want ErrNoPlugin", err)
	}
	if _, err := os.Stat(orphan); err != nil {
		t.Fatalf("orphan removed: %v", err)
	}
	if got := p.MountedDirs(); len(got) != 0 {
		t.Fatalf("still set up: %v", got)
	}
	if err := os.RemoveAll(filepath.Join(podDir, "volumes", "gone")); err != nil {
		t.Fatal(err)
	}
	if err := reg.TearDownPod(ctx, podDir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(podDir, "volumes")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("volumes dir left: %v", err)
	}
}
