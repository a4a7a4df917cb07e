package runtimetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/runtime"
)

// Env is one fresh environment for a subtest of the suite.
type Env struct {
	// NewRuntime returns a runtime object over this environment's state.
	// The suite calls it again to model a restart of the process that owns
	// the runtime: the new object must see what the old one created.
	NewRuntime func() runtime.Runtime
	// Image is a reference PullImage can fetch, whose image has the tools
	// Command's argvs need.
	Image string
	// Command turns a Program into an argv for this runtime (for example
	// ShellCommand for a busybox image).
	Command func(Program) []string
	// Leftovers, when set, lists what the environment still holds (state
	// directories, cgroups, mounts, namespaces). After the suite removed
	// every sandbox it must return nothing.
	Leftovers func() []string
}

// Run runs the conformance suite; setup returns a fresh Env per subtest
// and registers its own cleanup with t.Cleanup.
func Run(t *testing.T, setup func(t *testing.T) Env) {
	tests := []struct {
		name string
		fn   func(t *testing.T, h *harness)
	}{
		{"SandboxLifecycle", testSandboxLifecycle},
		{"ContainerLifecycle", testContainerLifecycle},
		{"ExitCodes", testExitCodes},
		{"StopGracePeriod", testStopGracePeriod},
		{"Logs", testLogs},
		{"LogsFollow", testLogsFollow},
		{"Exec", testExec},
		{"ExecCancel", testExecCancel},
		{"Concurrent", testConcurrent},
		{"Stats", testStats},
		{"ListByLabels", testListByLabels},
		{"Errors", testErrors},
		{"RemovalLeavesNothing", testRemoval},
		{"RuntimeRestart", testRestart},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := setup(t)
			h := &harness{t: t, env: env, rt: env.NewRuntime()}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			t.Cleanup(cancel)
			h.ctx = ctx
			t.Cleanup(h.removeAll)
			if _, err := h.rt.PullImage(ctx, env.Image, nil); err != nil {
				t.Fatalf("PullImage(%q): %v", env.Image, err)
			}
			tc.fn(t, h)
		})
	}
}

// harness carries a subtest's runtime and helpers.
type harness struct {
	t   *testing.T
	env Env
	rt  runtime.Runtime
	ctx context.Context
	seq atomic.Int64
}

// removeAll removes every sandbox and container, so a failed subtest leaves
// nothing behind.
func (h *harness) removeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rt := h.env.NewRuntime()
	cs, err := rt.ListContainers(ctx, nil)
	if err != nil {
		h.t.Errorf("cleanup: ListContainers: %v", err)
	}
	for _, c := range cs {
		if err := rt.RemoveContainer(ctx, c.ID); err != nil {
			h.t.Errorf("cleanup: RemoveContainer(%s): %v", c.ID, err)
		}
	}
	sbs, err := rt.ListPodSandboxes(ctx, nil)
	if err != nil {
		h.t.Errorf("cleanup: ListPodSandboxes: %v", err)
	}
	for _, sb := range sbs {
		if err := rt.RemovePodSandbox(ctx, sb.ID); err != nil {
			h.t.Errorf("cleanup: RemovePodSandbox(%s): %v", sb.ID, err)
		}
	}
}

func (h *harness) sandbox(labels map[string]string) string {
	h.t.Helper()
	n := h.seq.Add(1)
	id, err := h.rt.RunPodSandbox(h.ctx, &runtime.SandboxConfig{
		Name: fmt.Sprintf("pod-%d", n), Namespace: "default", UID: fmt.Sprintf("uid-%d", n),
		Labels: labels,
	})
	if err != nil {
		h.t.Fatalf("RunPodSandbox: %v", err)
	}
	return id
}

func (h *harness) create(sandboxID, name string, p Program, labels map[string]string) string {
	h.t.Helper()
	id, err := h.rt.CreateContainer(h.ctx, sandboxID, &runtime.ContainerConfig{
		Name: name, Image: h.env.Image, Command: h.env.Command(p), Labels: labels,
	})
	if err != nil {
		h.t.Fatalf("CreateContainer(%s): %v", name, err)
	}
	return id
}

