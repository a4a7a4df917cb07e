package fake_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/fake"
)

func Example() {
	ctx := context.Background()
	rt := fake.New(fake.Config{})
	if _, err := rt.PullImage(ctx, "busybox", nil); err != nil {
		panic(err)
	}
	sb, _ := rt.RunPodSandbox(ctx, &runtime.SandboxConfig{Name: "web", Namespace: "default"})
	id, _ := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{
		Name:    "hello",
		Image:   "busybox",
		Command: fake.Command(fake.Behavior{Stdout: "hello\n", Exit: true, ExitCode: 3}),
	})
	_ = rt.StartContainer(ctx, id)

	var out bytes.Buffer
	_ = rt.Logs(ctx, id, runtime.LogOptions{Follow: true}, &out) // returns once it exited
	st, _ := rt.ContainerStatus(ctx, id)
	fmt.Printf("%s exit=%d log=%q\n", st.State, st.ExitCode, out.String())
	// Output: Exited exit=3 log="hello\n"
}
