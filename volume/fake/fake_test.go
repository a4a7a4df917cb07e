package fake_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/fake"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

func TestConformance(t *testing.T) {
	p := fake.New("fake")
	opts := map[string]string{"size": "1Gi"}
	vol := &api.Volume{Name: "data", FlexVolume: &api.FlexVolumeSource{Driver: "fake", Options: opts}}
	volumetest.Run(t, volumetest.Case{
		Plugin: p,
		Volume: vol,
		Check: func(t *testing.T, path string) {
			b, err := os.ReadFile(filepath.Join(path, "size"))
			if err != nil || string(b) != "1Gi" {
				t.Fatalf("size file = %q, %v", b, err)
			}
		},
		Change: func(t *testing.T) { opts["size"] = "2Gi" },
		Reset:  func(t *testing.T) { opts["size"] = "1Gi" },
		CheckUpdated: func(t *testing.T, path string) {
			b, err := os.ReadFile(filepath.Join(path, "size"))
			if err != nil || string(b) != "2Gi" {
				t.Fatalf("size file after update = %q, %v", b, err)
			}
		},
	})
	if got := p.MountedDirs(); len(got) != 0 {
		t.Fatalf("dirs still set up after the suite: %v", got)
	}
}

func TestFacets(t *testing.T) {
	ctx := t.Context()
	p := fake.New("fake")
	boom := errors.New("boom")

	spec := volume.SpecFromVolume(&api.Volume{Name: "v", FlexVolume: &api.FlexVolumeSource{Driver: "fake"}})
	if _, err := p.Attach(ctx, spec, "n1"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Attach(ctx, spec, "n2"); !errors.Is(err, volume.ErrNotReady) {
		t.Fatalf("attach to second node = %v, want ErrNotReady", err)
	}
	if err := p.Detach(ctx, "v", "n1"); err != nil {
		t.Fatal(err)
	}
	if got := p.AttachedTo("v"); got != "" {
		t.Fatalf("attached to %q after detach", got)
	}

	claim := &api.PersistentVolumeClaim{Spec: &api.PersistentVolumeClaimSpec{
		AccessModes: []string{"ReadWriteOnce"},
		Resources:   &api.ResourceRequirements{Requests: map[string]string{"storage": "1Gi"}},
	}}
	class := &api.StorageClass{Metadata: &api.ObjectMeta{Name: "fast"}, Provisioner: "fake"}
	p.FailNext(fake.OpProvision, boom)
	if _, err := p.Provision(ctx, volume.ProvisionRequest{Claim: claim, Class: class, VolumeName: "pv-1"}); !errors.Is(err, boom) {
		t.Fatalf("injected failure = %v", err)
	}
	pv, err := p.Provision(ctx, volume.ProvisionRequest{Claim: claim, Class: class, VolumeName: "pv-1"})
	if err != nil {
		t.Fatal(err)
	}
	if pv.GetSpec().GetCapacity()["storage"] != "1Gi" || pv.GetSpec().GetPersistentVolumeReclaimPolicy() != "Delete" || pv.GetSpec().GetStorageClassName() != "fast" {
		t.Fatalf("provisioned PV = %v", pv)
	}
	if !p.CanSupport(volume.SpecFromPersistentVolume(pv, false)) {
		t.Fatal("fake does not support the PV it provisioned")
	}
	reg := volume.NewRegistry(nil)
	if err := reg.Register(p); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.FindProvisioner("fake"); err != nil {
		t.Fatalf("FindProvisioner: %v", err)
	}
	if err := p.Delete(ctx, pv); err != nil {
		t.Fatal(err)
	}
	if got := p.Provisioned(); len(got) != 0 {
		t.Fatalf("provisioned after delete: %v", got)
	}
}