func (h *harness) run(sandboxID, name string, p Program) string {
	h.t.Helper()
	id := h.create(sandboxID, name, p, nil)
	if err := h.rt.StartContainer(h.ctx, id); err != nil {
		h.t.Fatalf("StartContainer(%s): %v", name, err)
	}
	return id
}

func (h *harness) status(id string) *runtime.ContainerStatus {
	h.t.Helper()
	st, err := h.rt.ContainerStatus(h.ctx, id)
	if err != nil {
		h.t.Fatalf("ContainerStatus(%s): %v", id, err)
	}
	return st
}

// waitState polls until the container is in state, or fails the test.
func (h *harness) waitState(id string, state runtime.ContainerState) *runtime.ContainerStatus {
	h.t.Helper()
	var st *runtime.ContainerStatus
	eventually(h.t, 30*time.Second, func() bool {
		st = h.status(id)
		return st.State == state
	}, func() string { return fmt.Sprintf("container %s is %s, want %s", id, st.State, state) })
	return st
}

// waitLog polls until the container's stdout log is want: the program
// printed it, so it has installed its signal handling.
func (h *harness) waitLog(id, want string) {
	h.t.Helper()
	var got string
	eventually(h.t, 30*time.Second, func() bool {
		var buf bytes.Buffer
		if err := h.rt.Logs(h.ctx, id, runtime.LogOptions{Stream: runtime.LogStdout}, &buf); err != nil {
			h.t.Fatalf("Logs: %v", err)
		}
		got = buf.String()
		return got == want
	}, func() string { return fmt.Sprintf("container %s logged %q, want %q", id, got, want) })
}

// eventually polls cond every few milliseconds until it holds or timeout
// passes, then fails with msg().
func eventually(t *testing.T, timeout time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for delay := time.Millisecond; ; delay = min(2*delay, 50*time.Millisecond) {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg())
		}
		time.Sleep(delay)
	}
}

var longRunning = Program{Stdout: "running", TrapTERM: true, TermExitCode: 0}

func testSandboxLifecycle(t *testing.T, h *harness) {
	ctx := h.ctx
	cfg := &runtime.SandboxConfig{Name: "web", Namespace: "ns1", UID: "u1", Labels: map[string]string{"app": "web"}}
	id, err := h.rt.RunPodSandbox(ctx, cfg)
	if err != nil {
		t.Fatalf("RunPodSandbox: %v", err)
	}
	if _, err := h.rt.RunPodSandbox(ctx, cfg); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Fatalf("second RunPodSandbox: got %v, want ErrAlreadyExists", err)
	}
	st, err := h.rt.PodSandboxStatus(ctx, id)
	if err != nil {
		t.Fatalf("PodSandboxStatus: %v", err)
	}
	if st.ID != id || st.Name != "web" || st.Namespace != "ns1" || st.UID != "u1" || st.State != runtime.SandboxReady || st.Labels["app"] != "web" || st.CreatedAt.IsZero() {
		t.Fatalf("PodSandboxStatus = %+v", st)
	}
	if st.NetNSPath == "" {
		t.Errorf("sandbox has no network namespace path")
	}
	c := h.run(id, "main", longRunning)
	h.waitState(c, runtime.ContainerRunning)
	if err := h.rt.StopPodSandbox(ctx, id); err != nil {
		t.Fatalf("StopPodSandbox: %v", err)
	}
	if st, err := h.rt.PodSandboxStatus(ctx, id); err != nil || st.State != runtime.SandboxNotReady {
		t.Fatalf("after stop: %+v, %v; want NotReady", st, err)
	}
	if cs := h.status(c); cs.State != runtime.ContainerExited {
		t.Fatalf("container after StopPodSandbox is %s, want Exited", cs.State)
	}
	if err := h.rt.StopPodSandbox(ctx, id); err != nil {
		t.Fatalf("second StopPodSandbox: %v", err)
	}
	if _, err := h.rt.CreateContainer(ctx, id, &runtime.ContainerConfig{Name: "late", Image: h.env.Image, Command: h.env.Command(longRunning)}); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("CreateContainer in stopped sandbox: got %v, want ErrFailedPrecondition", err)
	}
	if err := h.rt.RemovePodSandbox(ctx, id); err != nil {
		t.Fatalf("RemovePodSandbox: %v", err)
	}
	if _, err := h.rt.PodSandboxStatus(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("status after remove: got %v, want ErrNotFound", err)
	}
	if _, err := h.rt.ContainerStatus(ctx, c); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("container status after sandbox remove: got %v, want ErrNotFound", err)
	}
	if err := h.rt.RemovePodSandbox(ctx, id); err != nil {
		t.Fatalf("second RemovePodSandbox: %v", err)
	}
}

