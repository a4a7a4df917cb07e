package libcontainer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
)

// crashHelperEnv makes the test binary act as a runtime owner that starts
// a pod and then dies by SIGKILL. Its value is a JSON crashSpec.
const crashHelperEnv = "COXSWAIN_TEST_CRASH_HELPER"

type crashSpec struct {
	StateDir   string `json:"stateDir"`
	CgroupRoot string `json:"cgroupRoot"`
	Image      string `json:"image"`
}

// crashHelper starts a sandbox and a container, prints their ids and kills
// itself without any cleanup.
func crashHelper(spec string) {
	var s crashSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "crash helper:", err)
		os.Exit(2)
	}
	rt, err := libcontainer.New(libcontainer.Config{StateDir: s.StateDir, CgroupRoot: s.CgroupRoot})
	if err != nil {
		fail(err)
	}
	ctx := context.Background()
	labels := map[string]string{"owner": "crashed-agent"}
	sb, err := rt.RunPodSandbox(ctx, &runtime.SandboxConfig{Name: "survivor", Namespace: "default", Labels: labels})
	if err != nil {
		fail(err)
	}
	id, err := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{
		Name: "main", Image: s.Image, Labels: labels,
		Command: []string{"sh", "-c", "trap 'exit 7' TERM; echo up; sleep 100000 & wait"},
	})
	if err != nil {
		fail(err)
	}
	if err := rt.StartContainer(ctx, id); err != nil {
		fail(err)
	}
	fmt.Printf("%s %s\n", sb, id)
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {}
}

// TestRecoveryAfterOwnerCrash: the process that started a pod dies; a new
// runtime over the same state finds the pod by its labels, reads its logs,
// execs into it, stops it with its real exit code (this process is a child
// subreaper, so the orphaned init is reparented here and reaped), and
// removes it leaving nothing behind.
func TestRecoveryAfterOwnerCrash(t *testing.T) {
	f := newFixture(t, nil) // New makes this process a subreaper first
	spec, err := json.Marshal(crashSpec{StateDir: f.env.stateDir, CgroupRoot: f.env.cgroupRoot, Image: f.ref})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), crashHelperEnv+"="+string(spec))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper: %v (want death by SIGKILL); stderr: %s", err, stderr.String())
	}
	ids := strings.Fields(string(out))
	if len(ids) != 2 {
		t.Fatalf("helper printed %q", out)
	}
	sb, id := ids[0], ids[1]

	rt := f.env.open(t) // the restarted owner
	ctx := f.ctx
	labels := map[string]string{"owner": "crashed-agent"}
	sbs, err := rt.ListPodSandboxes(ctx, &runtime.SandboxFilter{Labels: labels})
	if err != nil || len(sbs) != 1 || sbs[0].ID != sb {
		t.Fatalf("sandboxes after the crash: %+v, %v", sbs, err)
	}
	cs, err := rt.ListContainers(ctx, &runtime.ContainerFilter{Labels: labels})
	if err != nil || len(cs) != 1 || cs[0].ID != id || cs[0].State != runtime.ContainerRunning {
		t.Fatalf("containers after the crash: %+v, %v", cs, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for f.logs(id) != "up\n" {
		if time.Now().After(deadline) {
			t.Fatalf("logs %q", f.logs(id))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out, code := f.exec(id, "echo still here"); code != 0 || out != "still here" {
		t.Fatalf("exec after the crash: %q, %d", out, code)
	}
	if err := rt.StopContainer(ctx, id, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	st, err := rt.ContainerStatus(ctx, id)
	if err != nil || st.State != runtime.ContainerExited || st.ExitCode != 7 {
		t.Fatalf("status after stop: %+v, %v; want Exited with exit code 7", st, err)
	}
	if err := rt.RemovePodSandbox(ctx, sb); err != nil {
		t.Fatal(err)
	}
	if left := f.env.leftovers(); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}
