package flex_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/flex"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

// installDriver copies the test driver into a fresh directory under name
// and returns its path; the driver logs its calls to calls.log there.
func installDriver(t *testing.T, name string) string {
	t.Helper()
	src, err := os.ReadFile("testdata/driver.sh")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, src, 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func calls(t *testing.T, driver string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(driver), "calls.log"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func load(t *testing.T, path string, objs volume.ObjectGetter) volume.Mounter {
	t.Helper()
	p, err := flex.Load(t.Context(), flex.Config{Driver: "vendor.io/test", Path: path, Objects: objs, Mounter: volume.Linux{}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func readOptions(t *testing.T, dir string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "options.json"))
	if err != nil {
		t.Fatal(err)
	}
	var opts map[string]string
	if err := json.Unmarshal(b, &opts); err != nil {
		t.Fatal(err)
	}
	return opts
}

func TestConformance(t *testing.T) {
	objs := volumetest.NewObjects(&api.Secret{Metadata: &api.ObjectMeta{Name: "nfs-creds", Namespace: "default"}, Data: map[string][]byte{"password": []byte("pw")}})
	path := installDriver(t, "driver")
	volumetest.Run(t, volumetest.Case{
		Plugin: load(t, path, objs),
		Volume: &api.Volume{Name: "share", FlexVolume: &api.FlexVolumeSource{
			Driver: "vendor.io/test", FsType: "ext4", ReadOnly: true,
			SecretRef: &api.LocalObjectReference{Name: "nfs-creds"},
			Options:   map[string]string{"server": "10.0.0.1"},
		}},
		Check: func(t *testing.T, dir string) {
			opts := readOptions(t, dir)
			want := map[string]string{
				"server":                             "10.0.0.1",
				flex.OptionFSType:                    "ext4",
				flex.OptionReadWrite:                 "ro",
				flex.OptionVolumeName:                "share",
				flex.OptionPodName:                   "pod",
				flex.OptionPodNamespace:              "default",
				flex.OptionSecretPrefix + "password": base64.StdEncoding.EncodeToString([]byte("pw")),
			}
			for k, v := range want {
				if opts[k] != v {
					t.Errorf("option %s = %q, want %q", k, opts[k], v)
				}
			}
		},
	})
	got := calls(t, path)
	if got[0] != "init" || !contains(got, "mount") || !contains(got, "unmount") {
		t.Fatalf("driver calls = %v", got)
	}
}

func TestConformanceTmpfs(t *testing.T) {
	volumetest.RequireRoot(t)
	volumetest.Run(t, volumetest.Case{
		Plugin: load(t, installDriver(t, "driver"), nil),
		Volume: &api.Volume{Name: "mem", FlexVolume: &api.FlexVolumeSource{Driver: "vendor.io/test", Options: map[string]string{"tmpfs": "true"}}},
		Check: func(t *testing.T, dir string) {
			if fs, err := volume.FSType(dir); err != nil || fs != volume.FSTmpfs {
				t.Fatalf("driver-mounted volume on %q (%v), want tmpfs", fs, err)
			}
		},
	})
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestAttach(t *testing.T) {
	ctx := t.Context()
	p := load(t, installDriver(t, "driver"), nil)
	a, ok := p.(volume.Attacher)
	if !ok {
		t.Fatalf("driver with attach capability loaded as %T, not an Attacher", p)
	}
	spec := volume.SpecFromVolume(&api.Volume{Name: "disk", FlexVolume: &api.FlexVolumeSource{Driver: "vendor.io/test"}})
	dev, err := a.Attach(ctx, spec, "node-1")
	if err != nil || dev != "/dev/flex-test" {
		t.Fatalf("Attach = %q, %v", dev, err)
	}
	if err := a.Detach(ctx, "disk", "node-1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Detach(ctx, "busy", "node-1"); !errors.Is(err, flex.ErrDriver) || !strings.Contains(err.Error(), "volume busy") {
		t.Fatalf("Detach(busy) = %v, want ErrDriver with the driver's message", err)
	}

	noattach := load(t, installDriver(t, "noattach"), nil)
	if _, ok := noattach.(volume.Attacher); ok {
		t.Fatal("driver without attach capability is an Attacher")
	}
}

func TestDriverErrors(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		path string
		want error
	}{
		{"garbage output", script("garbage", `echo hello`), flex.ErrDriver},
		{"failure", script("failure", `echo '{"status":"Failure","message":"no"}'; exit 1`), flex.ErrDriver},
		{"success but exit 1", script("liar", `echo '{"status":"Success"}'; exit 1`), flex.ErrDriver},
		{"not supported", script("unsupported", `echo '{"status":"Not supported"}'; exit 1`), volume.ErrNotSupported},
		{"missing binary", filepath.Join(dir, "nope"), flex.ErrDriver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := flex.Load(t.Context(), flex.Config{Driver: "d", Path: tt.path, Mounter: volume.Linux{}})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Load = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestSecretRefNeedsObjects(t *testing.T) {
	p := load(t, installDriver(t, "driver"), nil)
	_, err := p.SetUp(t.Context(), volume.MountRequest{
		Pod:  &api.Pod{Metadata: &api.ObjectMeta{Name: "p", Namespace: "default"}},
		Spec: volume.SpecFromVolume(&api.Volume{Name: "v", FlexVolume: &api.FlexVolumeSource{Driver: "vendor.io/test", SecretRef: &api.LocalObjectReference{Name: "s"}}}),
		Dir:  filepath.Join(t.TempDir(), "v"),
	})
	if !errors.Is(err, volume.ErrInvalidSpec) {
		t.Fatalf("SetUp = %v, want ErrInvalidSpec", err)
	}
}
