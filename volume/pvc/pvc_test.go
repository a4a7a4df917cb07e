package pvc_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/fake"
	"github.com/coxswain-io/coxswain/volume/local"
	"github.com/coxswain-io/coxswain/volume/pvc"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

func boundClaim(name, pvName string) *api.PersistentVolumeClaim {
	return &api.PersistentVolumeClaim{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default", Uid: "claim-uid-" + name},
		Spec:     &api.PersistentVolumeClaimSpec{VolumeName: pvName, AccessModes: []string{"ReadWriteOnce"}, Resources: &api.ResourceRequirements{Requests: map[string]string{"storage": "1Gi"}}},
		Status:   &api.PersistentVolumeClaimStatus{Phase: pvc.PhaseBound},
	}
}

func bind(pv *api.PersistentVolume, c *api.PersistentVolumeClaim) *api.PersistentVolume {
	pv = api.Clone(pv)
	pv.Spec.ClaimRef = &api.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: c.Metadata.Namespace, Name: c.Metadata.Name, Uid: c.Metadata.Uid}
	pv.Status = &api.PersistentVolumeStatus{Phase: "Bound"}
	return pv
}

func hostPathPV(name, path string) *api.PersistentVolume {
	return &api.PersistentVolume{
		Metadata: &api.ObjectMeta{Name: name},
		Spec:     &api.PersistentVolumeSpec{HostPath: &api.HostPathVolumeSource{Path: path}, Capacity: map[string]string{"storage": "1Gi"}},
	}
}

func claimVolume(claim string, ro bool) *api.Volume {
	return &api.Volume{Name: "data", PersistentVolumeClaim: &api.PersistentVolumeClaimVolumeSource{ClaimName: claim, ReadOnly: ro}}
}

func TestConformance(t *testing.T) {
	volumetest.RequireRoot(t)
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "kept"), []byte("persistent"), 0o644); err != nil {
		t.Fatal(err)
	}
	c := boundClaim("data", "pv-1")
	objs := volumetest.NewObjects(c, bind(hostPathPV("pv-1", data), c))
	volumetest.Run(t, volumetest.Case{
		Plugin: pvc.New(objs, volume.Linux{}),
		Volume: claimVolume("data", false),
		Check: func(t *testing.T, path string) {
			b, err := os.ReadFile(filepath.Join(path, "kept"))
			if err != nil || string(b) != "persistent" {
				t.Fatalf("volume content = %q, %v", b, err)
			}
		},
	})
	// Tear-downs never deleted the volume's data.
	if b, err := os.ReadFile(filepath.Join(data, "kept")); err != nil || string(b) != "persistent" {
		t.Fatalf("data after the suite = %q, %v", b, err)
	}
}

