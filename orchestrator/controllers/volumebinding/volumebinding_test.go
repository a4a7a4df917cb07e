package volumebinding_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/volumebinding"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/local"
)

func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func start(t *testing.T, plugins *volume.Registry) *testenv.Env {
	t.Helper()
	env := testenv.Start(t, testenv.Options{Controllers: []string{testenv.ControllerGC}, NoScheduler: true})
	if err := volumebinding.Add(env.Manager, volumebinding.Options{Plugins: plugins}); err != nil {
		t.Fatal(err)
	}
	return env
}

func pv(name, size, class, policy string, modes ...string) *api.PersistentVolume {
	if len(modes) == 0 {
		modes = []string{"ReadWriteOnce"}
	}
	return &api.PersistentVolume{
		Metadata: &api.ObjectMeta{Name: name},
		Spec: &api.PersistentVolumeSpec{
			Capacity: map[string]string{"storage": size}, AccessModes: modes, StorageClassName: class,
			PersistentVolumeReclaimPolicy: policy,
			HostPath:                      &api.HostPathVolumeSource{Path: "/srv/" + name},
		},
	}
}

func claim(name, size string, class *string, modes ...string) *api.PersistentVolumeClaim {
	if len(modes) == 0 {
		modes = []string{"ReadWriteOnce"}
	}
	return &api.PersistentVolumeClaim{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &api.PersistentVolumeClaimSpec{
			AccessModes: modes, StorageClassName: class,
			Resources: &api.ResourceRequirements{Requests: map[string]string{"storage": size}},
		},
	}
}

func ptr[T any](v T) *T { return &v }

