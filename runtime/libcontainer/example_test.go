package libcontainer_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"

	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
)

// Example runs a pod with one busybox container and reads its log. It needs
// root, so it is compiled but not run by `go test`; the package's tests run
// the same steps. The program's main package must call libcontainer.Init
// from an init function (see the package documentation).
func Example() {
	ctx := context.Background()
	stateDir, err := os.MkdirTemp("", "coxswain-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(stateDir)
	rt, err := libcontainer.New(libcontainer.Config{StateDir: stateDir})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := rt.PullImage(ctx, "docker.io/library/busybox:1.36", nil); err != nil {
		log.Fatal(err)
	}
	sb, err := rt.RunPodSandbox(ctx, &runtime.SandboxConfig{Name: "hello", Namespace: "default", Labels: map[string]string{"owner": "example"}})
	if err != nil {
		log.Fatal(err)
	}
	defer rt.RemovePodSandbox(ctx, sb)
	id, err := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{
		Name:      "greeter",
		Image:     "docker.io/library/busybox:1.36",
		Command:   []string{"sh", "-c", "echo hello from $(hostname)"},
		Resources: runtime.Resources{MemoryLimit: 64 << 20, CPUShares: 512},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		log.Fatal(err)
	}
	var out bytes.Buffer
	if err := rt.Logs(ctx, id, runtime.LogOptions{Follow: true}, &out); err != nil { // until it exits
		log.Fatal(err)
	}
	st, err := rt.ContainerStatus(ctx, id)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s (exit %d): %s", st.State, st.ExitCode, out.String())
}
