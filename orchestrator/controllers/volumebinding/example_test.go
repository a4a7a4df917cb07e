package volumebinding_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/volumebinding"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

// A 3Gi claim binds to the smallest volume that holds it.
func ExampleAdd() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	env, err := testenv.New(ctx, testenv.Options{NoScheduler: true})
	if err != nil {
		panic(err)
	}
	defer env.Stop()
	if err := volumebinding.Add(env.Manager, volumebinding.Options{}); err != nil {
		panic(err)
	}
	for name, size := range map[string]string{"pv-2g": "2Gi", "pv-5g": "5Gi", "pv-50g": "50Gi"} {
		if _, err := env.Store.Create(ctx, &api.PersistentVolume{
			Metadata: &api.ObjectMeta{Name: name},
			Spec: &api.PersistentVolumeSpec{Capacity: map[string]string{"storage": size}, AccessModes: []string{"ReadWriteOnce"},
				HostPath: &api.HostPathVolumeSource{Path: "/srv/" + name}},
		}); err != nil {
			panic(err)
		}
	}
	// Wait until the controller has seen every volume (it marks them
	// Available), so the claim chooses among all three.
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{}, func(pvs []*api.PersistentVolume) bool {
		n := 0
		for _, pv := range pvs {
			if pv.GetStatus().GetPhase() == volumebinding.VolumeAvailable {
				n++
			}
		}
		return n == 3
	}); err != nil {
		panic(err)
	}
	noClass := ""
	if _, err := env.Store.Create(ctx, &api.PersistentVolumeClaim{
		Metadata: &api.ObjectMeta{Name: "db", Namespace: "default"},
		Spec: &api.PersistentVolumeClaimSpec{AccessModes: []string{"ReadWriteOnce"}, StorageClassName: &noClass,
			Resources: &api.ResourceRequirements{Requests: map[string]string{"storage": "3Gi"}}},
	}); err != nil {
		panic(err)
	}
	c, err := testenv.UntilObject(ctx, env.Store, "default", "db", func(c *api.PersistentVolumeClaim) bool {
		return c.GetStatus().GetPhase() == volumebinding.ClaimBound
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(c.GetSpec().GetVolumeName(), c.GetStatus().GetCapacity()["storage"])
	// Output:
	// pv-5g 5Gi
}