func testContainerLifecycle(t *testing.T, h *harness) {
	sb := h.sandbox(nil)
	before := time.Now().Add(-time.Second)
	id := h.create(sb, "main", longRunning, map[string]string{"role": "main"})
	st := h.status(id)
	if st.State != runtime.ContainerCreated || st.SandboxID != sb || st.Name != "main" || st.Image != h.env.Image || st.ImageID == "" || st.Labels["role"] != "main" {
		t.Fatalf("status after create = %+v", st)
	}
	if !st.StartedAt.IsZero() || st.Pid != 0 {
		t.Fatalf("created container has start time %v or pid %d", st.StartedAt, st.Pid)
	}
	if err := h.rt.StartContainer(h.ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	st = h.waitState(id, runtime.ContainerRunning)
	h.waitLog(id, "running\n")
	if st.Pid <= 0 || st.StartedAt.Before(before) {
		t.Fatalf("running status = %+v", st)
	}
	if err := h.rt.StartContainer(h.ctx, id); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("second StartContainer: got %v, want ErrFailedPrecondition", err)
	}
	if err := h.rt.StopContainer(h.ctx, id, 10*time.Second); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	st = h.status(id)
	if st.State != runtime.ContainerExited || st.ExitCode != 0 || st.FinishedAt.Before(st.StartedAt) {
		t.Fatalf("stopped status = %+v", st)
	}
	if err := h.rt.StopContainer(h.ctx, id, time.Second); err != nil {
		t.Fatalf("StopContainer of exited container: %v", err)
	}
	if err := h.rt.RemoveContainer(h.ctx, id); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	if _, err := h.rt.ContainerStatus(h.ctx, id); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("status after remove: got %v, want ErrNotFound", err)
	}
	if err := h.rt.RemoveContainer(h.ctx, id); err != nil {
		t.Fatalf("second RemoveContainer: %v", err)
	}
}

func testExitCodes(t *testing.T, h *harness) {
	sb := h.sandbox(nil)
	for _, tc := range []struct {
		name   string
		code   int
		reason string
	}{
		{"zero", 0, "Completed"},
		{"three", 3, "Error"},
		{"big", 101, "Error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := h.run(sb, "exit-"+tc.name, Program{Exit: true, ExitCode: tc.code})
			st := h.waitState(id, runtime.ContainerExited)
			if st.ExitCode != tc.code || st.Reason != tc.reason {
				t.Fatalf("exit code %d reason %q, want %d %q", st.ExitCode, st.Reason, tc.code, tc.reason)
			}
			if st.StartedAt.IsZero() || st.FinishedAt.Before(st.StartedAt) {
				t.Fatalf("times: started %v finished %v", st.StartedAt, st.FinishedAt)
			}
		})
	}
}

func testStopGracePeriod(t *testing.T, h *harness) {
	sb := h.sandbox(nil)
	for _, tc := range []struct {
		name     string
		prog     Program
		grace    time.Duration
		wantCode int
		slow     bool // the stop must wait out the grace period
	}{
		{"TrapsTERM", Program{Stdout: "ready", TrapTERM: true, TermExitCode: 42}, 20 * time.Second, 42, false},
		{"IgnoresTERM", Program{Stdout: "ready", IgnoreTERM: true}, 500 * time.Millisecond, 137, true},
		{"ZeroGraceKills", Program{Stdout: "ready", TrapTERM: true, TermExitCode: 42}, 0, 137, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := h.run(sb, strings.ToLower(tc.name), tc.prog)
			h.waitState(id, runtime.ContainerRunning)
			h.waitLog(id, "ready\n")
			start := time.Now()
			if err := h.rt.StopContainer(h.ctx, id, tc.grace); err != nil {
				t.Fatalf("StopContainer: %v", err)
			}
			took := time.Since(start)
			st := h.status(id)
			if st.State != runtime.ContainerExited || st.ExitCode != tc.wantCode {
				t.Fatalf("after stop: state %s exit %d, want Exited %d", st.State, st.ExitCode, tc.wantCode)
			}
			if tc.slow && took < tc.grace {
				t.Fatalf("stop took %v, less than the grace period %v", took, tc.grace)
			}
			if !tc.slow && tc.grace > 0 && took >= tc.grace {
				t.Fatalf("stop took %v: SIGTERM was not delivered or not waited for", took)
			}
		})
	}
}