func create(ctx context.Context, t *testing.T, s store.Store, objs ...api.Object) {
	t.Helper()
	for _, o := range objs {
		if _, err := s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
}

func boundTo(ctx context.Context, t *testing.T, s store.Store, claimName string) string {
	t.Helper()
	c, err := testenv.UntilObject(ctx, s, "default", claimName, func(c *api.PersistentVolumeClaim) bool {
		return c.GetStatus().GetPhase() == volumebinding.ClaimBound
	})
	if err != nil {
		t.Fatalf("claim %s never bound: %v", claimName, err)
	}
	v := c.GetSpec().GetVolumeName()
	if _, err := testenv.UntilObject(ctx, s, "", v, func(pv *api.PersistentVolume) bool {
		return pv.GetStatus().GetPhase() == volumebinding.VolumeBound && pv.GetSpec().GetClaimRef().GetName() == claimName
	}); err != nil {
		t.Fatalf("volume %s not bound to %s: %v", v, claimName, err)
	}
	return v
}

// available waits until n volumes are Available: the controller has seen
// them, so a claim created next chooses among all of them.
func available(ctx context.Context, t *testing.T, s store.Store, n int) {
	t.Helper()
	if err := testenv.UntilTyped(ctx, s, store.ListOptions{}, func(pvs []*api.PersistentVolume) bool {
		c := 0
		for _, pv := range pvs {
			if pv.GetStatus().GetPhase() == volumebinding.VolumeAvailable {
				c++
			}
		}
		return c == n
	}); err != nil {
		t.Fatalf("want %d available volumes: %v", n, err)
	}
}

func phaseOf(ctx context.Context, t *testing.T, s store.Store, claimName string) string {
	t.Helper()
	c, err := testenv.UntilObject(ctx, s, "default", claimName, func(c *api.PersistentVolumeClaim) bool {
		return c.GetStatus().GetPhase() != ""
	})
	if err != nil {
		t.Fatal(err)
	}
	return c.GetStatus().GetPhase()
}

// Claims bind to the smallest volume of their class and access modes that
// is large enough, and stay pending until one fits.
func TestSmallestFitAndPending(t *testing.T) {
	ctx := timeout(t)
	env := start(t, nil)
	create(ctx, t, env.Store,
		pv("small", "1Gi", "slow", "Retain"),
		pv("medium", "5Gi", "slow", "Retain"),
		pv("large", "10Gi", "slow", "Retain"),
		pv("fast", "4Gi", "fast", "Retain"),
		pv("shared", "50Gi", "slow", "Retain", "ReadWriteMany"),
	)
	available(ctx, t, env.Store, 5)
	create(ctx, t, env.Store, claim("db", "3Gi", ptr("slow")))
	if got := boundTo(ctx, t, env.Store, "db"); got != "medium" {
		t.Fatalf("3Gi claim bound to %s, want medium (smallest fit)", got)
	}
	create(ctx, t, env.Store, claim("huge", "20Gi", ptr("slow")))
	if got := phaseOf(ctx, t, env.Store, "huge"); got != volumebinding.ClaimPending {
		t.Fatalf("20Gi claim is %s, want Pending (only a ReadWriteMany volume is that large)", got)
	}
	create(ctx, t, env.Store, claim("many", "20Gi", ptr("slow"), "ReadWriteMany"))
	if got := boundTo(ctx, t, env.Store, "many"); got != "shared" {
		t.Fatalf("ReadWriteMany claim bound to %s, want shared", got)
	}
	// A volume that fits arrives: the pending claim binds to it.
	create(ctx, t, env.Store, pv("xl", "30Gi", "slow", "Retain"))
	if got := boundTo(ctx, t, env.Store, "huge"); got != "xl" {
		t.Fatalf("pending claim bound to %s, want xl", got)
	}
	available(ctx, t, env.Store, 3) // small, large and fast are left
	create(ctx, t, env.Store, claim("next", "1Gi", ptr("slow")))
	if got := boundTo(ctx, t, env.Store, "next"); got != "small" {
		t.Fatalf("1Gi claim bound to %s, want small", got)
	}
}

// Deleting the claim of a Retain volume leaves it Released, data kept.
func TestRetainOnRelease(t *testing.T) {
	ctx := timeout(t)
	env := start(t, nil)
	create(ctx, t, env.Store, pv("keep", "1Gi", "", "Retain"), claim("c", "1Gi", ptr("")))
	boundTo(ctx, t, env.Store, "c")
	if _, err := env.Store.Delete(ctx, api.KindPersistentVolumeClaim, "default", "c", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "", "keep", func(pv *api.PersistentVolume) bool {
		return pv.GetStatus().GetPhase() == volumebinding.VolumeReleased
	}); err != nil {
		t.Fatalf("volume not released: %v", err)
	}
	// A released volume is not handed to a new claim.
	create(ctx, t, env.Store, claim("c2", "1Gi", ptr("")))
	if got := phaseOf(ctx, t, env.Store, "c2"); got != volumebinding.ClaimPending {
		t.Fatalf("new claim is %s, want Pending", got)
	}
}

// A claim naming a StorageClass gets a volume from its provisioner (the real
// local one, a directory); deleting the claim deletes the volume and its
// directory (reclaim policy Delete).
func TestDynamicProvisioningAndDelete(t *testing.T) {
	ctx := timeout(t)
	base := t.TempDir()
	prov, err := local.New(local.Config{BaseDir: base, NodeName: "node-0"})
	if err != nil {
		t.Fatal(err)
	}
	reg := volume.NewRegistry(nil)
	if err := reg.Register(prov); err != nil {
		t.Fatal(err)
	}
	env := start(t, reg)
	create(ctx, t, env.Store, &api.StorageClass{
		Metadata:      &api.ObjectMeta{Name: "local", Annotations: map[string]string{volumebinding.AnnotationDefaultClass: "true"}},
		Provisioner:   local.DefaultName,
		ReclaimPolicy: ptr("Delete"),
	})
	// No class named: the default class applies.
	create(ctx, t, env.Store, claim("data", "2Gi", nil))
	name := boundTo(ctx, t, env.Store, "data")
	pvObj, err := store.For[*api.PersistentVolume](env.Store).Get(ctx, "", name)
	if err != nil {
		t.Fatal(err)
	}
	dir := pvObj.GetSpec().GetLocal().GetPath()
	if filepath.Dir(dir) != base {
		t.Fatalf("volume path %q not under %q", dir, base)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("provisioned directory: %v", err)
	}
	if pvObj.GetSpec().GetCapacity()["storage"] != "2Gi" || pvObj.GetSpec().GetStorageClassName() != "local" {
		t.Errorf("provisioned volume spec = %v", pvObj.GetSpec())
	}
	if _, err := env.Store.Delete(ctx, api.KindPersistentVolumeClaim, "default", "data", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilGone(ctx, env.Store, api.KindPersistentVolume, "", name); err != nil {
		t.Fatalf("volume not deleted: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("directory %s still there after reclaim: %v", dir, err)
	}
}