// TestDataOutlivesPods provisions a local volume, lets one pod write to it,
// tears that pod down, and reads the data back from a second pod with the
// same claim; deleting the volume then removes the data.
func TestDataOutlivesPods(t *testing.T) {
	volumetest.RequireRoot(t)
	ctx := t.Context()
	prov, err := local.New(local.Config{BaseDir: filepath.Join(t.TempDir(), "pvs"), NodeName: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	c := boundClaim("db", "pvc-db")
	pv, err := prov.Provision(ctx, volume.ProvisionRequest{Claim: c, Class: &api.StorageClass{Metadata: &api.ObjectMeta{Name: "local"}}, VolumeName: "pvc-db"})
	if err != nil {
		t.Fatal(err)
	}
	objs := volumetest.NewObjects(c, bind(pv, c))
	reg := volume.NewRegistry(nil)
	if err := reg.Register(pvc.New(objs, volume.Linux{})); err != nil {
		t.Fatal(err)
	}
	pod := func(name string) *api.Pod {
		return &api.Pod{Metadata: &api.ObjectMeta{Name: name, Namespace: "default"}, Spec: &api.PodSpec{Volumes: []*api.Volume{claimVolume("db", false)}}}
	}

	dir1 := t.TempDir()
	t.Cleanup(func() { volumetest.UnmountUnder(t, dir1) })
	paths, err := reg.SetUpPod(ctx, pod("writer"), dir1)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(paths["data"], "row"), []byte("42"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := reg.TearDownPod(ctx, dir1); err != nil {
		t.Fatal(err)
	}

	dir2 := t.TempDir()
	t.Cleanup(func() { volumetest.UnmountUnder(t, dir2) })
	paths, err = reg.SetUpPod(ctx, pod("reader"), dir2)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(paths["data"], "row")); err != nil || string(b) != "42" {
		t.Fatalf("second pod reads %q, %v", b, err)
	}
	if err := reg.TearDownPod(ctx, dir2); err != nil {
		t.Fatal(err)
	}
	if err := prov.Delete(ctx, pv); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pv.GetSpec().GetLocal().GetPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("data after Delete: %v", err)
	}
}

func TestReadOnly(t *testing.T) {
	volumetest.RequireRoot(t)
	c := boundClaim("data", "pv-1")
	objs := volumetest.NewObjects(c, bind(hostPathPV("pv-1", t.TempDir()), c))
	p := pvc.New(objs, volume.Linux{})
	podDir := t.TempDir()
	t.Cleanup(func() { volumetest.UnmountUnder(t, podDir) })
	dir := volume.VolumeDir(podDir, p.Name(), "data")
	pod := &api.Pod{Metadata: &api.ObjectMeta{Name: "p", Namespace: "default"}}
	path, err := p.SetUp(t.Context(), volume.MountRequest{Pod: pod, Spec: volume.SpecFromVolume(claimVolume("data", true)), Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o644); !errors.Is(err, unix.EROFS) {
		t.Fatalf("write to read-only claim = %v, want EROFS", err)
	}
	if err := p.TearDown(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
}

func TestNotReady(t *testing.T) {
	unbound := boundClaim("pending", "")
	unbound.Status.Phase = "Pending"
	mine := boundClaim("mine", "pv-other")
	other := boundClaim("other", "pv-other")
	objs := volumetest.NewObjects(
		unbound, mine, other, bind(hostPathPV("pv-other", "/tmp"), other),
		boundClaim("nfs", "pv-nfs"),
		bind(&api.PersistentVolume{Metadata: &api.ObjectMeta{Name: "pv-nfs"}, Spec: &api.PersistentVolumeSpec{FlexVolume: &api.FlexVolumeSource{Driver: "x"}}}, boundClaim("nfs", "pv-nfs")),
		boundClaim("nopv", "pv-missing"),
	)
	p := pvc.New(objs, volume.Linux{})
	tests := []struct {
		claim string
		want  error
	}{
		{"pending", volume.ErrNotReady},
		{"mine", volume.ErrNotReady}, // the volume is bound to another claim
		{"missing", store.ErrNotFound},
		{"nopv", store.ErrNotFound},
		{"nfs", volume.ErrNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.claim, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "v")
			pod := &api.Pod{Metadata: &api.ObjectMeta{Name: "p", Namespace: "default"}}
			_, err := p.SetUp(t.Context(), volume.MountRequest{Pod: pod, Spec: volume.SpecFromVolume(claimVolume(tt.claim, false)), Dir: dir})
			if !errors.Is(err, tt.want) {
				t.Fatalf("SetUp = %v, want %v", err, tt.want)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("mount point created for a failed set-up: %v", err)
			}
		})
	}
}

// TestDelegatesOtherSources mounts a claim whose volume is a vendor's
// flexVolume through the registry's plugin for it, and tears it down
// through the same plugin.
func TestDelegatesOtherSources(t *testing.T) {
	ctx := t.Context()
	c := boundClaim("vendor", "pv-vendor")
	pv := bind(&api.PersistentVolume{
		Metadata: &api.ObjectMeta{Name: "pv-vendor"},
		Spec:     &api.PersistentVolumeSpec{FlexVolume: &api.FlexVolumeSource{Driver: "vendor.io/fake", Options: map[string]string{"export": "/vol1"}}},
	}, c)
	objs := volumetest.NewObjects(c, pv)
	reg := volume.NewRegistry(nil)
	f := fake.New("vendor.io/fake")
	for _, p := range []volume.Plugin{pvc.New(objs, volume.Linux{}, pvc.WithPlugins(reg)), f} {
		if err := reg.Register(p); err != nil {
			t.Fatal(err)
		}
	}
	pod := &api.Pod{Metadata: &api.ObjectMeta{Name: "p", Namespace: "default"}, Spec: &api.PodSpec{Volumes: []*api.Volume{claimVolume("vendor", false)}}}
	podDir := t.TempDir()
	paths, err := reg.SetUpPod(ctx, pod, podDir)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(paths["data"], "export")); err != nil || string(b) != "/vol1" {
		t.Fatalf("delegated volume content = %q, %v", b, err)
	}
	if got := f.MountedDirs(); len(got) != 1 {
		t.Fatalf("delegate set up %v", got)
	}
	if err := reg.TearDownPod(ctx, podDir); err != nil {
		t.Fatal(err)
	}
	if got := f.MountedDirs(); len(got) != 0 {
		t.Fatalf("delegate still has %v after tear-down", got)
	}
	if _, err := os.Stat(filepath.Join(podDir, "volumes")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("volumes left: %v", err)
	}

	// Without WithPlugins the same claim is not supported.
	plain := pvc.New(objs, volume.Linux{})
	if _, err := plain.SetUp(ctx, volume.MountRequest{Pod: pod, Spec: volume.SpecFromVolume(claimVolume("vendor", false)), Dir: filepath.Join(t.TempDir(), "v")}); !errors.Is(err, volume.ErrNotSupported) {
		t.Fatalf("SetUp without delegation = %v, want ErrNotSupported", err)
	}
}