func readLogs(t *testing.T, h *harness, id string, opts runtime.LogOptions) string {
	t.Helper()
	var buf bytes.Buffer
	if err := h.rt.Logs(h.ctx, id, opts, &buf); err != nil {
		t.Fatalf("Logs: %v", err)
	}
	return buf.String()
}

func testLogs(t *testing.T, h *harness) {
	sb := h.sandbox(nil)
	id := h.run(sb, "talker", Program{Stdout: "out1", Stderr: "err1", Exit: true, ExitCode: 0})
	h.waitState(id, runtime.ContainerExited)
	if got := readLogs(t, h, id, runtime.LogOptions{Stream: runtime.LogStdout}); got != "out1\n" {
		t.Errorf("stdout log = %q, want %q", got, "out1\n")
	}
	if got := readLogs(t, h, id, runtime.LogOptions{Stream: runtime.LogStderr}); got != "err1\n" {
		t.Errorf("stderr log = %q, want %q", got, "err1\n")
	}
	if got := readLogs(t, h, id, runtime.LogOptions{}); got != "out1\nerr1\n" {
		t.Errorf("both logs = %q, want stdout then stderr", got)
	}
	if err := h.rt.Logs(h.ctx, "missing", runtime.LogOptions{}, &bytes.Buffer{}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("Logs of a missing container: got %v, want ErrNotFound", err)
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func testLogsFollow(t *testing.T, h *harness) {
	sb := h.sandbox(nil)
	t.Run("UntilExit", func(t *testing.T) {
		id := h.create(sb, "slow", Program{Stdout: "hello", Exit: true, RunFor: 700 * time.Millisecond, ExitCode: 0}, nil)
		var buf syncBuffer
		done := make(chan error, 1)
		go func() {
			done <- h.rt.Logs(h.ctx, id, runtime.LogOptions{Follow: true, Stream: runtime.LogStdout}, &buf)
		}()
		if err := h.rt.StartContainer(h.ctx, id); err != nil {
			t.Fatalf("StartContainer: %v", err)
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Logs follow: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Logs with Follow did not return after the container exited")
		}
		if st := h.status(id); st.State != runtime.ContainerExited {
			t.Fatalf("follow returned while the container is %s", st.State)
		}
		if got := buf.String(); got != "hello\n" {
			t.Fatalf("followed log = %q, want %q", got, "hello\n")
		}
	})
	t.Run("UntilCancel", func(t *testing.T) {
		id := h.run(sb, "forever", Program{Stdout: "tick", TrapTERM: true})
		ctx, cancel := context.WithCancel(h.ctx)
		defer cancel()
		var buf syncBuffer
		done := make(chan error, 1)
		go func() { done <- h.rt.Logs(ctx, id, runtime.LogOptions{Follow: true}, &buf) }()
		eventually(t, 30*time.Second, func() bool { return buf.String() == "tick\n" },
			func() string { return fmt.Sprintf("followed log = %q, want %q", buf.String(), "tick\n") })
		select {
		case err := <-done:
			t.Fatalf("Logs with Follow returned (%v) while the container runs", err)
		default:
		}
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Logs after cancel: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Logs with Follow did not return after cancel")
		}
	})
}

func testExec(t *testing.T, h *harness) {
	sb := h.sandbox(nil)
	id := h.run(sb, "target", longRunning)
	h.waitState(id, runtime.ContainerRunning)
	t.Run("OutputAndExitCode", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code, err := h.rt.Exec(h.ctx, id, runtime.ExecRequest{
			Cmd:    h.env.Command(Program{Stdout: "hi", Stderr: "oops", Exit: true, ExitCode: 7}),
			Stdout: &out, Stderr: &errOut,
		})
		if err != nil {
			t.Fatalf("Exec: %v", err)
		}
		if code != 7 || out.String() != "hi\n" || errOut.String() != "oops\n" {
			t.Fatalf("Exec = %d, stdout %q, stderr %q; want 7, %q, %q", code, out.String(), errOut.String(), "hi\n", "oops\n")
		}
	})
	t.Run("Stdin", func(t *testing.T) {
		var out bytes.Buffer
		code, err := h.rt.Exec(h.ctx, id, runtime.ExecRequest{
			Cmd:   h.env.Command(Program{EchoStdin: true, Exit: true}),
			Stdin: strings.NewReader("ping\n"), Stdout: &out,
		})
		if err != nil || code != 0 || out.String() != "ping\n" {
			t.Fatalf("Exec with stdin = %d, %q, %v; want 0, %q", code, out.String(), err, "ping\n")
		}
	})
	t.Run("NotFoundCommand", func(t *testing.T) {
		code, err := h.rt.Exec(h.ctx, id, runtime.ExecRequest{Cmd: []string{"/no/such/command"}})
		if err == nil && code == 0 {
			t.Fatal("Exec of a missing command succeeded")
		}
	})
	t.Run("NotRunning", func(t *testing.T) {
		done := h.run(sb, "done", Program{Exit: true})
		h.waitState(done, runtime.ContainerExited)
		_, err := h.rt.Exec(h.ctx, done, runtime.ExecRequest{Cmd: h.env.Command(Program{Exit: true})})
		if !errors.Is(err, runtime.ErrFailedPrecondition) {
			t.Fatalf("Exec in exited container: got %v, want ErrFailedPrecondition", err)
		}
		_, err = h.rt.Exec(h.ctx, "missing", runtime.ExecRequest{Cmd: h.env.Command(Program{Exit: true})})
		if !errors.Is(err, runtime.ErrNotFound) {
			t.Fatalf("Exec in missing container: got %v, want ErrNotFound", err)
		}
	})
}

