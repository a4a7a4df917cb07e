package fake_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/fake"
)

func setup(t *testing.T, cfg fake.Config) (*fake.Runtime, string, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	rt := fake.New(cfg)
	if _, err := rt.PullImage(ctx, "img", nil); err != nil {
		t.Fatal(err)
	}
	sb, err := rt.RunPodSandbox(ctx, &runtime.SandboxConfig{Name: "p", Namespace: "ns"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.RemovePodSandbox(context.Background(), sb) })
	return rt, sb, ctx
}

func waitExited(t *testing.T, rt *fake.Runtime, id string) *runtime.ContainerStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, err := rt.ContainerStatus(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if st.State == runtime.ContainerExited {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s is %s", id, st.State)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestScriptCrashLoop(t *testing.T) {
	rt, sb, ctx := setup(t, fake.Config{})
	rt.Script("app",
		fake.Behavior{Stdout: "boot 1\n", Exit: true, ExitCode: 1},
		fake.Behavior{Stdout: "boot 2\n", Exit: true, ExitCode: 2},
		fake.Behavior{Stdout: "ok\n"},
	)
	want := []struct {
		state runtime.ContainerState
		code  int
	}{{runtime.ContainerExited, 1}, {runtime.ContainerExited, 2}, {runtime.ContainerRunning, 0}, {runtime.ContainerRunning, 0}}
	for attempt, w := range want {
		id, err := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "app", Attempt: uint32(attempt), Image: "img", Command: []string{"anything"}})
		if err != nil {
			t.Fatal(err)
		}
		if err := rt.StartContainer(ctx, id); err != nil {
			t.Fatal(err)
		}
		var st *runtime.ContainerStatus
		if w.state == runtime.ContainerExited {
			st = waitExited(t, rt, id)
		} else if st, err = rt.ContainerStatus(ctx, id); err != nil {
			t.Fatal(err)
		}
		if st.State != w.state || st.ExitCode != w.code {
			t.Fatalf("attempt %d: %s exit %d, want %s exit %d", attempt, st.State, st.ExitCode, w.state, w.code)
		}
	}
}

func TestFailNext(t *testing.T) {
	rt, sb, ctx := setup(t, fake.Config{})
	boom := errors.New("boom")
	rt.FailNext(fake.OpCreateContainer, boom)
	cfg := &runtime.ContainerConfig{Name: "c", Image: "img", Command: []string{"x"}}
	if _, err := rt.CreateContainer(ctx, sb, cfg); !errors.Is(err, boom) {
		t.Fatalf("first create: got %v, want the injected error", err)
	}
	if _, err := rt.CreateContainer(ctx, sb, cfg); err != nil {
		t.Fatalf("second create: %v", err)
	}
}

func TestStartLatency(t *testing.T) {
	rt, sb, ctx := setup(t, fake.Config{StartLatency: 50 * time.Millisecond})
	id, err := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "c", Image: "img", Command: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Fatalf("StartContainer took %v, want at least the configured latency", took)
	}
}

func TestImages(t *testing.T) {
	ctx := context.Background()
	rt := fake.New(fake.Config{Images: map[string]runtime.ImageConfig{
		"busybox": {Entrypoint: []string{"sh"}, Env: []string{"PATH=/bin"}},
	}})
	if _, err := rt.PullImage(ctx, "nginx", nil); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("pull of an unknown image: %v", err)
	}
	img, err := rt.PullImage(ctx, "busybox", nil)
	if err != nil || img.Config.Entrypoint[0] != "sh" {
		t.Fatalf("PullImage = %+v, %v", img, err)
	}
	if err := rt.RemoveImage(ctx, img.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := rt.ImageStatus(ctx, "busybox"); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("status after remove: %v", err)
	}
}

func TestExecTTYMergesOutput(t *testing.T) {
	rt, sb, ctx := setup(t, fake.Config{})
	id, err := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "c", Image: "img", Command: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	code, err := rt.Exec(ctx, id, runtime.ExecRequest{
		Cmd: fake.Command(fake.Behavior{Stdout: "a\n", Stderr: "b\n", Exit: true, ExitCode: 1}), Stdout: &out, TTY: true,
	})
	if err != nil || code != 1 || out.String() != "a\nb\n" {
		t.Fatalf("Exec = %d, %q, %v", code, out.String(), err)
	}
}
