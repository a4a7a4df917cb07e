package volume_test

import (
	"context"
	"fmt"
	"os"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/fake"
)

func ExampleRegistry() {
	ctx := context.Background()
	reg := volume.NewRegistry(nil)
	p := fake.New("vendor.io/fake")
	if err := reg.Register(p); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(reg.Register(fake.New("vendor.io/fake")))

	pod := &api.Pod{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec: &api.PodSpec{Volumes: []*api.Volume{
			{Name: "data", FlexVolume: &api.FlexVolumeSource{Driver: "vendor.io/fake", Options: map[string]string{"motd": "hi"}}},
		}},
	}
	podDir, _ := os.MkdirTemp("", "pod")
	defer os.RemoveAll(podDir)

	paths, _ := reg.SetUpPod(ctx, pod, podDir)
	motd, _ := os.ReadFile(paths["data"] + "/motd")
	fmt.Println(string(motd), len(p.MountedDirs()))
	fmt.Println(reg.TearDownPod(ctx, podDir), len(p.MountedDirs()))
	// Output:
	// register plugin "vendor.io/fake": duplicate plugin
	// hi 1
	// <nil> 0
}