func testExecCancel(t *testing.T, h *harness) {
	sb := h.sandbox(nil)
	id := h.run(sb, "target", longRunning)
	h.waitState(id, runtime.ContainerRunning)
	// Cancel once the command has printed, so it is surely running.
	ctx, cancel := context.WithCancel(h.ctx)
	defer cancel()
	out := &cancelOnOutput{want: "started\n", cancel: cancel}
	start := time.Now()
	code, err := h.rt.Exec(ctx, id, runtime.ExecRequest{
		Cmd:    h.env.Command(Program{Stdout: "started", IgnoreTERM: true}),
		Stdout: out,
	})
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("Exec returned %v after it started; its context ended", took)
	}
	if err == nil && code == 0 {
		t.Fatalf("a killed exec reports success")
	}
	if got := out.String(); got != "started\n" {
		t.Errorf("output before the kill = %q", got)
	}
	// The container itself keeps running.
	if st := h.status(id); st.State != runtime.ContainerRunning {
		t.Fatalf("container is %s after a cancelled exec", st.State)
	}
}

// cancelOnOutput calls cancel once the output written to it equals want.
type cancelOnOutput struct {
	syncBuffer
	want   string
	cancel context.CancelFunc
}

func (c *cancelOnOutput) Write(p []byte) (int, error) {
	n, err := c.syncBuffer.Write(p)
	if c.String() == c.want {
		c.cancel()
	}
	return n, err
}

