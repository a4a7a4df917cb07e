package agent_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/cni"
	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// The test binary is re-executed as each container's init.
func init() { libcontainer.Init() }

// realEnv is an in-process control plane (memstore) and an agent on the
// libcontainer runtime, with a state dir and cgroup root of its own.
type realEnv struct {
	t          *testing.T
	store      store.Store
	pods       store.Typed[*api.Pod]
	rt         *libcontainer.Runtime
	stateDir   string
	rootDir    string
	cgroupRoot string
	image      string
	network    network.PodNetwork
	stop       func()
}

func newRealEnv(t *testing.T, net network.PodNetwork) *realEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the end-to-end test runs real containers and needs root")
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	e := &realEnv{
		t: t, store: memstore.New(), stateDir: t.TempDir(), rootDir: t.TempDir(),
		cgroupRoot: "/coxswain-agent-e2e-" + hex.EncodeToString(b[:]),
		image:      imagetest.BusyboxRef(t), network: net,
	}
	e.pods = store.For[*api.Pod](e.store)
	t.Cleanup(e.cleanup)
	e.start()
	return e
}

// start opens the runtime over the state dir and starts an agent.
func (e *realEnv) start() {
	e.t.Helper()
	rt, err := libcontainer.New(libcontainer.Config{StateDir: e.stateDir, CgroupRoot: e.cgroupRoot,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		e.t.Fatal(err)
	}
	e.rt = rt
	cfg := testConfig(e.t, e.store, rt)
	cfg.RootDir = e.rootDir
	cfg.SyncPeriod = 50 * time.Millisecond
	cfg.Network = e.network
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Start(ctx) }()
	stopped := false
	e.stop = func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				e.t.Errorf("agent: %v", err)
			}
		}
	}
	e.t.Cleanup(e.stop)
}

// leftovers lists what the runtime and the agent still hold on the host.
func (e *realEnv) leftovers() []string {
	var out []string
	for _, sub := range []string{"sandboxes", "containers", "libcontainer", "logs"} {
		entries, _ := os.ReadDir(filepath.Join(e.stateDir, sub))
		for _, en := range entries {
			out = append(out, "state: "+filepath.Join(sub, en.Name()))
		}
	}
	for _, d := range []string{"pods", "netns"} {
		entries, _ := os.ReadDir(filepath.Join(e.rootDir, d))
		for _, en := range entries {
			out = append(out, "agent: "+filepath.Join(d, en.Name()))
		}
	}
	for _, m := range mountsUnder(e.stateDir, e.rootDir) {
		out = append(out, "mount: "+m)
	}
	for _, d := range cgroupDirs(e.cgroupRoot) {
		out = append(out, "cgroup: "+d)
	}
	return out
}

// mountsUnder lists the mount points below dirs in the calling thread's
// mount namespace. Not /proc/self: runc's libcontainer joins each new
// container's mount namespace on a locked thread it never unlocks, and when
// that thread is the main one (which Go cannot end) the thread group
// leader, and so /proc/self/mountinfo, stays in the container's namespace.
func mountsUnder(dirs ...string) []string {
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		for _, d := range dirs {
			if len(fields) > 4 && strings.HasPrefix(fields[4], d+"/") {
				out = append(out, fields[4])
			}
		}
	}
	return out
}

