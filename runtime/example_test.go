package runtime_test

import (
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/runtime"
)

func ExampleResolveCommand() {
	img := runtime.ImageConfig{Entrypoint: []string{"/docker-entrypoint.sh"}, Cmd: []string{"nginx", "-g", "daemon off;"}}
	fmt.Println(runtime.ResolveCommand(img, nil, nil))
	fmt.Println(runtime.ResolveCommand(img, nil, []string{"nginx", "-T"}))
	fmt.Println(runtime.ResolveCommand(img, []string{"/bin/sh"}, []string{"-c", "env"}))
	// Output:
	// [/docker-entrypoint.sh nginx -g daemon off;]
	// [/docker-entrypoint.sh nginx -T]
	// [/bin/sh -c env]
}

func ExampleResourcesFor() {
	res, err := runtime.ResourcesFor(&api.ResourceRequirements{
		Requests: map[string]string{"cpu": "250m", "memory": "64Mi"},
		Limits:   map[string]string{"cpu": "500m", "memory": "128Mi"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("shares=%d quota=%d/%d memory=%d\n", res.CPUShares, res.CPUQuota, res.CPUPeriod, res.MemoryLimit)
	// Output: shares=256 quota=50000/100000 memory=134217728
}