func testConcurrent(t *testing.T, h *harness) {
	const pods = 6
	var wg sync.WaitGroup
	ids := make([]string, pods)
	errs := make([]error, pods)
	for i := range pods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sb, err := h.rt.RunPodSandbox(h.ctx, &runtime.SandboxConfig{Name: fmt.Sprintf("par-%d", i), Namespace: "default", Labels: map[string]string{"batch": "par"}})
			if err != nil {
				errs[i] = err
				return
			}
			id, err := h.rt.CreateContainer(h.ctx, sb, &runtime.ContainerConfig{Name: "c", Image: h.env.Image, Command: h.env.Command(longRunning)})
			if err != nil {
				errs[i] = err
				return
			}
			ids[i] = id
			errs[i] = h.rt.StartContainer(h.ctx, id)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("pod %d: %v", i, err)
		}
	}
	running, err := h.rt.ListContainers(h.ctx, &runtime.ContainerFilter{State: runtime.ContainerRunning})
	if err != nil || len(running) != pods {
		t.Fatalf("running containers = %d, %v; want %d", len(running), err, pods)
	}
	sbs, err := h.rt.ListPodSandboxes(h.ctx, &runtime.SandboxFilter{Labels: map[string]string{"batch": "par"}})
	if err != nil || len(sbs) != pods {
		t.Fatalf("sandboxes = %d, %v; want %d", len(sbs), err, pods)
	}
	for i, sb := range sbs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = h.rt.RemovePodSandbox(h.ctx, sb.ID)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("remove pod %d: %v", i, err)
		}
	}
	if cs, err := h.rt.ListContainers(h.ctx, nil); err != nil || len(cs) != 0 {
		t.Fatalf("containers left: %d, %v", len(cs), err)
	}
	if h.env.Leftovers != nil {
		if left := h.env.Leftovers(); len(left) > 0 {
			t.Errorf("concurrent removal left behind:\n%s", strings.Join(left, "\n"))
		}
	}
}

func testStats(t *testing.T, h *harness) {
	sb := h.sandbox(nil)
	id := h.run(sb, "busy", longRunning)
	h.waitState(id, runtime.ContainerRunning)
	st, err := h.rt.ContainerStats(h.ctx, id)
	if err != nil {
		t.Fatalf("ContainerStats: %v", err)
	}
	if st.CPUUsageNanos == 0 || st.MemoryWorkingSetBytes == 0 || st.Timestamp.IsZero() {
		t.Fatalf("stats = %+v, want CPU and memory usage", st)
	}
	if st.MemoryWorkingSetBytes > st.MemoryUsageBytes {
		t.Fatalf("working set %d above usage %d", st.MemoryWorkingSetBytes, st.MemoryUsageBytes)
	}
	if err := h.rt.StopContainer(h.ctx, id, 0); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	if _, err := h.rt.ContainerStats(h.ctx, id); !errors.Is(err, runtime.ErrFailedPrecondition) {
		t.Fatalf("stats of an exited container: got %v, want ErrFailedPrecondition", err)
	}
}

func testListByLabels(t *testing.T, h *harness) {
	ctx := h.ctx
	sbA := h.sandbox(map[string]string{"owner": "agent", "pod": "a"})
	sbB := h.sandbox(map[string]string{"owner": "agent", "pod": "b"})
	sbC := h.sandbox(map[string]string{"owner": "other"})
	ca := h.create(sbA, "c", longRunning, map[string]string{"owner": "agent", "pod": "a"})
	cb := h.create(sbB, "c", longRunning, map[string]string{"owner": "agent", "pod": "b"})
	h.create(sbC, "c", longRunning, map[string]string{"owner": "other"})
	if err := h.rt.StartContainer(ctx, ca); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	h.waitState(ca, runtime.ContainerRunning)

	sbs, err := h.rt.ListPodSandboxes(ctx, &runtime.SandboxFilter{Labels: map[string]string{"owner": "agent"}})
	if err != nil {
		t.Fatalf("ListPodSandboxes: %v", err)
	}
	if got := sandboxIDs(sbs); !sameSet(got, []string{sbA, sbB}) {
		t.Errorf("sandboxes owned by agent = %v, want %v", got, []string{sbA, sbB})
	}
	all, err := h.rt.ListPodSandboxes(ctx, nil)
	if err != nil || len(all) != 3 {
		t.Errorf("ListPodSandboxes(nil) = %d sandboxes, %v; want 3", len(all), err)
	}
	for _, tc := range []struct {
		name   string
		filter *runtime.ContainerFilter
		want   []string
	}{
		{"label", &runtime.ContainerFilter{Labels: map[string]string{"owner": "agent"}}, []string{ca, cb}},
		{"two labels", &runtime.ContainerFilter{Labels: map[string]string{"owner": "agent", "pod": "b"}}, []string{cb}},
		{"sandbox", &runtime.ContainerFilter{SandboxID: sbA}, []string{ca}},
		{"state", &runtime.ContainerFilter{State: runtime.ContainerRunning}, []string{ca}},
		{"id", &runtime.ContainerFilter{ID: cb}, []string{cb}},
		{"no match", &runtime.ContainerFilter{Labels: map[string]string{"owner": "nobody"}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := h.rt.ListContainers(ctx, tc.filter)
			if err != nil {
				t.Fatalf("ListContainers: %v", err)
			}
			if got := containerIDs(cs); !sameSet(got, tc.want) {
				t.Fatalf("ListContainers(%+v) = %v, want %v", tc.filter, got, tc.want)
			}
		})
	}
}

