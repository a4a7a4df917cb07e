package attachdetach_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/attachdetach"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/volumebinding"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/fake"
)

// A pod using a claim bound to an attachable volume gets the volume
// attached to its node (a VolumeAttachment, after one failed attempt that
// is recorded and retried); deleting the pod detaches it.
func TestAttachDetachFlow(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	disk := fake.New("fake.io/disk")
	reg := volume.NewRegistry(nil)
	if err := reg.Register(disk); err != nil {
		t.Fatal(err)
	}
	env := testenv.Start(t, testenv.Options{Nodes: 2, NoScheduler: true, Controllers: []string{testenv.ControllerGC}})
	if err := volumebinding.Add(env.Manager, volumebinding.Options{Plugins: reg}); err != nil {
		t.Fatal(err)
	}
	if err := attachdetach.Add(env.Manager, attachdetach.Options{Plugins: reg}); err != nil {
		t.Fatal(err)
	}
	disk.FailNext(fake.OpAttach, errors.New("controller busy"))
	objs := []api.Object{
		&api.PersistentVolume{Metadata: &api.ObjectMeta{Name: "disk-1"}, Spec: &api.PersistentVolumeSpec{
			Capacity: map[string]string{"storage": "10Gi"}, AccessModes: []string{"ReadWriteOnce"},
			FlexVolume: &api.FlexVolumeSource{Driver: "fake.io/disk"},
		}},
		&api.PersistentVolumeClaim{Metadata: &api.ObjectMeta{Name: "data", Namespace: "default"}, Spec: &api.PersistentVolumeClaimSpec{
			AccessModes: []string{"ReadWriteOnce"}, StorageClassName: new(string),
			Resources: &api.ResourceRequirements{Requests: map[string]string{"storage": "1Gi"}},
		}},
		&api.Pod{Metadata: &api.ObjectMeta{Name: "db", Namespace: "default"}, Spec: &api.PodSpec{
			NodeName:   "node-1",
			Containers: []*api.Container{{Name: "db", Image: "db", VolumeMounts: []*api.VolumeMount{{Name: "data", MountPath: "/data"}}}},
			Volumes:    []*api.Volume{{Name: "data", PersistentVolumeClaim: &api.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
		}},
	}
	for _, o := range objs {
		if _, err := env.Store.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	name := attachdetach.AttachmentName("disk-1", "node-1")
	va, err := testenv.UntilObject(ctx, env.Store, "", name, func(va *api.VolumeAttachment) bool { return va.GetStatus().GetAttached() })
	if err != nil {
		t.Fatalf("volume never attached: %v", err)
	}
	if got := va.GetStatus().GetAttachmentMetadata()[attachdetach.MetadataDevicePath]; got != "/dev/fake/disk-1" {
		t.Errorf("device path = %q", got)
	}
	if va.GetSpec().GetAttacher() != "fake.io/disk" || va.GetSpec().GetNodeName() != "node-1" {
		t.Errorf("attachment spec = %v", va.GetSpec())
	}
	if got := disk.AttachedTo("disk-1"); got != "node-1" {
		t.Fatalf("plugin says disk-1 is attached to %q, want node-1", got)
	}
	if _, err := env.Store.Delete(ctx, api.KindPod, "default", "db", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilGone(ctx, env.Store, api.KindVolumeAttachment, "", name); err != nil {
		t.Fatalf("attachment not removed: %v", err)
	}
	if got := disk.AttachedTo("disk-1"); got != "" {
		t.Fatalf("disk-1 still attached to %q after its pod went", got)
	}
}
