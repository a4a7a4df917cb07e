package local_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/local"
)

func claim(size string, modes ...string) *api.PersistentVolumeClaim {
	return &api.PersistentVolumeClaim{
		Metadata: &api.ObjectMeta{Name: "data", Namespace: "default"},
		Spec: &api.PersistentVolumeClaimSpec{
			AccessModes: modes,
			Resources:   &api.ResourceRequirements{Requests: map[string]string{"storage": size}},
		},
	}
}

func class(policy string) *api.StorageClass {
	c := &api.StorageClass{Metadata: &api.ObjectMeta{Name: "local"}, Provisioner: local.DefaultName}
	if policy != "" {
		c.ReclaimPolicy = &policy
	}
	return c
}

func newProvisioner(t *testing.T) (*local.Provisioner, string) {
	t.Helper()
	base := filepath.Join(t.TempDir(), "pvs")
	p, err := local.New(local.Config{BaseDir: base, NodeName: "node-1"})
	if err != nil {
		t.Fatal(err)
	}
	return p, base
}

func TestProvisionDelete(t *testing.T) {
	ctx := t.Context()
	p, base := newProvisioner(t)
	reg := volume.NewRegistry(nil)
	if err := reg.Register(p); err != nil {
		t.Fatal(err)
	}
	prov, err := reg.FindProvisioner(class("").GetProvisioner())
	if err != nil {
		t.Fatal(err)
	}
	pv, err := prov.Provision(ctx, volume.ProvisionRequest{Claim: claim("1Gi", "ReadWriteOnce"), Class: class(""), VolumeName: "pvc-123"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "pvc-123")
	spec := pv.GetSpec()
	checks := []struct {
		name      string
		got, want any
	}{
		{"name", pv.GetMetadata().GetName(), "pvc-123"},
		{"capacity", spec.GetCapacity()["storage"], "1Gi"},
		{"modes", fmt.Sprint(spec.GetAccessModes()), "[ReadWriteOnce]"},
		{"policy", spec.GetPersistentVolumeReclaimPolicy(), "Delete"},
		{"class", spec.GetStorageClassName(), "local"},
		{"path", spec.GetLocal().GetPath(), dir},
		{"affinity", spec.GetNodeAffinity().GetRequired().GetNodeSelectorTerms()[0].GetMatchExpressions()[0].GetValues()[0], "node-1"},
		{"annotation", pv.GetMetadata().GetAnnotations()[local.AnnotationProvisionedBy], local.DefaultName},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if info, err := os.Stat(dir); err != nil || !info.IsDir() || info.Mode().Perm() != 0o777 {
		t.Fatalf("volume dir: %v %v", info, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Provisioning again (a retry after a crash) reuses the directory.
	if _, err := p.Provision(ctx, volume.ProvisionRequest{Claim: claim("1Gi"), Class: class(""), VolumeName: "pvc-123"}); err != nil {
		t.Fatalf("second Provision: %v", err)
	}
	if err := p.Recycle(ctx, pv); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("recycled volume has %d entries", len(entries))
	}
	if err := p.Delete(ctx, pv); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("volume dir after Delete: %v", err)
	}
	if err := p.Delete(ctx, pv); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
}

func TestProvisionRetainPolicy(t *testing.T) {
	p, _ := newProvisioner(t)
	pv, err := p.Provision(t.Context(), volume.ProvisionRequest{Claim: claim("500Mi"), Class: class("Retain"), VolumeName: "v"})
	if err != nil {
		t.Fatal(err)
	}
	if got := pv.GetSpec().GetPersistentVolumeReclaimPolicy(); got != "Retain" {
		t.Fatalf("policy = %q", got)
	}
}

func TestProvisionInvalid(t *testing.T) {
	p, _ := newProvisioner(t)
	other := class("")
	other.Provisioner = "someone.else/nfs"
	tests := []struct {
		name string
		req  volume.ProvisionRequest
		want error
	}{
		{"no size", volume.ProvisionRequest{Claim: claim(""), Class: class(""), VolumeName: "v"}, volume.ErrInvalidSpec},
		{"bad size", volume.ProvisionRequest{Claim: claim("lots"), Class: class(""), VolumeName: "v"}, volume.ErrInvalidSpec},
		{"zero size", volume.ProvisionRequest{Claim: claim("0"), Class: class(""), VolumeName: "v"}, volume.ErrInvalidSpec},
		{"escaping name", volume.ProvisionRequest{Claim: claim("1Gi"), Class: class(""), VolumeName: "../etc"}, volume.ErrInvalidSpec},
		{"empty name", volume.ProvisionRequest{Claim: claim("1Gi"), Class: class(""), VolumeName: ""}, volume.ErrInvalidSpec},
		{"other provisioner", volume.ProvisionRequest{Claim: claim("1Gi"), Class: other, VolumeName: "v"}, volume.ErrInvalidSpec},
		{"many nodes", volume.ProvisionRequest{Claim: claim("1Gi", "ReadWriteMany"), Class: class(""), VolumeName: "v"}, volume.ErrNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := p.Provision(t.Context(), tt.req); !errors.Is(err, tt.want) {
				t.Fatalf("Provision = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestDeleteRefusesForeignVolumes(t *testing.T) {
	p, base := newProvisioner(t)
	outside := t.TempDir()
	tests := map[string]*api.PersistentVolume{
		"not ours": {Metadata: &api.ObjectMeta{Name: "x"}, Spec: &api.PersistentVolumeSpec{Local: &api.LocalVolumeSource{Path: filepath.Join(base, "x")}}},
		"outside base": {
			Metadata: &api.ObjectMeta{Name: "x", Annotations: map[string]string{local.AnnotationProvisionedBy: local.DefaultName}},
			Spec:     &api.PersistentVolumeSpec{Local: &api.LocalVolumeSource{Path: outside}},
		},
		"the base itself": {
			Metadata: &api.ObjectMeta{Name: "x", Annotations: map[string]string{local.AnnotationProvisionedBy: local.DefaultName}},
			Spec:     &api.PersistentVolumeSpec{Local: &api.LocalVolumeSource{Path: base + "/x/.."}},
		},
	}
	for name, pv := range tests {
		t.Run(name, func(t *testing.T) {
			if err := p.Delete(t.Context(), pv); err == nil {
				t.Fatal("Delete succeeded")
			}
		})
	}
	if _, err := os.Stat(outside); err != nil {
		t.Fatalf("outside dir removed: %v", err)
	}
	if _, err := os.Stat(base); err != nil {
		t.Fatalf("base dir removed: %v", err)
	}
}

func TestConfig(t *testing.T) {
	if _, err := local.New(local.Config{BaseDir: "relative", NodeName: "n"}); !errors.Is(err, volume.ErrInvalidSpec) {
		t.Fatalf("relative base: %v", err)
	}
	if _, err := local.New(local.Config{BaseDir: t.TempDir()}); !errors.Is(err, volume.ErrInvalidSpec) {
		t.Fatalf("no node: %v", err)
	}
}

func ExampleProvisioner_Provision() {
	base, _ := os.MkdirTemp("", "pvs")
	defer os.RemoveAll(base)
	p, _ := local.New(local.Config{BaseDir: base, NodeName: "node-1"})
	pv, err := p.Provision(context.Background(), volume.ProvisionRequest{
		Claim:      claim("10Gi", "ReadWriteOnce"),
		Class:      &api.StorageClass{Metadata: &api.ObjectMeta{Name: "local"}, Provisioner: local.DefaultName},
		VolumeName: "pvc-data",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pv.GetMetadata().GetName(), pv.GetSpec().GetCapacity()["storage"], filepath.Base(pv.GetSpec().GetLocal().GetPath()))
	// Output: pvc-data 10Gi pvc-data
}