func sandboxIDs(sbs []*runtime.SandboxStatus) []string {
	var ids []string
	for _, s := range sbs {
		ids = append(ids, s.ID)
	}
	return ids
}

func containerIDs(cs []*runtime.ContainerStatus) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, s := range a {
		m[s]++
	}
	for _, s := range b {
		m[s]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func testErrors(t *testing.T, h *harness) {
	ctx := h.ctx
	sb := h.sandbox(nil)
	cmd := h.env.Command(longRunning)
	if _, err := h.rt.CreateContainer(ctx, "missing", &runtime.ContainerConfig{Name: "x", Image: h.env.Image, Command: cmd}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("CreateContainer in a missing sandbox: got %v, want ErrNotFound", err)
	}
	if _, err := h.rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "x", Image: "not-pulled.invalid/none:1", Command: cmd}); !errors.Is(err, runtime.ErrNotFound) {
		t.Errorf("CreateContainer from a missing image: got %v, want ErrNotFound", err)
	}
	if _, err := h.rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Image: h.env.Image, Command: cmd}); !errors.Is(err, runtime.ErrInvalid) {
		t.Errorf("CreateContainer without a name: got %v, want ErrInvalid", err)
	}
	h.create(sb, "dup", longRunning, nil)
	if _, err := h.rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "dup", Image: h.env.Image, Command: cmd}); !errors.Is(err, runtime.ErrAlreadyExists) {
		t.Errorf("second CreateContainer with the same name: got %v, want ErrAlreadyExists", err)
	}
	if _, err := h.rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "dup", Attempt: 1, Image: h.env.Image, Command: cmd}); err != nil {
		t.Errorf("CreateContainer of the next attempt: %v", err)
	}
	for name, err := range map[string]error{
		"StartContainer":  h.rt.StartContainer(ctx, "missing"),
		"StopContainer":   h.rt.StopContainer(ctx, "missing", 0),
		"StopPodSandbox":  h.rt.StopPodSandbox(ctx, "missing"),
		"ContainerStatus": second(h.rt.ContainerStatus(ctx, "missing")),
		"ContainerStats":  second(h.rt.ContainerStats(ctx, "missing")),
		"ImageStatus":     second(h.rt.ImageStatus(ctx, "not-pulled.invalid/none:1")),
	} {
		if !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("%s of a missing object: got %v, want ErrNotFound", name, err)
		}
	}
	img, err := h.rt.ImageStatus(ctx, h.env.Image)
	if err != nil || img.ID == "" {
		t.Fatalf("ImageStatus(%q) = %+v, %v", h.env.Image, img, err)
	}
	imgs, err := h.rt.ListImages(ctx)
	if err != nil || len(imgs) == 0 {
		t.Fatalf("ListImages = %v, %v", imgs, err)
	}
}

func second[T any](_ T, err error) error { return err }