// cgroupDirs lists the directories below root in every cgroup hierarchy.
func cgroupDirs(root string) []string {
	hier := []string{"/sys/fs/cgroup"}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		entries, _ := os.ReadDir("/sys/fs/cgroup")
		for _, en := range entries {
			if en.IsDir() {
				hier = append(hier, filepath.Join("/sys/fs/cgroup", en.Name()))
			}
		}
	}
	var out []string
	for _, h := range hier {
		r := filepath.Join(h, root)
		_ = filepath.WalkDir(r, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && p != r {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

// cleanup stops the agent, kills what a failed test left and removes the
// cgroup root.
func (e *realEnv) cleanup() {
	e.stop()
	ctx := context.Background()
	if sbs, err := e.rt.ListPodSandboxes(ctx, nil); err == nil {
		for _, sb := range sbs {
			_ = e.rt.RemovePodSandbox(ctx, sb.ID)
		}
	}
	for _, m := range mountsUnder(e.stateDir, e.rootDir) {
		_ = unix.Unmount(m, unix.MNT_DETACH)
	}
	dirs := cgroupDirs(e.cgroupRoot)
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Remove(dirs[i])
	}
	for _, d := range append(cgroupDirs("/"), "/sys/fs/cgroup") {
		if filepath.Base(d) == filepath.Base(e.cgroupRoot) {
			_ = os.Remove(d)
		}
	}
}

func (e *realEnv) waitPod(name, what string, cond func(*api.Pod) bool) *api.Pod {
	e.t.Helper()
	var p *api.Pod
	eventually(e.t, name+" "+what, func() (bool, string) {
		var err error
		p, err = e.pods.Get(context.Background(), "default", name)
		if err != nil {
			return false, err.Error()
		}
		return cond(p), p.GetStatus().String()
	})
	return p
}

func (e *realEnv) busyboxPod(name, script string) *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &api.PodSpec{
			NodeName: "node-1", TerminationGracePeriodSeconds: 5,
			Containers: []*api.Container{{
				Name: "main", Image: e.image, ImagePullPolicy: "IfNotPresent",
				Command: []string{"sh", "-c", script},
				Env: []*api.EnvVar{{Name: "POD_NAME", ValueFrom: &api.EnvVarSource{
					FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
			}},
		},
	}
}

// loop is a container script that says hello and exits 0 on SIGTERM.
const loop = `echo hello from $POD_NAME; trap 'exit 0' TERM; while true; do sleep 0.1; done`

func TestEndToEndLibcontainer(t *testing.T) {
	e := newRealEnv(t, nil)
	ctx := context.Background()
	p := e.busyboxPod("e2e", loop)
	p.Spec.Containers[0].ReadinessProbe = &api.Probe{PeriodSeconds: 1, Exec: &api.ExecAction{Command: []string{"test", "-d", "/proc/1"}}}
	if _, err := e.pods.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = e.waitPod("e2e", "ready", func(p *api.Pod) bool { return cond(p, agent.PodReady) == "True" })
	cs := containerStatus(p, "main")
	id := strings.TrimPrefix(cs.ContainerId, "coxswain://")

	// Logs.
	eventually(t, "log line", func() (bool, string) {
		var out safeBuffer
		err := e.rt.Logs(ctx, id, runtime.LogOptions{}, &out)
		return err == nil && strings.Contains(out.String(), "hello from e2e"), out.String()
	})
	// Exec, with the container's environment.
	var out safeBuffer
	code, err := e.rt.Exec(ctx, id, runtime.ExecRequest{Cmd: []string{"sh", "-c", "echo $POD_NAME; hostname"}, Stdout: &out, Stderr: &out})
	if err != nil || code != 0 || !strings.HasPrefix(out.String(), "e2e\n") {
		t.Fatalf("exec: code %d err %v out %q", code, err, out.String())
	}
	// Kill the container's process: restarted in place.
	before, err := e.rt.ContainerStatus(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(before.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p = e.waitPod("e2e", "restarted", func(p *api.Pod) bool {
		cs := containerStatus(p, "main")
		return cs.GetRestartCount() == 1 && cs.GetState().GetRunning() != nil
	})
	cs = containerStatus(p, "main")
	if last := cs.GetLastState().GetTerminated(); last.GetExitCode() != 137 {
		t.Errorf("lastState %v, want exit 137", cs.GetLastState())
	}
	after, err := e.rt.ContainerStatus(ctx, strings.TrimPrefix(cs.ContainerId, "coxswain://"))
	if err != nil {
		t.Fatal(err)
	}
	if after.SandboxID != before.SandboxID {
		t.Errorf("restart moved the container to sandbox %s from %s", after.SandboxID, before.SandboxID)
	}
	// Delete: nothing left behind.
	if _, err := e.pods.Delete(ctx, "default", "e2e", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pod released", func() (bool, string) {
		_, err := e.pods.Get(ctx, "default", "e2e")
		return store.IsNotFound(err), "still stored"
	})
	if left := e.leftovers(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestEndToEndAgentKilled cancels the agent while pods start, changes the
// store while it is down, and checks that a new agent (and a new runtime
// handle over the same state) converges and that deleting everything
// leaves nothing behind.
func TestEndToEndAgentKilled(t *testing.T) {
	e := newRealEnv(t, nil)
	ctx := context.Background()
	names := []string{"k1", "k2", "k3", "k4"}
	for _, n := range names {
		if _, err := e.pods.Create(ctx, e.busyboxPod(n, loop)); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "first container", func() (bool, string) {
		ctrs, _ := e.rt.ListContainers(ctx, nil)
		return len(ctrs) >= 1, ""
	})
	e.stop() // mid-flight
	// k1 goes away while no agent runs (released by hand).
	if _, err := e.pods.Delete(ctx, "default", "k1", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pods.Mutate(ctx, "default", "k1", func(p *api.Pod) error { p.Metadata.Finalizers = nil; return nil }); err != nil && !store.IsNotFound(err) {
		t.Fatal(err)
	}
	e.start()
	for _, n := range names[1:] {
		e.waitPod(n, "running", phase(agent.PhaseRunning))
	}
	sbs, err := e.rt.ListPodSandboxes(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sbs) != len(names)-1 {
		t.Errorf("%d sandboxes after restart, want %d", len(sbs), len(names)-1)
	}
	for _, n := range names[1:] {
		if _, err := e.pods.Delete(ctx, "default", n, store.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "all released", func() (bool, string) {
		res, err := e.store.List(ctx, api.KindPod, store.ListOptions{})
		return err == nil && len(res.Items) == 0, "pods remain"
	})
	if left := e.leftovers(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestEndToEndCNI runs a pod on the real CNI plugins in a node network
// namespace the test creates.
func TestEndToEndCNI(t *testing.T) {
	nettest.RequireRoot(t)
	nodeNS := nettest.NetNS(t, "agent-node")
	netw, err := cni.New(cni.Config{PluginDirs: []string{nettest.CNIPluginDir(t)}, NodeNetNS: nodeNS,
		StateDir: filepath.Join(t.TempDir(), "cni"), PodCIDR: "10.123.0.0/24"})
	if err != nil {
		t.Fatal(err)
	}
	e := newRealEnv(t, netw)
	ctx := context.Background()
	if _, err := e.pods.Create(ctx, e.busyboxPod("cni", "mkdir -p /tmp/www && echo ok > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && "+loop)); err != nil {
		t.Fatal(err)
	}
	p := e.waitPod("cni", "running", phase(agent.PhaseRunning))
	if !strings.HasPrefix(p.Status.PodIp, "10.123.0.") {
		t.Fatalf("podIP %q", p.Status.PodIp)
	}
	id := strings.TrimPrefix(containerStatus(p, "main").ContainerId, "coxswain://")
	var out safeBuffer
	if code, err := e.rt.Exec(ctx, id, runtime.ExecRequest{Cmd: []string{"ip", "-4", "addr", "show", "eth0"}, Stdout: &out, Stderr: &out}); err != nil || code != 0 {
		t.Fatalf("exec: %d %v %s", code, err, out.String())
	}
	if !strings.Contains(out.String(), p.Status.PodIp+"/") {
		t.Errorf("eth0 lacks the pod IP %s: %s", p.Status.PodIp, out.String())
	}
	// The node reaches the pod's server.
	eventually(t, "node -> pod", func() (bool, string) {
		err := network.Do(nodeNS, func() error {
			c, err := net.DialTimeout("tcp", net.JoinHostPort(p.Status.PodIp, "8080"), time.Second)
			if err == nil {
				c.Close()
			}
			return err
		})
		return err == nil, fmt.Sprint(err)
	})
	if _, err := e.pods.Delete(ctx, "default", "cni", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pod released", func() (bool, string) {
		_, err := e.pods.Get(ctx, "default", "cni")
		return store.IsNotFound(err), "still stored"
	})
	if left := e.leftovers(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
	if _, err := netw.Check(ctx, network.Sandbox{ID: "any"}); !errors.Is(err, network.ErrNotFound) {
		t.Errorf("network still knows a sandbox: %v", err)
	}
}

// TestEndToEndVolumesAndEnv mounts configMap, secret and emptyDir volumes
// into a real container, reads them (and env from both) inside it, sees a
// ConfigMap update reach the file, and checks deletion unmounts everything.
func TestEndToEndVolumesAndEnv(t *testing.T) {
	e := newRealEnv(t, nil)
	ctx := context.Background()
	if _, err := e.store.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "cfg", Namespace: "default"},
		Data: map[string]string{"greeting": "hi", "app.conf": "v1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Create(ctx, &api.Secret{Metadata: &api.ObjectMeta{Name: "sec", Namespace: "default"},
		Data: map[string][]byte{"password": []byte("s3cret")}}); err != nil {
		t.Fatal(err)
	}
	p := e.busyboxPod("vols", loop)
	c := p.Spec.Containers[0]
	c.Env = append(c.Env,
		&api.EnvVar{Name: "GREETING", ValueFrom: &api.EnvVarSource{ConfigMapKeyRef: &api.ConfigMapKeySelector{Name: "cfg", Key: "greeting"}}},
		&api.EnvVar{Name: "PASSWORD", ValueFrom: &api.EnvVarSource{SecretKeyRef: &api.SecretKeySelector{Name: "sec", Key: "password"}}})
	p.Spec.Volumes = []*api.Volume{
		{Name: "conf", ConfigMap: &api.ConfigMapVolumeSource{Name: "cfg"}},
		{Name: "creds", Secret: &api.SecretVolumeSource{SecretName: "sec"}},
		{Name: "scratch", EmptyDir: &api.EmptyDirVolumeSource{}},
	}
	c.VolumeMounts = []*api.VolumeMount{
		{Name: "conf", MountPath: "/etc/app"},
		{Name: "creds", MountPath: "/etc/creds", ReadOnly: true},
		{Name: "scratch", MountPath: "/scratch"},
	}
	if _, err := e.pods.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	p = e.waitPod("vols", "running", phase(agent.PhaseRunning))
	id := strings.TrimPrefix(containerStatus(p, "main").ContainerId, "coxswain://")
	run := func(script string) string {
		t.Helper()
		var out safeBuffer
		code, err := e.rt.Exec(ctx, id, runtime.ExecRequest{Cmd: []string{"sh", "-c", script}, Stdout: &out, Stderr: &out})
		if err != nil || code != 0 {
			t.Fatalf("exec %q: code %d err %v: %s", script, code, err, out.String())
		}
		return out.String()
	}
	if got := run(`echo "$GREETING $PASSWORD $(cat /etc/app/app.conf) $(cat /etc/creds/password)"; echo x > /scratch/f && cat /scratch/f`); got != "hi s3cret v1 s3cret\nx\n" {
		t.Errorf("inside the container: %q", got)
	}
	if _, err := store.For[*api.ConfigMap](e.store).Mutate(ctx, "default", "cfg", func(cm *api.ConfigMap) error {
		cm.Data["app.conf"] = "v2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "configMap update inside the container", func() (bool, string) {
		var out safeBuffer
		_, err := e.rt.Exec(ctx, id, runtime.ExecRequest{Cmd: []string{"cat", "/etc/app/app.conf"}, Stdout: &out, Stderr: &out})
		return err == nil && out.String() == "v2", out.String()
	})
	if _, err := e.pods.Delete(ctx, "default", "vols", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "pod released", func() (bool, string) {
		_, err := e.pods.Get(ctx, "default", "vols")
		return store.IsNotFound(err), "still stored"
	})
	if left := e.leftovers(); len(left) > 0 {
		t.Errorf("left behind: %v", left)
	}
}