func testRemoval(t *testing.T, h *harness) {
	ctx := h.ctx
	sb := h.sandbox(nil)
	running := h.run(sb, "running", longRunning)
	h.waitState(running, runtime.ContainerRunning)
	exited := h.run(sb, "exited", Program{Stdout: "bye", Exit: true})
	h.waitState(exited, runtime.ContainerExited)
	created := h.create(sb, "created", longRunning, nil)

	// A running container is killed by RemoveContainer.
	if err := h.rt.RemoveContainer(ctx, running); err != nil {
		t.Fatalf("RemoveContainer(running): %v", err)
	}
	if err := h.rt.RemoveContainer(ctx, exited); err != nil {
		t.Fatalf("RemoveContainer(exited): %v", err)
	}
	// The sandbox takes its remaining container with it.
	if err := h.rt.RemovePodSandbox(ctx, sb); err != nil {
		t.Fatalf("RemovePodSandbox: %v", err)
	}
	for _, id := range []string{running, exited, created} {
		if _, err := h.rt.ContainerStatus(ctx, id); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("ContainerStatus(%s) after removal: got %v, want ErrNotFound", id, err)
		}
	}
	if cs, err := h.rt.ListContainers(ctx, nil); err != nil || len(cs) != 0 {
		t.Errorf("ListContainers after removal = %d, %v", len(cs), err)
	}
	if sbs, err := h.rt.ListPodSandboxes(ctx, nil); err != nil || len(sbs) != 0 {
		t.Errorf("ListPodSandboxes after removal = %d, %v", len(sbs), err)
	}
	if h.env.Leftovers != nil {
		if left := h.env.Leftovers(); len(left) > 0 {
			t.Errorf("removal left behind:\n%s", strings.Join(left, "\n"))
		}
	}
}

func testRestart(t *testing.T, h *harness) {
	ctx := h.ctx
	labels := map[string]string{"owner": "agent"}
	sb := h.sandbox(labels)
	id := h.create(sb, "survivor", Program{Stdout: "alive", TrapTERM: true, TermExitCode: 5}, labels)
	if err := h.rt.StartContainer(ctx, id); err != nil {
		t.Fatalf("StartContainer: %v", err)
	}
	h.waitState(id, runtime.ContainerRunning)
	h.waitLog(id, "alive\n")
	created := h.create(sb, "waiting", longRunning, labels)

	// A new runtime object over the same state, as after a restart.
	rt2 := h.env.NewRuntime()
	sbs, err := rt2.ListPodSandboxes(ctx, &runtime.SandboxFilter{Labels: labels})
	if err != nil || len(sbs) != 1 || sbs[0].ID != sb || sbs[0].State != runtime.SandboxReady {
		t.Fatalf("restarted runtime lists sandboxes %+v, %v; want %s Ready", sbs, err, sb)
	}
	cs, err := rt2.ListContainers(ctx, &runtime.ContainerFilter{Labels: labels})
	if err != nil {
		t.Fatalf("ListContainers: %v", err)
	}
	states := map[string]runtime.ContainerState{}
	for _, c := range cs {
		states[c.ID] = c.State
	}
	if len(cs) != 2 || states[id] != runtime.ContainerRunning || states[created] != runtime.ContainerCreated {
		t.Fatalf("restarted runtime lists %v; want %s Running and %s Created", states, id, created)
	}
	var out bytes.Buffer
	if err := rt2.Logs(ctx, id, runtime.LogOptions{Stream: runtime.LogStdout}, &out); err != nil || out.String() != "alive\n" {
		t.Fatalf("Logs through the restarted runtime = %q, %v", out.String(), err)
	}
	if code, err := rt2.Exec(ctx, id, runtime.ExecRequest{Cmd: h.env.Command(Program{Exit: true, ExitCode: 4})}); err != nil || code != 4 {
		t.Fatalf("Exec through the restarted runtime = %d, %v; want 4", code, err)
	}
	if err := rt2.StopContainer(ctx, id, 20*time.Second); err != nil {
		t.Fatalf("StopContainer through the restarted runtime: %v", err)
	}
	st, err := rt2.ContainerStatus(ctx, id)
	if err != nil || st.State != runtime.ContainerExited {
		t.Fatalf("status after stop = %+v, %v", st, err)
	}
	if err := rt2.RemovePodSandbox(ctx, sb); err != nil {
		t.Fatalf("RemovePodSandbox through the restarted runtime: %v", err)
	}
	if cs, err := rt2.ListContainers(ctx, nil); err != nil || len(cs) != 0 {
		t.Fatalf("containers left: %d, %v", len(cs), err)
	}
	if h.env.Leftovers != nil {
		if left := h.env.Leftovers(); len(left) > 0 {
			t.Errorf("removal through the restarted runtime left behind:\n%s", strings.Join(left, "\n"))
		}
	}
}
